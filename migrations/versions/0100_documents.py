"""documents: numbered, versioned official PDF documents, their number sequences and renditions

Revision ID: 0100_documents
Revises: 0001
Create Date: 2026-11-21 07:30:00

Hand-written, on a branch of its own ("documents"): `migrate()` upgrades to "heads".
`documents.order_id` is a plain column for now (the orders table lives on another branch).
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import domain.timeutil


revision = "0100_documents"
down_revision = "0001"
branch_labels = ("documents",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document_sequences",
        sa.Column("issuing_code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_serial", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("issuing_code", "year"),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("issuing_code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("serial", sa.Integer(), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("addressee", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("issued_at", domain.timeutil.UTCDateTime(), nullable=False),
        sa.Column("issued_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("pdf_path", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("verification_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("revoked_at", domain.timeutil.UTCDateTime(), nullable=True),
        sa.Column("revoke_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.ForeignKeyConstraint(["supersedes_id"], ["documents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("issuing_code", "year", "serial", "version", name="uq_documents_number_version"),
        sa.UniqueConstraint("idempotency_key"),
        sa.UniqueConstraint("supersedes_id"),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_documents_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_documents_number"), ["number"], unique=False)
        batch_op.create_index(batch_op.f("ix_documents_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_documents_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_documents_verification_code"), ["verification_code"], unique=True)

    op.create_table(
        "document_renditions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("rendered_at", domain.timeutil.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("document_renditions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_renditions_document_id"), ["document_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_document_renditions_sha256"), ["sha256"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("document_renditions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_renditions_sha256"))
        batch_op.drop_index(batch_op.f("ix_document_renditions_document_id"))
    op.drop_table("document_renditions")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_documents_verification_code"))
        batch_op.drop_index(batch_op.f("ix_documents_status"))
        batch_op.drop_index(batch_op.f("ix_documents_order_id"))
        batch_op.drop_index(batch_op.f("ix_documents_number"))
        batch_op.drop_index(batch_op.f("ix_documents_kind"))
    op.drop_table("documents")
    op.drop_table("document_sequences")
