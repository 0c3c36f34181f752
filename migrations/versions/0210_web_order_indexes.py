"""web orders pages: indexes for the office's orders list and the dashboard's overdue orders

Revision ID: 0210_web_order_indexes
Revises: 0003
Create Date: 2026-11-21 08:00:00

Hand-written, on a branch of its own ("web_orders"): `migrate()` upgrades to "heads". After 0003,
whose batch copy of the orders table on SQLite would otherwise have to carry these indexes along.
"""
from alembic import op

revision = "0210_web_order_indexes"
down_revision = "0003"
branch_labels = ("web_orders",)
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_issued_at", ["issued_at", "id"], unique=False)
        batch_op.create_index("ix_orders_open_flags", ["status", "overdue_acknowledge", "overdue_report", "escalated",
                                                       "addressee_unit_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_open_flags")
        batch_op.drop_index("ix_orders_issued_at")
