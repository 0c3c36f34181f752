"""JSON shapes of the API. Victim data appears masked; amounts are decimal strings, never floats."""
from datetime import datetime

from typing import Annotated

from annotated_types import Interval
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from domain.cases.models import Case
from domain.cases.service import mask_name, mask_phone
from domain.escalation.models import Approval
from domain.money import format_wan, from_fen


# Row ids are 32-bit integers (PostgreSQL INTEGER). A number outside that range names no row, and
# must not reach the database either (SQLite and psycopg fail on it instead of finding nothing).
MAX_ID = 2_147_483_647
RowId = Annotated[int, Interval(ge=1, le=MAX_ID)]
# An amount as JSON carries it; strict, so that `true` is refused rather than read as 1 yuan.
Amount = StrictStr | StrictInt | StrictFloat


class CaseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {
        "case_number": "JZ-2026-0100", "amount_cny": "280000.00", "fraud_type": "冒充领导",
        "victim_name": "张三", "victim_phone": "13800001234", "area": "jiangling.haoxue",
        "reported_at": "2026-06-09T10:15:00+08:00"}})

    case_number: str = Field(description="案件编号, unique")
    amount_cny: Amount = Field(description='涉案金额 in CNY: "280000.00", "28万" …')
    fraud_type: str
    victim_name: str
    victim_phone: str
    area: RowId | str = Field(description="area unit id or code (county, town or village)")
    reported_at: datetime = Field(description="time of report; without a zone it is Beijing time")


class CaseOut(BaseModel):
    id: int
    case_number: str
    amount_cny: str
    amount_display: str
    fraud_type: str
    victim_name: str
    victim_phone: str
    area_unit_id: int
    reported_at: datetime
    registered_at: datetime
    stage: str
    escalation_state: str
    tier_rule_id: str | None
    tier_policy_version: str
    tier_basis: str | None
    leader_id: int | None
    supervised: bool
    return_comment: str | None
    solved_at: datetime | None = None
    suspects_caught: int = 0
    recovered_cny: str = "0.00"
    closed_at: datetime | None = None
    close_outcome: str | None = Field(None, description="结: solved (破案) | unsolved")
    close_reason: str | None = None

    @classmethod
    def of(cls, case: Case) -> "CaseOut":
        return cls(id=case.id, case_number=case.case_number, amount_cny=str(from_fen(case.amount_fen)),
                   amount_display=format_wan(case.amount_fen), fraud_type=case.fraud_type,
                   victim_name=mask_name(case.victim_name), victim_phone=mask_phone(case.victim_phone),
                   area_unit_id=case.area_unit_id, reported_at=case.reported_at,
                   registered_at=case.registered_at, stage=case.stage, escalation_state=case.escalation_state,
                   tier_rule_id=case.tier_rule_id, tier_policy_version=case.tier_policy_version,
                   tier_basis=case.tier_basis, leader_id=case.leader_id, supervised=case.supervised,
                   return_comment=case.return_comment, solved_at=case.solved_at,
                   suspects_caught=case.suspects_caught, recovered_cny=str(from_fen(case.recovered_fen)),
                   closed_at=case.closed_at, close_outcome=case.close_outcome, close_reason=case.close_reason)


class CaseResultIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {
        "solved_at": "2026-10-20T09:00:00+08:00", "suspects_caught": 3, "recovered_cny": "12万"}})

    solved_at: datetime | None = Field(None, description="破案时间; null: not solved")
    suspects_caught: int = Field(0, ge=0, le=10_000, description="抓获人数")
    recovered_cny: Amount = Field(0, description='挽损金额 in CNY: "120000", "12万" …')


class CaseCloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {
        "outcome": "solved", "solved_at": "2026-10-20T09:00:00+08:00", "suspects_caught": 3, "recovered_cny": "12万"}})

    outcome: str = Field(description="solved (破案) | unsolved (未破, with the reason)")
    reason: str | None = Field(None, max_length=2000, description="未破原因; for a solved case an optional note")
    solved_at: datetime | None = Field(None, description="破案时间; default: the result already recorded")
    suspects_caught: int | None = Field(None, description="抓获人数; default: the result already recorded")
    recovered_cny: Amount | None = Field(None, description="挽损金额; default: the result already recorded")


class CaseReopenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(max_length=2000, description="重新启动的原因")


class CaseResubmitIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"amount_cny": "52万"}})

    amount_cny: Amount | None = Field(None, description="the corrected amount; none: unchanged")


class CaseCreated(CaseOut):
    approval: "ApprovalOut | None"


class Page(BaseModel):
    total: int
    offset: int
    limit: int


class CasePage(Page):
    items: list[CaseOut]


class ApprovalOut(BaseModel):
    id: int
    case_id: int
    leader_tier: str
    approver_id: int
    status: str
    requested_at: datetime
    remind_at: datetime
    due_at: datetime
    reminded_at: datetime | None
    decided_at: datetime | None
    comment: str | None
    follow_up_pending: bool
    escalated_from_id: int | None
    rule_id: str
    policy_version: str

    @classmethod
    def of(cls, approval: Approval) -> "ApprovalOut":
        return cls.model_validate(approval, from_attributes=True)


class ApprovalQueueItem(ApprovalOut):
    case_number: str
    amount_display: str


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: str = Field(description="approve (同意) or return (退回)", pattern="^(approve|return)$")
    comment: str | None = Field(default=None, max_length=2000)


class AuditEventOut(BaseModel):
    seq: int
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: int
    before: str | None
    after: str | None
    rule: str | None
    hash: str


class ChainReportOut(BaseModel):
    ok: bool
    checked: int
    broken_seq: int | None
    reason: str | None


class PolicyOut(BaseModel):
    folder: str
    version: str
    files: dict[str, str]
