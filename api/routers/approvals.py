"""/api/v1/approvals: a leader's queue and one-click decisions."""
from fastapi import APIRouter, BackgroundTasks, Depends, Query
from sqlmodel import Session

from api.deps import current_user
from httpkit.session import TransactionalRoute, get_session
from api.schemas import MAX_ID, ApprovalOut, ApprovalQueueItem, Decision, RowId
from domain.cases.models import Case
from domain.escalation import service as escalation
from domain.money import format_wan
from domain.users.models import User
from flows.nudge import nudge_follow_up

router = APIRouter(prefix="/api/v1/approvals", tags=["approvals 审批"], route_class=TransactionalRoute)


@router.get("", response_model=list[ApprovalQueueItem])
def my_queue(status: str | None = Query("pending", pattern="^(pending|approved|returned|escalated)$"),
             offset: int = Query(0, ge=0, le=MAX_ID), limit: int = Query(50, ge=1, le=200),
             session: Session = Depends(get_session), user: User = Depends(current_user)) -> list[ApprovalQueueItem]:
    """The approvals addressed to the calling leader (empty for everyone else)."""
    rows = escalation.list_for_leader(session=session, actor=user, status=status, offset=offset, limit=limit)
    items = []
    for approval in rows:
        case = session.get(Case, approval.case_id)
        items.append(ApprovalQueueItem(**ApprovalOut.of(approval).model_dump(), case_number=case.case_number,
                                       amount_display=format_wan(case.amount_fen)))
    return items


@router.post("/{approval_id}/decision", response_model=ApprovalOut)
def decide(approval_id: RowId, body: Decision, background: BackgroundTasks,
           session: Session = Depends(get_session), user: User = Depends(current_user)) -> ApprovalOut:
    """Approve (同意) or return (退回). Committed before the answer; the flow follows up."""
    approval = escalation.decide(session=session, actor=user, approval_id=approval_id,
                                 decision=body.decision, comment=body.comment)
    session.commit()
    background.add_task(nudge_follow_up, approval.id, session.get(Case, approval.case_id).case_number)
    return ApprovalOut.of(approval)
