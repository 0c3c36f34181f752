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
from domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from domain.escalation.models import Approval
from domain.policy import current_policy
from domain.timeutil import utcnow
from domain.users.models import User
from domain.users.service import SYSTEM_ACTOR, active_leader
from policies.escalation import next_leader_tier, tier_rule_for_leader
from policies.loader import PolicySet

# Allowed transitions of an approval and who may make them (one table, one guard).
TRANSITIONS: dict[tuple[str, str], str] = {
    ("pending", "approved"): "approver",
    ("pending", "returned"): "approver",
    ("pending", "escalated"): "system",
}
DECISIONS = {"approve": "approved", "return": "returned"}


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
    approval = session.get(Approval, approval_id)
    if approval is None or (actor.role != "leader" or approval.approver_id != actor.id):
        if approval is not None and actor.role == "leader":
            raise Forbidden("not_your_approval", "此审批不是呈报给您的，您不能审批",
                            "this approval is addressed to another leader")
        if approval is None:
            raise NotFound("approval_not_found", f"审批 {approval_id} 不存在", f"approval {approval_id} does not exist")
        raise Forbidden("role_forbidden", "只有领导可以审批", "only leaders decide approvals")
    target = DECISIONS[decision]
    assert TRANSITIONS[("pending", target)] == "approver"
    before = _approval_view(approval)
    now = utcnow()
    # The WHERE status='pending' is the guard: of two racing decisions, one updates a row.
    changed = session.execute(
        update(Approval).where(Approval.id == approval_id, Approval.status == "pending")
        .values(status=target, decided_at=now, decided_by_id=actor.id, comment=comment, follow_up_pending=True)
    ).rowcount
    if changed != 1:
        session.refresh(approval)
        raise Conflict("already_decided", f"此审批已处理（当前状态：{approval.status}），不能重复审批",
                       f"this approval is already {approval.status}")
    session.refresh(approval)
    audit.record(session=session, actor=actor.username, action=f"approval.{target}", entity_type="approval",
                 entity_id=approval.id, before=before, after=_approval_view(approval), rule=approval.rule_id, at=now)
    return approval


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
    before = {"stage": case.stage, "escalation_state": case.escalation_state, "leader_id": case.leader_id,
              "supervised": case.supervised}
    if approval.status == "approved":
        rule = tier_rule_for_leader(policy.escalation, approval.leader_tier)
        case.leader_id, case.escalation_state, case.stage = approval.approver_id, "taken", "handling"
        session.add(case)
        audit.record(session=session, actor=SYSTEM_ACTOR, action="case.taken", entity_type="case", entity_id=case.id,
                     before=before, after={**before, "stage": "handling", "escalation_state": "taken",
                                           "leader_id": case.leader_id}, rule=approval.rule_id, at=now)
        if rule is not None and rule.supervise:
            case.supervised, case.stage = True, "supervision"
            audit.record(session=session, actor=SYSTEM_ACTOR, action="case.listed_for_supervision",
                         entity_type="case", entity_id=case.id, before={"supervised": False, "stage": "handling"},
                         after={"supervised": True, "stage": "supervision"}, rule=rule.id, at=now)
            return "taken_and_supervised"
        return "taken"
    case.escalation_state, case.stage, case.return_comment = "returned", "research", approval.comment
    session.add(case)
    audit.record(session=session, actor=SYSTEM_ACTOR, action="case.returned", entity_type="case", entity_id=case.id,
                 before=before, after={**before, "stage": "research", "escalation_state": "returned",
                                       "return_comment": approval.comment}, rule=approval.rule_id, at=now)
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
    changed = session.execute(
        update(Approval).where(Approval.id == approval_id, Approval.status == "pending")
        .values(status="escalated")
    ).rowcount
    if changed != 1:
        return None
    session.refresh(approval)
    audit.record(session=session, actor=SYSTEM_ACTOR, action="approval.escalated", entity_type="approval",
                 entity_id=approval_id, before={"status": "pending", "leader_tier": approval.leader_tier},
                 after={"status": "escalated", "next_tier": upper}, rule="approval.decide_within", at=now)
    case = session.get(Case, approval.case_id)
    return request_approval(session=session, case=case, leader_tier=upper,
                            rule_id=f"escalation_chain:{approval.leader_tier}->{upper}", policy=policy, now=now,
                            actor=SYSTEM_ACTOR, escalated_from=approval)
