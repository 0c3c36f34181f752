"""An approval's life as one table (domain.transitions): the leader it is addressed to approves or
returns it; unanswered past its deadline, the escalation flow moves it one tier up."""
from sqlmodel import Session

from domain.errors import Conflict, DomainError, Forbidden
from domain.escalation.models import Approval
from domain.transitions import SYSTEM, Machine, Move

STATUS_NAMES_ZH = {"pending": "待审批", "approved": "已同意", "returned": "已退回", "escalated": "已上呈"}


def _approver(session: Session, actor, approval: Approval) -> None:
    if approval.approver_id != actor.id:
        raise Forbidden("not_your_approval", "此审批不是呈报给您的，您不能审批", "this approval is addressed to another leader")


def _wording(kind: str, approval: Approval | None, action: str) -> DomainError | None:
    if kind == "role":
        return Forbidden("role_forbidden", "只有领导可以审批", "only leaders decide approvals")
    state = STATUS_NAMES_ZH.get(approval.status, approval.status)
    return Conflict("already_decided", f"此审批已处理（当前状态：{state}），不能重复审批",
                    f"this approval is already {approval.status}")


APPROVAL = Machine(
    entity="approval", model=Approval, state_names_zh=STATUS_NAMES_ZH, wording=_wording,
    relations={"approver": _approver},
    moves=(
        Move("approve", ("pending",), "approved", ("leader",), "approver", label_zh="同意"),
        Move("return", ("pending",), "returned", ("leader",), "approver", label_zh="退回"),
        Move("escalate", ("pending",), "escalated", (SYSTEM,), label_zh="逾期上呈"),
    ))
