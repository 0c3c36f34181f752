"""A cross-department process (倒查, 停业整顿, 内鬼移送, 止付冻结, 惩戒, 劝阻): its state lives here,
and its flow advances it step by step."""
from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from domain.timeutil import UTCDateTime


class Process(SQLModel, table=True):
    __tablename__ = "processes"
    __table_args__ = (UniqueConstraint("kind", "dedupe_key", name="uq_processes_kind_dedupe"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32, index=True)  # a registered kind (domain/processes/registry.py)
    stage: str = Field(max_length=32)  # one of the kind's declared stages; changed by its stage machine
    subject_unit_id: int | None = Field(default=None, foreign_key="units.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    title: str = Field(max_length=200)
    # Starts once per trigger: e.g. "branch 12, 2026Q3" for a reverse audit; NULL when started by hand.
    dedupe_key: str | None = Field(default=None, max_length=128)
    # What the process is about, for look-ups: an account number, a person's ID, an outlet code.
    subject_key: str | None = Field(default=None, max_length=128, index=True)
    # Who reported it (insider referrals: the reporting liaison sees status and outcome only).
    reported_by_unit_id: int | None = Field(default=None, foreign_key="units.id")
    # Sealed from this unit's subtree while open (the implicated employer of an insider referral).
    sealed_from_unit_id: int | None = Field(default=None, foreign_key="units.id")
    data: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))  # JSON, per kind
    started_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    started_by: str = Field(max_length=64)
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # Set when something happened that the process flow must act on; the flow clears it.
    needs_advance: bool = Field(default=True, index=True)
    # A time-based step (e.g. a measure's expiry): the flow looks again at this moment.
    wake_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, index=True))


class FraudAccount(SQLModel, table=True):
    """A fraud-involved bank account, recorded against the branch that opened it (倒查's trigger)."""

    __tablename__ = "fraud_accounts"
    __table_args__ = (UniqueConstraint("account_number", name="uq_fraud_accounts_number"),)

    id: int | None = Field(default=None, primary_key=True)
    account_number: str = Field(max_length=40)
    opening_unit_id: int = Field(foreign_key="units.id", index=True)
    opened_on: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
    case_id: int | None = Field(default=None, foreign_key="cases.id")
    clerk_name: str | None = Field(default=None, max_length=50)
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    recorded_by: str = Field(max_length=64)
