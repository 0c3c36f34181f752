"""statistics: fraud warnings (预警) and their monthly counts, a case's result (破案, 抓获, 挽损), case report-date index

Revision ID: 0500_statistics
Revises: 0400_circulation
"""
import sqlalchemy as sa
from alembic import op

from domain.timeutil import UTCDateTime

revision = "0500_statistics"
down_revision = "0400_circulation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "warnings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("warning_number", sa.String(length=64), nullable=False),
        sa.Column("area_unit_id", sa.Integer(), nullable=False),
        sa.Column("risk_level", sa.String(length=16), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("handled_at", UTCDateTime(), nullable=True),
        sa.Column("process_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["area_unit_id"], ["units.id"]),
        sa.ForeignKeyConstraint(["process_id"], ["processes.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("warning_number"),
    )
    op.create_index("ix_warnings_received_area_outcome", "warnings", ["received_at", "area_unit_id", "outcome"])
    op.create_table(
        "warning_months",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("area_unit_id", sa.Integer(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("dissuaded", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["area_unit_id"], ["units.id"]),
        sa.PrimaryKeyConstraint("month", "area_unit_id"),
    )
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("solved_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("suspects_caught", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("recovered_fen", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("recovered_at", UTCDateTime(), nullable=True))
    op.create_index("ix_cases_solved_at", "cases", ["solved_at"])
    op.create_index("ix_cases_recovered_at", "cases", ["recovered_at"])
    op.create_index("ix_cases_reported_at", "cases", ["reported_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_reported_at", table_name="cases")
    op.drop_index("ix_cases_recovered_at", table_name="cases")
    op.drop_index("ix_cases_solved_at", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("recovered_at")
        batch.drop_column("recovered_fen")
        batch.drop_column("suspects_caught")
        batch.drop_column("solved_at")
    op.drop_table("warning_months")
    op.drop_index("ix_warnings_received_area_outcome", table_name="warnings")
    op.drop_table("warnings")
