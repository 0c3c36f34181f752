"""The audit trail: append-only, each entry hash-chained to the one before."""
from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from domain.timeutil import UTCDateTime


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_events"

    seq: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    actor: str = Field(max_length=64)
    action: str = Field(max_length=64, index=True)
    entity_type: str = Field(max_length=32)
    entity_id: int = Field(index=True)
    before: str | None = Field(default=None, sa_column=Column(Text))  # canonical JSON
    after: str | None = Field(default=None, sa_column=Column(Text))
    rule: str | None = Field(default=None, max_length=200)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """One row: the chain's last link. Appends lock it, so the chain is a single line even when
    many transactions append at once on PostgreSQL."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    last_seq: int = 0
    last_hash: str = Field(default="0" * 64, max_length=64)
