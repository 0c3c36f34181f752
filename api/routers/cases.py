"""/api/v1/cases: register and read cases. Thin: the domain does the work."""
from fastapi import APIRouter, Depends, Query, status
from sqlmodel import Session, select

from api.deps import current_user
from httpkit.session import TransactionalRoute, get_session
from api.schemas import (MAX_ID, ApprovalOut, AuditEventOut, CaseCreate, CaseCreated, CaseOut, CasePage, CaseResultIn,
                         RowId)
from domain.audit import service as audit
from domain.cases import service as cases
from domain.escalation.models import Approval
from domain.users.models import User

router = APIRouter(prefix="/api/v1/cases", tags=["cases 案件"], route_class=TransactionalRoute)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CaseCreated)
def register_case(body: CaseCreate, session: Session = Depends(get_session),
                  user: User = Depends(current_user)) -> CaseCreated:
    """Register a case; the approval for its tier's leader is created in the same transaction."""
    case = cases.register(session=session, actor=user, case_in=cases.CaseIn(**body.model_dump()))
    approval = session.exec(select(Approval).where(Approval.case_id == case.id)).first()  # before the commit:
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


@router.get("/{case_id}/approvals", response_model=list[ApprovalOut])
def case_approvals(case_id: RowId, session: Session = Depends(get_session),
                   user: User = Depends(current_user)) -> list[ApprovalOut]:
    case = cases.get(session=session, actor=user, case_id=case_id)
    rows = session.exec(select(Approval).where(Approval.case_id == case.id).order_by(Approval.id)).all()
    return [ApprovalOut.of(a) for a in rows]


@router.get("/{case_id}/events", response_model=list[AuditEventOut])
def case_events(case_id: RowId, session: Session = Depends(get_session),
                user: User = Depends(current_user)) -> list[AuditEventOut]:
    """The case's timeline: its own events and those of its approvals, in order."""
    case = cases.get(session=session, actor=user, case_id=case_id)
    approval_ids = session.exec(select(Approval.id).where(Approval.case_id == case.id)).all()
    events = audit.history(session=session, entity_type="case", entity_id=case.id)
    for approval_id in approval_ids:
        events += audit.history(session=session, entity_type="approval", entity_id=approval_id)
    return [AuditEventOut.model_validate(e, from_attributes=True) for e in sorted(events, key=lambda e: e.seq)]
