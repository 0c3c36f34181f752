"""/api/v1/cases: register and read cases. Thin: the domain does the work.
Victim data appears masked; amounts are decimal strings, never floats."""
from datetime import datetime

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from api.deps import current_user
from api.fields import Amount
from api.routers.approvals import ApprovalOut
from domain.cases import life, overview
from domain.cases import reveal as reveal_service
from domain.cases import service as cases
from domain.cases.models import Case
from domain.cases.service import mask_name, mask_phone
from domain.money import format_wan, from_fen
from domain.users.models import User
from httpkit.ids import MAX_ID, RowId
from httpkit.session import TransactionalRoute, get_session

router = APIRouter(prefix="/api/v1/cases", tags=["cases 案件"], route_class=TransactionalRoute)


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
    approval: ApprovalOut | None


class CasePage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[CaseOut]


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


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CaseCreated)
def register_case(body: CaseCreate, session: Session = Depends(get_session),
                  user: User = Depends(current_user)) -> CaseCreated:
    """Register a case; the approval for its tier's leader is created in the same transaction."""
    case = cases.register(session=session, actor=user, case_in=cases.CaseIn(**body.model_dump()))
    approval = overview.first_approval(session=session, case=case)  # before the commit:
    session.commit()  # a read after it would begin a second transaction (on SQLite, a second write lock)
    return CaseCreated(**CaseOut.of(case).model_dump(), approval=ApprovalOut.of(approval) if approval else None)


@router.get("", response_model=CasePage)
def list_cases(offset: int = Query(0, ge=0, le=MAX_ID), limit: int = Query(50, ge=1, le=200),
               escalation_state: str | None = Query(None, pattern="^(none|awaiting|taken|returned)$"),
               session: Session = Depends(get_session), user: User = Depends(current_user)) -> CasePage:
    rows, total = cases.list_cases(session=session, actor=user, offset=offset, limit=limit,
                                   escalation_state=escalation_state)
    return CasePage(total=total, offset=offset, limit=limit, items=[CaseOut.of(c) for c in rows])


@router.get("/{case_id}", response_model=CaseOut)
def get_case(case_id: RowId, session: Session = Depends(get_session), user: User = Depends(current_user)) -> CaseOut:
    return CaseOut.of(cases.get(session=session, actor=user, case_id=case_id))


@router.put("/{case_id}/result", response_model=CaseOut)
def record_result(case_id: RowId, body: CaseResultIn, session: Session = Depends(get_session),
                  user: User = Depends(current_user)) -> CaseOut:
    """Office: the case's result — solved when (破案), people caught (抓获), money returned (挽损)."""
    case = cases.record_result(session=session, actor=user, case_id=case_id, solved_at=body.solved_at,
                               suspects_caught=body.suspects_caught, recovered_cny=body.recovered_cny)
    session.flush()
    return CaseOut.of(case)


@router.post("/{case_id}/close", response_model=CaseOut)
def close_case(case_id: RowId, body: CaseCloseIn, session: Session = Depends(get_session),
               user: User = Depends(current_user)) -> CaseOut:
    """Office: 结案 — solved (破案, with its result) or unsolved (with the reason), as the policy allows."""
    case = life.close(session=session, actor=user, case_id=case_id, outcome=body.outcome, reason=body.reason,
                      solved_at=body.solved_at, suspects_caught=body.suspects_caught, recovered_cny=body.recovered_cny)
    return CaseOut.of(case)


@router.post("/{case_id}/reopen", response_model=CaseOut)
def reopen_case(case_id: RowId, body: CaseReopenIn, session: Session = Depends(get_session),
                user: User = Depends(current_user)) -> CaseOut:
    """Office: 重新启动 a closed case, with the reason; it is handled (办) again."""
    return CaseOut.of(life.reopen(session=session, actor=user, case_id=case_id, reason=body.reason))


@router.post("/{case_id}/resubmit", response_model=ApprovalOut, status_code=status.HTTP_201_CREATED)
def resubmit_case(case_id: RowId, body: CaseResubmitIn, session: Session = Depends(get_session),
                  user: User = Depends(current_user)) -> ApprovalOut:
    """Office: 重新呈报 a case the leader returned, the amount corrected if need be; the new approval
    goes to the leader of the tier that amount falls in, the returned one stays in the history."""
    return ApprovalOut.of(life.resubmit(session=session, actor=user, case_id=case_id, amount_cny=body.amount_cny))


class CaseRevealIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"reason": "电话联系受害人核实案情"}})

    field: str = Field("victim_phone", description="victim_phone")
    reason: str = Field(max_length=200, description="why the full value is needed (audited; the value is not)")


class CaseRevealedOut(BaseModel):
    field: str
    label_zh: str
    label_en: str
    value: str


@router.post("/{case_id}/reveal", response_model=CaseRevealedOut)
def reveal_case_field(case_id: RowId, body: CaseRevealIn, session: Session = Depends(get_session),
                      user: User = Depends(current_user)) -> CaseRevealedOut:
    """Office: the victim's full phone, which every list and page shows masked. Each asking is
    audited with its reason, never with the value."""
    return CaseRevealedOut(**reveal_service.reveal(session=session, actor=user, case_id=case_id, field=body.field,
                                                   reason=body.reason))


@router.get("/{case_id}/approvals", response_model=list[ApprovalOut])
def case_approvals(case_id: RowId, session: Session = Depends(get_session),
                   user: User = Depends(current_user)) -> list[ApprovalOut]:
    return [ApprovalOut.of(a) for a in overview.approvals_of(session=session, actor=user, case_id=case_id)]


@router.get("/{case_id}/events", response_model=list[AuditEventOut])
def case_events(case_id: RowId, session: Session = Depends(get_session),
                user: User = Depends(current_user)) -> list[AuditEventOut]:
    """The case's timeline: its own events and those of its approvals, in order."""
    return [AuditEventOut.model_validate(e, from_attributes=True)
            for e in overview.timeline(session=session, actor=user, case_id=case_id)]
