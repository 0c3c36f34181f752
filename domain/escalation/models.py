"""An approval: an escalation waiting for one leader's decision."""
from datetime import datetime

from sqlalchemy import Column, Index, text
from sqlmodel import Field, SQLModel

from domain.timeutil import UTCDateTime


class Approval(SQLModel, table=True):
    __tablename__ = "approvals"
    __table_args__ = (
        # At most one pending approval per case, whatever races: the database says no to a second.
        Index("uq_approvals_one_pending_per_case", "case_id", unique=True,
              sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'")),
        # The watch's queries: what is due, what awaits its follow-up.
        Index("ix_approvals_pending_due", "status", "due_at"),
        Index("ix_approvals_pending_remind", "status", "reminded_at", "remind_at"),
        Index("ix_approvals_follow_up", "follow_up_pending"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    leader_tier: str = Field(max_length=16)
    approver_id: int = Field(foreign_key="users.id", index=True)
    # pending → approved | returned | escalated (moved one tier up, unanswered)
    status: str = Field(default="pending", max_length=16)
    requested_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    remind_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    due_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    reminded_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    decided_by_id: int | None = Field(default=None, foreign_key="users.id")
    comment: str | None = None
    # Set by a human decision, cleared by the flow once the case has been updated accordingly.
    follow_up_pending: bool = False
    followed_up_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    escalated_from_id: int | None = Field(default=None, foreign_key="approvals.id")
    rule_id: str = Field(max_length=64)
    policy_version: str = Field(max_length=64)
