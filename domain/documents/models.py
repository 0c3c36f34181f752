"""Official documents (公文) the office issues as PDF: numbered, versioned, verifiable.

A document's number (荆反诈联办〔2026〕12号) comes from `DocumentSequence`, one row per issuing
code and year. A corrected re-issue keeps the number and becomes the next version; the version it
replaces is marked superseded. Every PDF ever handed out for a document is a `DocumentRendition`,
so a copy made before a re-render still verifies.
"""
from datetime import datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from domain.documents.kinds import DOCUMENT_KINDS
from domain.timeutil import UTCDateTime

# kind -> the document's name as printed and shown on the verification page (declared in .kinds)
KIND_NAMES_ZH: dict[str, str] = {k.name: k.name_zh for k in DOCUMENT_KINDS.values()}
KINDS: tuple[str, ...] = tuple(KIND_NAMES_ZH)

STATUSES: tuple[str, ...] = ("in_force", "superseded", "revoked")
STATUS_NAMES_ZH = {"in_force": "有效", "superseded": "已被更正版本替代", "revoked": "已撤销"}


class DocumentSequence(SQLModel, table=True):
    """The last serial handed out per issuing code and year. Issuing locks the row, so serials
    are gap-free and duplicate-free; a rolled-back issue rolls its increment back too."""

    __tablename__ = "document_sequences"

    issuing_code: str = Field(max_length=20, primary_key=True)
    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last_serial: int = 0


class Document(SQLModel, table=True):
    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("issuing_code", "year", "serial", "version", name="uq_documents_number_version"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32, index=True)
    issuing_code: str = Field(max_length=20)
    year: int
    serial: int
    number: str = Field(max_length=40, index=True)  # 荆反诈联办〔2026〕12号
    version: int = 1
    # The version this one corrects; unique: a version is corrected at most once.
    supersedes_id: int | None = Field(default=None, foreign_key="documents.id", unique=True)
    status: str = Field(default="in_force", max_length=16, index=True)
    order_id: int | None = Field(default=None, index=True)  # the order it carries (no FK yet)
    # Set by automatic issuers (flows), e.g. "order:12:supervision_order": issuing twice with the
    # same key returns the first document instead of taking a second number.
    idempotency_key: str | None = Field(default=None, max_length=120, unique=True)
    addressee: str = Field(max_length=200)  # 主送机关
    title: str = Field(max_length=200)
    issued_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    issued_by: str = Field(max_length=64)  # username
    pdf_path: str = Field(max_length=300)  # relative to settings.home
    sha256: str = Field(max_length=64)  # of the current PDF (every one: DocumentRendition)
    verification_code: str = Field(max_length=32, unique=True, index=True)
    # Everything the templates were given besides number, code and date: re-rendering reproduces it.
    content: dict = Field(sa_column=Column(JSON, nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    revoke_reason: str | None = Field(default=None, max_length=500)


class DocumentRendition(SQLModel, table=True):
    """One PDF produced for a document (the first issue, or a re-render), by its SHA-256."""

    __tablename__ = "document_renditions"

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="documents.id", index=True)
    sha256: str = Field(max_length=64, unique=True, index=True)
    size_bytes: int
    rendered_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
