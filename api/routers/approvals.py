"""/api/v1/approvals: a leader's queue and one-click decisions."""
from datetime import datetime

from fastapi import APIRouter, BackgroundTasks, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from api.deps import current_user
from domain.cases import overview
from domain.escalation import service as escalation
from domain.escalation.models import Approval
from domain.money import format_wan
from domain.users.models import User
from flows.nudge import nudge_follow_up
from httpkit.ids import MAX_ID, RowId
from httpkit.session import TransactionalRoute, get_session

router = APIRouter(prefix="/api/v1/approvals", tags=["approvals 审批"], route_class=TransactionalRoute)


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


@router.get("", response_model=list[ApprovalQueueItem])
def my_queue(status: str | None = Query("pending", pattern="^(pending|approved|returned|escalated)$"),
             offset: int = Query(0, ge=0, le=MAX_ID), limit: int = Query(50, ge=1, le=200),
             session: Session = Depends(get_session), user: User = Depends(current_user)) -> list[ApprovalQueueItem]:
    """The approvals addressed to the calling leader (empty for everyone else)."""
    rows = overview.leader_approvals(session=session, actor=user, status=status, offset=offset, limit=limit)
    return [ApprovalQueueItem(**ApprovalOut.of(approval).model_dump(), case_number=case.case_number,
                              amount_display=format_wan(case.amount_fen)) for approval, case in rows]


@router.post("/{approval_id}/decision", response_model=ApprovalOut)
def decide(approval_id: RowId, body: Decision, background: BackgroundTasks,
           session: Session = Depends(get_session), user: User = Depends(current_user)) -> ApprovalOut:
    """Approve (同意) or return (退回). Committed before the answer; the flow follows up."""
    approval = escalation.decide(session=session, actor=user, approval_id=approval_id,
                                 decision=body.decision, comment=body.comment)
    session.commit()
    case = overview.queue_item(session=session, actor=user, approval_id=approval.id).case
    background.add_task(nudge_follow_up, approval.id, case.case_number)
    return ApprovalOut.of(approval)
