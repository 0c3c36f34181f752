"""monthly circulation (通报): circulations and their ranking rows, cards, listings; fraud-involved phone cards

Revision ID: 0400_circulation
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

from domain.timeutil import UTCDateTime

revision = "0400_circulation"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "circulations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("policy_version", sa.String(length=64), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["supersedes_id"], ["circulations.id"]),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("month", "version", name="uq_circulations_month_version"),
        sa.UniqueConstraint("supersedes_id"),
    )
    op.create_index("ix_circulations_month", "circulations", ["month"])
    op.create_index("ix_circulations_status", "circulations", ["status"])

    op.create_table(
        "circulation_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("circulation_id", sa.Integer(), nullable=False),
        sa.Column("ranking_id", sa.String(length=32), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("measure", sa.String(length=16), nullable=False),
        sa.Column("rate_per_10k", sa.String(length=24), nullable=True),
        sa.ForeignKeyConstraint(["circulation_id"], ["circulations.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("circulation_id", "ranking_id", "rank", name="uq_circulation_rows_rank"),
    )
    op.create_index("ix_circulation_rows_circulation_id", "circulation_rows", ["circulation_id"])
    op.create_index("ix_circulation_rows_unit_id", "circulation_rows", ["unit_id"])

    op.create_table(
        "circulation_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("colour", sa.String(length=8), nullable=False),
        sa.Column("ranking_id", sa.String(length=32), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("period_start", sa.String(length=7), nullable=False),
        sa.Column("circulation_id", sa.Integer(), nullable=False),
        sa.Column("caused_by", sa.JSON(), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["circulation_id"], ["circulations.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("unit_id", "colour", "month", name="uq_circulation_cards_month"),
    )
    op.create_index("ix_circulation_cards_unit_id", "circulation_cards", ["unit_id"])

    op.create_table(
        "circulation_listings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("listed_month", sa.String(length=7), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("listed_at", UTCDateTime(), nullable=False),
        sa.Column("delisted_month", sa.String(length=7), nullable=True),
        sa.Column("delisted_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["card_id"], ["circulation_cards.id"]),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("card_id"),
    )
    op.create_index("ix_circulation_listings_unit_id", "circulation_listings", ["unit_id"])
    op.create_index("ix_circulation_listings_status", "circulation_listings", ["status"])

    op.create_table(
        "fraud_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone_number", sa.String(length=20), nullable=False),
        sa.Column("selling_unit_id", sa.Integer(), nullable=False),
        sa.Column("sold_on", UTCDateTime(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["selling_unit_id"], ["units.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("phone_number", name="uq_fraud_cards_number"),
    )
    op.create_index("ix_fraud_cards_selling_unit_id", "fraud_cards", ["selling_unit_id"])
    op.create_index("ix_fraud_cards_sold_on", "fraud_cards", ["sold_on"])


def downgrade() -> None:
    op.drop_table("fraud_cards")
    op.drop_table("circulation_listings")
    op.drop_table("circulation_cards")
    op.drop_table("circulation_rows")
    op.drop_table("circulations")
