"""The escalation process: request a leader's approval, record the decision, and the automatic
follow-ups the flows run (take the case / list it for supervision, return it, remind, escalate).

Every follow-up is a conditional update ("only if still pending"), so a retry, a restart, or a
nudge racing a sweep does the step once and writes one audit entry.
"""
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, select

from domain.audit import service as audit
from domain.cases.models import Case
from domain.cases.machine import CASE_ESCALATION, CASE_STAGE
from domain.errors import Conflict, DomainError, InvalidInput, NotFound
from domain.escalation.machine import APPROVAL
from domain.escalation.models import Approval
from domain.policy import current_policy
from domain.timeutil import utcnow
from domain.transitions import withdraw
from domain.users.models import User
from domain.users.service import SYSTEM_ACTOR, active_leader
from policies.escalation import next_leader_tier, tier_rule_for_leader
from policies.loader import PolicySet

# Who may move an approval from which status to which: its machine (domain/escalation/machine.py);
# a case's escalation state and stage move through theirs (domain/cases/machine.py).
DECISIONS = {"approve": "approved", "return": "returned"}  # the decision → its status


def _approval_view(a: Approval) -> dict:
    return {"status": a.status, "leader_tier": a.leader_tier, "approver_id": a.approver_id,
            "due_at": a.due_at, "decided_by_id": a.decided_by_id, "comment": a.comment}


def request_approval(*, session: Session, case: Case, leader_tier: str, rule_id: str, policy: PolicySet,
                     now: datetime, actor: str, escalated_from: Approval | None = None) -> Approval:
    leader = active_leader(session=session, leader_tier=leader_tier)
    if leader is None:
        raise Conflict("no_leader", f"没有在岗的{leader_tier}级领导可接收审批，请管理员先配置",
                       f"no active leader of tier {leader_tier} to receive the approval")
    rules = policy.escalation.approval
    approval = Approval(case_id=case.id, leader_tier=leader_tier, approver_id=leader.id, status="pending",
                        requested_at=now, remind_at=now + rules.remind_after, due_at=now + rules.decide_within,
                        escalated_from_id=escalated_from.id if escalated_from else None,
                        rule_id=rule_id, policy_version=policy.file_version("escalation"))
    session.add(approval)
    session.flush()
    audit.record(session=session, actor=actor, action="approval.requested", entity_type="approval",
                 entity_id=approval.id, after={"case_id": case.id, **_approval_view(approval)}, rule=rule_id, at=now)
    return approval


def get(*, session: Session, approval_id: int) -> Approval:
    approval = session.get(Approval, approval_id)
    if approval is None:
        raise NotFound("approval_not_found", f"审批 {approval_id} 不存在", f"approval {approval_id} does not exist")
    return approval


def decide(*, session: Session, actor: User, approval_id: int, decision: str, comment: str | None = None) -> Approval:
    """A leader approves or returns an approval addressed to them. Exactly one decision counts."""
    if decision not in DECISIONS:
        raise InvalidInput("bad_decision", "审批结论只能是“同意”或“退回”", "decision must be 'approve' or 'return'",
                           field="decision")
    comment = (comment or "").strip() or None
    if decision == "return" and not comment:
        raise InvalidInput("comment_required", "退回时请填写意见", "a returned approval needs a comment", field="comment")
    if comment and len(comment) > 2000:
        raise InvalidInput("comment_too_long", "意见最长 2000 字", "comment is longer than 2000 characters",
                           field="comment")
    approval = get(session=session, approval_id=approval_id)
    # The machine checks the role, the approver and the status; of two racing decisions, one
    # updates the row.
    return APPROVAL.apply(session=session, actor=actor, obj=approval, action=decision, before=_approval_view(approval),
                          values={"decided_at": utcnow(), "decided_by_id": actor.id, "comment": comment,
                                  "follow_up_pending": True},
                          after={**_approval_view(approval), "decided_by_id": actor.id, "comment": comment},
                          rule=approval.rule_id)


# ---- automatic follow-ups (called by the flows; each one idempotent) ----

def due_follow_ups(*, session: Session, limit: int = 500) -> list[int]:
    return list(session.exec(select(Approval.id).where(Approval.follow_up_pending == True)  # noqa: E712
                             .order_by(Approval.id).limit(limit)).all())


def due_reminders(*, session: Session, now: datetime, limit: int = 500) -> list[int]:
    return list(session.exec(select(Approval.id).where(Approval.status == "pending", Approval.reminded_at.is_(None),
                                                       Approval.remind_at <= now)
                             .order_by(Approval.remind_at).limit(limit)).all())


def due_escalations(*, session: Session, now: datetime, policy: PolicySet | None = None,
                    limit: int = 500) -> list[int]:
    """Pending approvals past their deadline that have a tier above them to move to."""
    top = (policy or current_policy()).escalation.approval.escalation_chain[-1]
    return list(session.exec(select(Approval.id).where(Approval.status == "pending", Approval.due_at <= now,
                                                       Approval.leader_tier != top)
                             .order_by(Approval.due_at).limit(limit)).all())


def apply_decision(*, session: Session, approval_id: int, policy: PolicySet | None = None) -> str | None:
    """After a decision: approved → the leader takes the case (包案) and, where the tier's rule says,
    it is listed for supervision (挂牌督办); returned → back to the office with the comment.
    Returns what it did, or None when there was nothing left to do."""
    policy = policy or current_policy()
    now = utcnow()
    claimed = session.execute(
        update(Approval).where(Approval.id == approval_id, Approval.follow_up_pending == True)  # noqa: E712
        .values(follow_up_pending=False, followed_up_at=now)
    ).rowcount
    if claimed != 1:
        return None
    approval = session.get(Approval, approval_id)
    session.refresh(approval)
    case = session.get(Case, approval.case_id)
    if approval.status == "approved":
        rule = tier_rule_for_leader(policy.escalation, approval.leader_tier)
        CASE_ESCALATION.apply(session=session, actor=SYSTEM_ACTOR, obj=case, action="take",
                              values={"leader_id": approval.approver_id}, before={"leader_id": case.leader_id},
                              after={"leader_id": approval.approver_id}, rule=approval.rule_id, now=now)
        if CASE_STAGE.move_for("take", case.stage):  # 研/交 → 办; a later stage is never moved back
            CASE_STAGE.apply(session=session, actor=SYSTEM_ACTOR, obj=case, action="take", rule="cases.stage.handling",
                             after={"leader_id": case.leader_id}, now=now)
        if rule is not None and rule.supervise and CASE_STAGE.move_for("supervise", case.stage):
            CASE_STAGE.apply(session=session, actor=SYSTEM_ACTOR, obj=case, action="supervise",
                             values={"supervised": True}, before={"supervised": case.supervised},
                             after={"supervised": True}, rule=rule.id, now=now)
            return "taken_and_supervised"
        return "taken"
    # Returned: only the escalation state says so; the stage the case reached stays.
    CASE_ESCALATION.apply(session=session, actor=SYSTEM_ACTOR, obj=case, action="return",
                          values={"return_comment": approval.comment}, before={"stage": case.stage},
                          after={"stage": case.stage, "return_comment": approval.comment}, rule=approval.rule_id,
                          now=now)
    return "returned"


def remind(*, session: Session, approval_id: int) -> bool:
    """Remind the leader once that an approval waits (催办)."""
    now = utcnow()
    changed = session.execute(
        update(Approval).where(Approval.id == approval_id, Approval.status == "pending",
                               Approval.reminded_at.is_(None), Approval.remind_at <= now)
        .values(reminded_at=now)
    ).rowcount
    if changed != 1:
        return False
    approval = session.get(Approval, approval_id)
    audit.record(session=session, actor=SYSTEM_ACTOR, action="approval.reminded", entity_type="approval",
                 entity_id=approval_id, after={"approver_id": approval.approver_id, "due_at": approval.due_at},
                 rule="approval.remind_after", at=now)
    return True


def escalate(*, session: Session, approval_id: int, policy: PolicySet | None = None) -> Approval | None:
    """An approval past its deadline moves one tier up the chain (CID head → deputy → chief).
    At the top of the chain there is nobody above: it stays with the chief, already reminded."""
    policy = policy or current_policy()
    now = utcnow()
    approval = session.get(Approval, approval_id)
    if approval is None or approval.status != "pending" or approval.due_at > now:
        return None
    upper = next_leader_tier(policy.escalation, approval.leader_tier)
    if upper is None:
        return None
    try:
        APPROVAL.apply(session=session, actor=SYSTEM_ACTOR, obj=approval, action="escalate",
                       before={"leader_tier": approval.leader_tier}, after={"next_tier": upper},
                       rule="approval.decide_within", now=now)
    except DomainError as lost:
        withdraw(session, lost)
        return None  # decided meanwhile: nothing to escalate (the flow's step stays idempotent)
    case = session.get(Case, approval.case_id)
    return request_approval(session=session, case=case, leader_tier=upper,
                            rule_id=f"escalation_chain:{approval.leader_tier}->{upper}", policy=policy, now=now,
                            actor=SYSTEM_ACTOR, escalated_from=approval)
