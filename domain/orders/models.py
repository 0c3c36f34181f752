"""Orders: tasks from the joint office to a member unit, their evidence, and notices to units."""
import json
from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from domain.timeutil import UTCDateTime

# issued → acknowledged → in_progress → reported → accepted → closed;
# reported → returned (rework) → in_progress/reported …; any open status → cancelled (with a reason).
OPEN_STATUSES: tuple[str, ...] = ("issued", "acknowledged", "in_progress", "reported", "returned")
STATUS_NAMES_ZH = {"issued": "待签收", "acknowledged": "已签收", "in_progress": "办理中", "reported": "已反馈",
                   "accepted": "已验收", "returned": "退回重办", "closed": "已办结", "cancelled": "已撤销"}


class Order(SQLModel, table=True):
    __tablename__ = "orders"
    __table_args__ = (
        # The deadline watch's one query: WHERE next_check_at <= now ORDER BY next_check_at.
        Index("ix_orders_next_check_at", "next_check_at"),
        # A liaison's inbox: their unit's orders by status, newest first.
        Index("ix_orders_addressee_status", "addressee_unit_id", "status", "issued_at"),
        # The office's orders list, newest first (web pages, with 10,000s of orders).
        Index("ix_orders_issued_at", "issued_at", "id"),
        # The dashboard's late and escalated open orders by unit, and the list's "overdue" filter:
        # covered by this index, in its order (domain.orders.overview.overdue).
        Index("ix_orders_open_flags", "status", "overdue_acknowledge", "overdue_report", "escalated",
              "addressee_unit_id"),
        # A process step issues its order once, however often the flow runs.
        UniqueConstraint("process_id", "step_key", name="uq_orders_process_step"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40, index=True)
    title: str = Field(max_length=200)
    instructions: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    addressee_unit_id: int = Field(foreign_key="units.id")
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    process_id: int | None = Field(default=None, foreign_key="processes.id", index=True)
    step_key: str | None = Field(default=None, max_length=64)
    details: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))  # JSON, per kind
    status: str = Field(default="issued", max_length=16, index=True)
    issued_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    issued_by: str = Field(max_length=64)  # username or system actor
    acknowledge_by: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))  # 签收时限
    complete_by: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))  # 办结时限
    acknowledged_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    acknowledged_by_id: int | None = Field(default=None, foreign_key="users.id")
    reported_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    report_text: str | None = Field(default=None, sa_column=Column(Text))
    reported_amount_fen: int | None = Field(default=None, sa_column=Column(BigInteger))  # stopped / frozen
    reviewed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    review_comment: str | None = Field(default=None, sa_column=Column(Text))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    cancelled_reason: str | None = Field(default=None, sa_column=Column(Text))
    overdue_acknowledge: bool = False  # 签收超时
    overdue_report: bool = False  # 办结超时
    reminders: int = 0  # 催办次数
    escalated: bool = False  # 挂牌督办 after the policy's number of reminders
    escalations: int = 0
    # When the deadline watch must look at this order next (NULL once nothing is due from the unit).
    next_check_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # An insider referral is sealed from the implicated unit's subtree while open.
    sealed_from_unit_id: int | None = Field(default=None, foreign_key="units.id")
    policy_version: str = Field(max_length=64)
    # The official document (PDF) that carries the order: due at issue when the kind has one,
    # numbered and rendered by the flow (not in the person's request).
    document_due: bool = Field(default=False, index=True)
    document_id: int | None = Field(default=None, foreign_key="documents.id")

    @property
    def details_dict(self) -> dict:
        return json.loads(self.details or "{}")


class Evidence(SQLModel, table=True):
    __tablename__ = "evidence"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=100)
    size_bytes: int
    sha256: str = Field(max_length=64)
    stored_path: str = Field(max_length=400)
    uploaded_by_id: int = Field(foreign_key="users.id")
    uploaded_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class Notice(SQLModel, table=True):
    """Something a unit must know: a reminder (催办), an escalation, an outcome."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_unit_created", "unit_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="units.id")
    order_id: int | None = Field(default=None, foreign_key="orders.id", index=True)
    kind: str = Field(max_length=32)  # reminder | escalation | outcome
    message: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    read_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
