"""A case's life after registration, every move through the case's machines (domain/cases/machine.py):
close it (结) solved or unsolved under the policy's criteria (policies/*/cases.yaml), reopen it with
a reason, and correct and resubmit an escalation the leader returned."""
from datetime import datetime

from sqlmodel import Session, func, select

from domain.cases.machine import CASE_ESCALATION, CASE_STAGE
from domain.cases.models import CLOSE_OUTCOMES, STAGE_NAMES_ZH, Case
from domain.cases.service import validate_amount, validated_result
from domain.errors import Conflict, DomainError, InvalidInput, NotFound, raise_all
from domain.escalation import service as escalation
from domain.escalation.models import Approval
from domain.money import from_fen, to_fen
from domain.orders.models import OPEN_STATUSES, Order
from domain.policy import current_policy
from domain.timeutil import utcnow
from domain.users.models import User
from policies.escalation import decide_tier
from policies.loader import PolicySet

MAX_REASON = 2000


def _locked(session: Session, case_id: int) -> Case:
    case = session.exec(select(Case).where(Case.id == case_id).with_for_update()
                        .execution_options(populate_existing=True)).first()
    if case is None:
        raise NotFound("case_not_found", f"案件 {case_id} 不存在", f"case {case_id} does not exist")
    return case


def _reason(raw: str | None, *, minimum: int, field: str, label_zh: str, required: bool) -> tuple[str, list]:
    text = (raw or "").strip()
    if (required and len(text) < minimum) or len(text) > MAX_REASON or any(ord(c) < 32 and c not in "\n\t" for c in text):
        return text, [InvalidInput(f"bad_{field}", f"请写明{label_zh}（{minimum} 至 {MAX_REASON} 字）",
                                   f"state the {field.replace('_', ' ')} in {minimum} to {MAX_REASON} characters",
                                   field=field)]
    return text, []


def open_orders(*, session: Session, case_id: int) -> int:
    return session.exec(select(func.count()).select_from(Order)
                        .where(Order.case_id == case_id, Order.status.in_(OPEN_STATUSES))).one()


def close_blocker(*, session: Session, case: Case, policy: PolicySet | None = None) -> DomainError | None:
    """What keeps the office from closing the case under the policy, or None: the faces show the
    close form only when nothing does."""
    rules = (policy or current_policy()).cases.close
    if case.stage != "closed" and case.stage not in rules.from_stages:
        allowed = "、".join(STAGE_NAMES_ZH[s] for s in rules.from_stages)
        return Conflict("close_stage_not_allowed", f"案件处于“{STAGE_NAMES_ZH[case.stage]}”阶段，按规定只有{allowed}阶段可以结案",
                        f"a case in stage {case.stage} cannot be closed (policy: {', '.join(rules.from_stages)})")
    if rules.awaiting_leader_blocks and case.escalation_state == "awaiting":
        return Conflict("awaiting_leader", "案件正待领导审批（包案），审批后才能结案",
                        "the case awaits its leader's decision; close it after the decision")
    if rules.open_orders_block and (count := open_orders(session=session, case_id=case.id)):
        return Conflict("open_orders", f"案件还有 {count} 条指令未办结，请先验收或撤销",
                        f"{count} orders of the case are still open: accept or cancel them first")
    return None


def close(*, session: Session, actor: User, case_id: int, outcome: str, reason: str | None = None,
          solved_at: datetime | None = None, suspects_caught: object = None, recovered_cny: object = None,
          policy: PolicySet | None = None) -> Case:
    """结: the office closes the case, solved (破案: the result's date, people caught, money returned)
    or unsolved (the reason in words). A refused close is audited like any refused move."""
    CASE_STAGE.check_role(session=session, actor=actor, action="close", entity_id=case_id)
    policy = policy or current_policy()
    case = _locked(session, case_id)
    CASE_STAGE.check(session=session, actor=actor, obj=case, action="close")
    if (blocked := close_blocker(session=session, case=case, policy=policy)) is not None:
        raise CASE_STAGE.refused(blocked, session=session, actor=actor, obj=case, action="close")
    now = utcnow()
    errors: list[DomainError] = []
    if outcome not in CLOSE_OUTCOMES:
        errors.append(InvalidInput("bad_outcome", "请选择结案方式：已破案或未破案", "outcome must be solved or unsolved",
                                   field="outcome"))
    unsolved = outcome == "unsolved"
    reason, bad = _reason(reason, minimum=policy.cases.close.unsolved_reason_min_chars, field="reason",
                          label_zh="未破案的原因" if unsolved else "结案说明", required=unsolved)
    errors += bad
    values: dict = {}
    if outcome == "solved":
        result, bad = validated_result(
            case=case, solved_at=solved_at if solved_at is not None else case.solved_at,
            suspects_caught=case.suspects_caught if suspects_caught in (None, "") else suspects_caught,
            recovered_cny=from_fen(case.recovered_fen) if recovered_cny is None else recovered_cny, now=now)
        errors += bad
        if result["solved_at"] is None and not any(e.field == "solved_at" for e in bad):
            errors.append(InvalidInput("solved_at_required", "破案结案须填写破案日期", "a solved case needs the date solved",
                                       field="solved_at"))
        values = result
        if result["recovered_fen"] is not None and result["recovered_fen"] != case.recovered_fen:
            values["recovered_at"] = now if result["recovered_fen"] else None
    raise_all(errors)
    values |= {"closed_at": now, "close_outcome": outcome, "close_reason": reason or None}
    shown = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in values.items()}
    return CASE_STAGE.apply(session=session, actor=actor, obj=case, action="close", values=values, after=shown,
                            rule=policy.cases.close.id, now=now)


def reopen(*, session: Session, actor: User, case_id: int, reason: str | None, policy: PolicySet | None = None) -> Case:
    """重新启动: a closed case is handled again (办), for the reason the office states."""
    CASE_STAGE.check_role(session=session, actor=actor, action="reopen", entity_id=case_id)
    policy = policy or current_policy()
    case = _locked(session, case_id)
    CASE_STAGE.check(session=session, actor=actor, obj=case, action="reopen")
    reason, errors = _reason(reason, minimum=policy.cases.reopen.reason_min_chars, field="reason",
                             label_zh="重新启动的原因", required=True)
    raise_all(errors)
    before = {"close_outcome": case.close_outcome, "close_reason": case.close_reason}
    return CASE_STAGE.apply(session=session, actor=actor, obj=case, action="reopen", before=before,
                            values={"closed_at": None, "close_outcome": None, "close_reason": None},
                            after={"reason": reason}, rule=policy.cases.reopen.id)


def resubmit(*, session: Session, actor: User, case_id: int, amount_cny: object = None,
             policy: PolicySet | None = None) -> Approval:
    """重新呈报: the office corrects a case the leader returned (the amount, if it was wrong) and
    submits it again. The tier is decided anew by the amount; a new approval goes to that tier's
    leader, and the returned one stays in the case's history."""
    CASE_ESCALATION.check_role(session=session, actor=actor, action="resubmit", entity_id=case_id)
    policy = policy or current_policy()
    case = _locked(session, case_id)
    CASE_ESCALATION.check(session=session, actor=actor, obj=case, action="resubmit")
    corrected = amount_cny is not None and str(amount_cny).strip() != ""
    amount = validate_amount(amount_cny, policy) if corrected else from_fen(case.amount_fen)
    decision = decide_tier(policy.escalation, amount)
    if decision is None:
        raise InvalidInput("below_every_tier", "更正后的金额低于各级领导包案的起点，无需呈报领导",
                           "the corrected amount is below every tier: no leader needs to decide", field="amount_cny")
    now = utcnow()
    before = {"amount_fen": case.amount_fen, "tier_rule_id": case.tier_rule_id, "return_comment": case.return_comment}
    values = {"amount_fen": to_fen(amount), "tier_rule_id": decision.tier.id, "tier_basis": decision.explanation,
              "tier_policy_version": policy.file_version("escalation"), "return_comment": None}
    CASE_ESCALATION.apply(session=session, actor=actor, obj=case, action="resubmit", values=values, before=before,
                          after={"amount_fen": values["amount_fen"], "tier_rule_id": decision.tier.id},
                          rule=decision.tier.id, now=now)
    return escalation.request_approval(session=session, case=case, leader_tier=decision.tier.leader_tier,
                                       rule_id=decision.tier.id, policy=policy, now=now, actor=actor.username)
