"""orders carry their official document

Revision ID: 0003
Revises: 0002
Depends on: 0100_documents (the documents table)
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = "0100_documents"


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("document_due", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("document_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_orders_document_due"), ["document_due"], unique=False)
        batch_op.create_foreign_key("fk_orders_document_id_documents", "documents", ["document_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint("fk_orders_document_id_documents", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_orders_document_due"))
        batch_op.drop_column("document_id")
        batch_op.drop_column("document_due")
