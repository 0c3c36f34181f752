"""A fraud case as the office registers it, and where it stands along 研→交→办→督→结."""
from datetime import datetime

from sqlalchemy import BigInteger, Column, Integer, Text
from sqlmodel import Field, SQLModel

from domain.timeutil import UTCDateTime

# 研、交、办、督、结 (seed 000's closed loop)
STAGES: tuple[str, ...] = ("research", "handover", "handling", "supervision", "closed")
STAGE_NAMES_ZH = {"research": "研", "handover": "交", "handling": "办", "supervision": "督", "closed": "结"}

# none: below every tier; awaiting: an approval is pending; taken: a leader took it (包案);
# returned: the leader sent it back to the office with a comment (the office may correct and resubmit).
ESCALATION_STATES: tuple[str, ...] = ("none", "awaiting", "taken", "returned")
# How the office closed a case (结): solved (破案) or closed unsolved with a reason.
CLOSE_OUTCOMES: tuple[str, ...] = ("solved", "unsolved")


class Case(SQLModel, table=True):
    __tablename__ = "cases"

    id: int | None = Field(default=None, primary_key=True)
    case_number: str = Field(max_length=64, unique=True, index=True)
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    fraud_type: str = Field(max_length=64)
    victim_name: str = Field(max_length=100)
    victim_phone: str = Field(max_length=32)
    area_unit_id: int = Field(foreign_key="units.id", index=True)
    reported_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
    registered_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
    registered_by_id: int = Field(foreign_key="users.id")
    stage: str = Field(default="research", max_length=16, index=True)
    escalation_state: str = Field(default="none", max_length=16, index=True)
    # The tier decision and why: policy version, rule id, basis.
    tier_rule_id: str | None = Field(default=None, max_length=64)
    tier_policy_version: str = Field(max_length=64)
    tier_basis: str | None = None
    leader_id: int | None = Field(default=None, foreign_key="users.id", index=True)  # 包案 leader
    supervised: bool = False  # 挂牌督办
    return_comment: str | None = None
    # The case's result, as the police report it (statistics: 破案, 抓获, 挽损).
    solved_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, index=True))  # 破案
    suspects_caught: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))  # 抓获人数
    recovered_fen: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))  # 挽损
    recovered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, index=True))
    # 结: when, how (CLOSE_OUTCOMES) and in the office's words why; cleared when the case is reopened.
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    close_outcome: str | None = Field(default=None, max_length=16)
    close_reason: str | None = Field(default=None, sa_column=Column(Text))
