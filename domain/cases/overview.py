"""Read-only views of cases for people's screens: the office dashboard's figures, a leader's
queue and cases (包案), a case's approvals and timeline, the areas a case may belong to.

Every function applies the same visibility as `cases.service` (a leader sees only the cases
that reached them) and reads with indexed queries; nothing here changes state.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import case, literal
from sqlmodel import Session, func, select

from domain.audit import service as audit
from domain.audit.models import AuditEvent
from domain.cases import service as cases
from domain.cases.models import STAGES, Case
from domain.errors import NotFound
from domain.escalation.models import Approval
from domain.policy import current_policy
from domain.timeutil import SHANGHAI, utcnow
from domain.units.models import Unit
from domain.units.tree import in_tree_order
from domain.users.models import LEADER_TIERS, User
from domain.users.service import require_role
from policies.escalation import (below_tiers_en, below_tiers_zh, moved_up_en, moved_up_zh, tier_sentence_en,
                                 tier_sentence_zh)
from policies.loader import PolicySet
from policies.schema import shown_basis

NO_TIER = "none"


def _where_visible(query, actor: User):
    condition = cases._visible(actor)  # noqa: SLF001 — the one definition of who sees which case
    return query if condition is None else query.where(condition)


@dataclass(frozen=True)
class RuleExplanation:
    """Why an approval went where it went: a sentence in the reader's language and the rule's basis
    as people cite it; the rule id and the policy version are the record (for the auditor's fold)."""
    rule_id: str
    basis: str | None
    policy_version: str
    sentence_zh: str = ""
    sentence_en: str = ""

    def sentence(self, language: str = "zh") -> str:
        return self.sentence_en if language == "en" else self.sentence_zh


@dataclass(frozen=True)
class PendingApproval:
    approval: Approval
    case: Case
    overdue: bool
    rule: RuleExplanation


def explain_rule(rule_id: str | None, policy_version: str, policy: PolicySet | None = None,
                 amount_fen: int | None = None) -> RuleExplanation:
    """Why a case went to a leader (or to none) under the running policy: the sentence, the basis."""
    escalation = (policy or current_policy()).escalation
    amount = Decimal(amount_fen) / 100 if amount_fen is not None else None
    basis, zh, en = None, "", ""
    tier = next((t for t in escalation.tiers if t.id == rule_id), None) if rule_id else None
    if tier is not None:
        basis = shown_basis(tier)
        zh, en = tier_sentence_zh(tier, amount), tier_sentence_en(tier, amount)
    elif rule_id and rule_id.startswith("escalation_chain:"):
        basis = shown_basis(escalation.approval)
        lower, _, upper = rule_id.removeprefix("escalation_chain:").partition("->")
        zh, en = moved_up_zh(lower, upper, escalation), moved_up_en(lower, upper, escalation)
    elif not rule_id and amount is not None:
        zh, en = below_tiers_zh(escalation, amount), below_tiers_en(escalation, amount)
    return RuleExplanation(rule_id=rule_id or "", basis=basis, policy_version=policy_version,
                           sentence_zh=zh, sentence_en=en)


# ---- the office dashboard ----

def stage_counts(*, session: Session, actor: User) -> dict[str, int]:
    """How many cases stand at each stage of 研→交→办→督→结 (every stage present, zeros too)."""
    query = _where_visible(select(Case.stage, func.count()).group_by(Case.stage), actor)
    counts = dict.fromkeys(STAGES, 0)
    counts.update({stage: n for stage, n in session.exec(query).all()})
    return counts


def awaiting_leader(*, session: Session, actor: User, limit: int = 10,
                    now: datetime | None = None) -> tuple[list[PendingApproval], int]:
    """Cases waiting for a leader's decision, the nearest deadline first."""
    now = now or utcnow()
    base = _where_visible(select(Approval, Case).join(Case, Case.id == Approval.case_id)
                          .where(Approval.status == "pending"), actor)
    total = session.exec(select(func.count()).select_from(base.subquery())).one()
    rows = session.exec(base.order_by(Approval.due_at, Approval.id).limit(limit)).all()
    return [_pending(a, c, now) for a, c in rows], total


def supervised(*, session: Session, actor: User, limit: int = 10) -> tuple[list[Case], int]:
    """Cases listed for supervision (挂牌督办) and not closed yet."""
    base = _where_visible(select(Case).where(Case.supervised == True, Case.stage != "closed"), actor)  # noqa: E712
    total = session.exec(select(func.count()).select_from(base.subquery())).one()
    rows = session.exec(base.order_by(Case.registered_at.desc(), Case.id.desc()).limit(limit)).all()
    return list(rows), total


@dataclass(frozen=True)
class WeekCounts:
    week_start: date  # Monday, Beijing time
    counts: dict[str, int] = field(default_factory=dict)  # leader tier (or "none") → cases

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def weekly_by_tier(*, session: Session, actor: User, weeks: int = 12, now: datetime | None = None,
                   policy: PolicySet | None = None) -> list[WeekCounts]:
    """Cases registered per week (Monday to Sunday, Beijing time) by the leader tier they went to,
    oldest week first. Rules of older policy versions that no longer exist count under "none".
    One query: the database sorts each case into its week by comparing with the week boundaries
    (an indexed range, no date function per row) and counts per week and rule."""
    now = now or utcnow()
    policy = policy or current_policy()
    tier_of_rule = {t.id: t.leader_tier for t in policy.escalation.tiers}
    today = now.astimezone(SHANGHAI).date()
    first_monday = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    starts = [datetime.combine(first_monday + timedelta(weeks=i), datetime.min.time(), tzinfo=SHANGHAI)
              for i in range(weeks)]
    week = case(*[(Case.registered_at < start, i - 1) for i, start in enumerate(starts[1:], start=1)],
                else_=weeks - 1) if weeks > 1 else literal(0)
    query = _where_visible(select(week, Case.tier_rule_id, func.count()).where(Case.registered_at >= starts[0])
                           .group_by(week, Case.tier_rule_id), actor)
    buckets = [WeekCounts(start.date(), dict.fromkeys((*LEADER_TIERS, NO_TIER), 0)) for start in starts]
    for index, rule_id, count in session.exec(query).all():
        buckets[index].counts[tier_of_rule.get(rule_id, NO_TIER) if rule_id else NO_TIER] += count
    return buckets


# ---- a leader's screens ----

def _pending(approval: Approval, case: Case, now: datetime) -> PendingApproval:
    return PendingApproval(approval=approval, case=case, overdue=approval.due_at <= now,
                           rule=explain_rule(approval.rule_id, approval.policy_version, amount_fen=case.amount_fen))


def _addressed_to(actor: User, status: str | None):
    query = select(Approval, Case).join(Case, Case.id == Approval.case_id).where(Approval.approver_id == actor.id)
    return query.where(Approval.status == status) if status else query


def leader_approvals(*, session: Session, actor: User, status: str | None = "pending", offset: int = 0,
                     limit: int = 50) -> list[tuple[Approval, Case]]:
    """The approvals addressed to this leader (any status when None) with their cases, in one
    query, the nearest deadline first; empty for anyone who is not a leader."""
    query = _addressed_to(actor, status).order_by(Approval.due_at, Approval.id).offset(offset).limit(limit)
    return [(approval, case) for approval, case in session.exec(query).all()]


def leader_queue(*, session: Session, actor: User, offset: int = 0, limit: int = 50,
                 now: datetime | None = None) -> tuple[list[PendingApproval], int]:
    """The approvals waiting for this leader, with their cases, the nearest deadline first."""
    now = now or utcnow()
    total = session.exec(select(func.count()).select_from(_addressed_to(actor, "pending").subquery())).one()
    rows = leader_approvals(session=session, actor=actor, offset=offset, limit=limit)
    return [_pending(a, c, now) for a, c in rows], total


def taken_by(*, session: Session, actor: User, offset: int = 0, limit: int = 50) -> tuple[list[Case], int]:
    """The cases this leader took personally (包案), open ones first, newest first."""
    require_role(actor, "leader")
    base = select(Case).where(Case.leader_id == actor.id)
    total = session.exec(select(func.count()).select_from(base.subquery())).one()
    rows = session.exec(base.order_by((Case.stage == "closed"), Case.registered_at.desc(), Case.id.desc())
                        .offset(offset).limit(limit)).all()
    return list(rows), total


# ---- one case ----

def _approvals(session: Session, case_id: int) -> list[Approval]:
    return list(session.exec(select(Approval).where(Approval.case_id == case_id).order_by(Approval.id)).all())


def approvals_of(*, session: Session, actor: User, case_id: int) -> list[Approval]:
    case = cases.get(session=session, actor=actor, case_id=case_id)
    return _approvals(session, case.id)


def first_approval(*, session: Session, case: Case) -> Approval | None:
    """The approval the case's registration requested (None below every tier), for a caller that
    holds the case already: the answer to a registration, without reading the case again."""
    return next(iter(_approvals(session, case.id)), None)


def timeline(*, session: Session, actor: User, case_id: int) -> list[AuditEvent]:
    """The case's own events and those of its approvals, in the order they happened."""
    case = cases.get(session=session, actor=actor, case_id=case_id)
    events = audit.history(session=session, entity_type="case", entity_id=case.id)
    for approval_id in session.exec(select(Approval.id).where(Approval.case_id == case.id)).all():
        events += audit.history(session=session, entity_type="approval", entity_id=approval_id)
    return sorted(events, key=lambda e: e.seq)


def area_choices(*, session: Session, policy: PolicySet | None = None) -> list[tuple[Unit, int]]:
    """The units a case may belong to (the intake policy's kinds), in tree order with their depth."""
    return in_tree_order(session=session, kinds=set((policy or current_policy()).intake.area_unit_kinds))


def names(*, session: Session, user_ids: set[int] = frozenset(), unit_ids: set[int] = frozenset()
          ) -> tuple[dict[int, str], dict[int, str]]:
    """Display names of users and units, for showing ids as people and places."""
    users = dict(session.exec(select(User.id, User.display_name).where(User.id.in_(user_ids))).all()) if user_ids else {}
    units = dict(session.exec(select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids))).all()) if unit_ids else {}
    return users, units


def queue_item(*, session: Session, actor: User, approval_id: int, now: datetime | None = None) -> PendingApproval:
    """One approval addressed to this leader (whatever its status), with its case."""
    row = session.exec(select(Approval, Case).join(Case, Case.id == Approval.case_id)
                       .where(Approval.id == approval_id, Approval.approver_id == actor.id)).first()
    if row is None:
        raise NotFound("approval_not_found", f"审批 {approval_id} 不存在或不是呈报给您的",
                       f"approval {approval_id} does not exist or is not addressed to you")
    return _pending(row[0], row[1], now or utcnow())


def display_names(*, session: Session, usernames: set[str]) -> dict[str, str]:
    """Usernames (as the audit trail records actors) to the names people know."""
    if not usernames:
        return {}
    return dict(session.exec(select(User.username, User.display_name).where(User.username.in_(usernames))).all())
