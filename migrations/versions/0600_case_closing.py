"""case closing: when a case was closed (结), solved or not, and the reason stated

Revision ID: 0600_case_closing
Revises: 0500_statistics
"""
import sqlalchemy as sa
from alembic import op

from domain.timeutil import UTCDateTime

revision = "0600_case_closing"
down_revision = "0500_statistics"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("closed_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("close_outcome", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("close_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("close_reason")
        batch.drop_column("close_outcome")
        batch.drop_column("closed_at")
