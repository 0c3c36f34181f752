"""Registering cases and reading them, with victim data masked in every list."""
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, or_, select

from domain import validation
from domain.audit import service as audit
from domain.cases.models import Case
from domain.errors import Forbidden, InvalidInput, NotFound, raise_all
from domain.escalation import service as escalation
from domain.escalation.models import Approval
from domain.money import AmountError, parse_cny, to_fen
from domain.policy import current_policy
from domain.timeutil import plausible_past, utcnow
from domain.units import service as units
from domain.users.models import User
from domain.users.service import require_role
from domain.validation import Collector
from policies.escalation import below_tiers_zh, decide_tier
from policies.loader import PolicySet

_ALLOWED_CLOCK_SKEW = timedelta(minutes=10)


@dataclass(frozen=True)
class CaseIn:
    case_number: str
    amount_cny: object
    fraud_type: str
    victim_name: str
    victim_phone: str
    area: int | str
    reported_at: datetime | str  # a string as typed in a form: Beijing time


def mask_name(name: str) -> str:
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def mask_phone(phone: str) -> str:
    digits = phone.strip()
    return digits[:3] + "****" + digits[-4:] if len(digits) >= 8 else "*" * len(digits)


def _text(value: str, field: str, label_zh: str, max_len: int) -> str:
    cleaned = (value or "").strip()
    if not cleaned or len(cleaned) > max_len or any(ord(c) < 32 for c in cleaned):
        raise InvalidInput(f"bad_{field}", f"{label_zh}不能为空，最长 {max_len} 个字符，且不能含控制字符",
                           f"{field} must be 1 to {max_len} printable characters", field=field)
    return cleaned


def validate_amount(raw: object, policy: PolicySet) -> Decimal:
    bounds = policy.intake.amount
    try:
        amount = parse_cny(raw, label="涉案金额")
    except AmountError as exc:
        raise InvalidInput(exc.code, exc.zh, f"{exc}; write e.g. 280000.00", field="amount_cny") from None
    if -amount.as_tuple().exponent > bounds.max_decimal_places:
        raise InvalidInput("amount_too_precise", f"涉案金额最多 {bounds.max_decimal_places} 位小数（到分）",
                           f"amount has more than {bounds.max_decimal_places} decimal places", field="amount_cny")
    if amount < bounds.min_cny:
        raise InvalidInput("amount_not_positive", f"涉案金额必须大于零（至少 {bounds.min_cny} 元）",
                           f"amount must be at least {bounds.min_cny} CNY", field="amount_cny")
    if amount > bounds.max_cny:
        raise InvalidInput("amount_absurd", f"涉案金额超过 {bounds.max_cny} 元，请核对是否录入有误",
                           f"amount above {bounds.max_cny} CNY: check for a typing error", field="amount_cny")
    return amount


def register(*, session: Session, actor: User, case_in: CaseIn, policy: PolicySet | None = None) -> Case:
    """Register a case and, in the same transaction, request the approval of its tier's leader.
    Every field at fault is reported at once (InvalidFields)."""
    require_role(actor, "office", "admin")
    policy = policy or current_policy()
    found = Collector()
    amount = found.check(validate_amount, case_in.amount_cny, policy)
    case_number = found.check(_text, case_in.case_number, "case_number", "案件编号", 64)
    case_number = normalize_case_number(case_number) if case_number else None
    fraud_type = found.check(_text, case_in.fraud_type, "fraud_type", "诈骗类型", 64)
    victim_name = found.check(_text, case_in.victim_name, "victim_name", "受害人姓名", 100)
    victim_phone = found.check(validation.phone, case_in.victim_phone, field="victim_phone", label="受害人电话")
    area = found.check(units.resolve_area, session=session, area=case_in.area,
                       allowed_kinds=policy.intake.area_unit_kinds)
    reported_at = found.check(_reported_at, case_in.reported_at)
    now = utcnow()
    if case_number and session.exec(select(Case.id).where(Case.case_number == case_number)).first() is not None:
        found.add(_duplicate(case_number))
    found.done()

    decision = decide_tier(policy.escalation, amount)
    case = Case(case_number=case_number, amount_fen=to_fen(amount), fraud_type=fraud_type,
                victim_name=victim_name, victim_phone=victim_phone, area_unit_id=area.id,
                reported_at=reported_at, registered_at=now, registered_by_id=actor.id,
                escalation_state="awaiting" if decision else "none",
                tier_rule_id=decision.tier.id if decision else None,
                tier_policy_version=policy.file_version("escalation"),
                tier_basis=decision.explanation if decision else below_tiers_zh(policy.escalation, amount))
    session.add(case)
    try:
        session.flush()
    except IntegrityError:
        raise _duplicate(case_number) from None  # a concurrent registration won the race
    audit.record(session=session, actor=actor.username, action="case.registered", entity_type="case",
                 entity_id=case.id, after=public_view(case), at=now,
                 rule=decision.tier.id if decision else "below_all_tiers")
    if decision:
        escalation.request_approval(session=session, case=case, leader_tier=decision.tier.leader_tier,
                                    rule_id=decision.tier.id, policy=policy, now=now, actor=actor.username)
    return case


def _reported_at(raw: object) -> datetime:
    """The time of report: an aware time, or Beijing wall-clock time as typed (2026-11-21 14:05,
    2026年11月21日 14:05), between 2000 and now."""
    try:
        when = raw if isinstance(raw, datetime) else validation.moment(raw, field="reported_at", label="报案时间")
    except InvalidInput:
        when = None
    if when is None:
        raise InvalidInput("bad_reported_at", "请填写报案时间，格式如 2026年11月21日 14:05 或 2026-11-21 14:05",
                           "enter the time of report, e.g. 2026-11-21 14:05", field="reported_at")
    return plausible_past(when, field="reported_at", label_zh="报案时间")


def normalize_case_number(raw: str) -> str:
    """One spelling per case number: full-width forms read as ASCII (NFKC), letters upper-case, so
    "ｊｚ-2026-0100" and "jz-2026-0100" are the JZ-2026-0100 already registered."""
    return unicodedata.normalize("NFKC", raw).strip().upper()


def _duplicate(case_number: str) -> InvalidInput:
    return InvalidInput("duplicate_case_number", f"案件编号 {case_number} 已登记过",
                        f"case number {case_number} is already registered", field="case_number")


def public_view(case: Case) -> dict:
    """What lists and the audit trail show: victim data masked."""
    return {"case_number": case.case_number, "amount_fen": case.amount_fen, "fraud_type": case.fraud_type,
            "victim_name": mask_name(case.victim_name), "victim_phone": mask_phone(case.victim_phone),
            "area_unit_id": case.area_unit_id, "stage": case.stage, "escalation_state": case.escalation_state,
            "tier_rule_id": case.tier_rule_id, "leader_id": case.leader_id, "supervised": case.supervised}


def _visible(actor: User):
    """Office, auditors and admins see every case; a leader sees the cases that reached them."""
    if actor.role in ("office", "auditor", "admin"):
        return None
    if actor.role == "leader":
        addressed = select(Approval.case_id).where(Approval.approver_id == actor.id)
        return or_(Case.leader_id == actor.id, Case.id.in_(addressed))
    raise Forbidden("cases_forbidden", "您的角色无权查看案件", f"role '{actor.role}' may not read cases")


def get(*, session: Session, actor: User, case_id: int) -> Case:
    condition = _visible(actor)
    query = select(Case).where(Case.id == case_id)
    case = session.exec(query if condition is None else query.where(condition)).first()
    if case is None:
        raise NotFound("case_not_found", f"案件 {case_id} 不存在", f"case {case_id} does not exist")
    return case


def list_cases(*, session: Session, actor: User, offset: int = 0, limit: int = 50,
               escalation_state: str | None = None, stage: str | None = None,
               search: str | None = None) -> tuple[list[Case], int]:
    """A page of the cases the actor may see, newest first; `search` matches part of the case
    number or the fraud type (case-insensitive)."""
    condition = _visible(actor)
    query = select(Case)
    if condition is not None:
        query = query.where(condition)
    if escalation_state:
        query = query.where(Case.escalation_state == escalation_state)
    if stage:
        query = query.where(Case.stage == stage)
    if search and search.strip():
        text = search.strip()[:64]
        query = query.where(or_(Case.case_number.icontains(text, autoescape=True),
                                Case.fraud_type.icontains(text, autoescape=True)))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(Case.registered_at.desc(), Case.id.desc()).offset(offset).limit(limit)).all()
    return list(rows), total


MAX_SUSPECTS = 10_000


def validated_result(*, case: Case, solved_at: datetime | None, suspects_caught: object, recovered_cny: object,
                     now: datetime) -> tuple[dict, list[InvalidInput]]:
    """A case's result as the columns it sets (solved_at, suspects_caught, recovered_fen), and every
    field at fault (all of them, for a form to show at once)."""
    errors: list[InvalidInput] = []
    solved = None
    if solved_at is not None:
        try:  # a year like 0001 or 9999 is refused before any zone arithmetic (issue 16, finding 8)
            solved = plausible_past(solved_at, field="solved_at", label_zh="破案时间")
        except InvalidInput as refused:
            errors.append(refused)
    if solved is not None and (solved > now + _ALLOWED_CLOCK_SKEW or solved < case.reported_at - timedelta(days=1)):
        errors.append(InvalidInput("bad_solved_at", "破案时间须在报案之后、不晚于现在",
                                   "solved_at must lie between the report and now", field="solved_at"))
    try:
        caught = int(str(suspects_caught).strip() or 0) if not isinstance(suspects_caught, bool) else -1
    except ValueError:
        caught = -1
    if not 0 <= caught <= MAX_SUSPECTS:
        errors.append(InvalidInput("bad_suspects_caught", f"抓获人数须为 0 至 {MAX_SUSPECTS} 的整数",
                                   f"suspects_caught must be a whole number from 0 to {MAX_SUSPECTS}",
                                   field="suspects_caught"))
    try:
        recovered = to_fen(parse_cny(recovered_cny)) if str(recovered_cny or "").strip() else 0
    except (ValueError, ArithmeticError):
        recovered = None
        errors.append(InvalidInput("bad_recovered", "挽损金额须为金额，如 12000 或 1.2万", "recovered must be an amount",
                                   field="recovered_cny"))
    if recovered is not None and not 0 <= recovered <= case.amount_fen:
        errors.append(InvalidInput("recovered_out_of_range", "挽损金额不能为负，也不能超过被骗金额",
                                   "recovered must be between zero and the case's amount", field="recovered_cny"))
    return {"solved_at": solved, "suspects_caught": caught, "recovered_fen": recovered}, errors


def record_result(*, session: Session, actor: User, case_id: int, solved_at: datetime | None,
                  suspects_caught: object, recovered_cny: object) -> Case:
    """The police's result for a case: solved (破案) when, people caught (抓获), money returned to
    the victim (挽损). A correction is the same call with the right figures; both are audited."""
    require_role(actor, "office", "admin")
    case = session.exec(select(Case).where(Case.id == case_id).with_for_update()).first()
    if case is None:
        raise NotFound("case_not_found", f"案件 {case_id} 不存在", f"case {case_id} does not exist")
    now = utcnow()
    result, errors = validated_result(case=case, solved_at=solved_at, suspects_caught=suspects_caught,
                                      recovered_cny=recovered_cny, now=now)
    raise_all(errors)
    solved, caught, recovered = result["solved_at"], result["suspects_caught"], result["recovered_fen"]
    before = {"solved_at": case.solved_at, "suspects_caught": case.suspects_caught, "recovered_fen": case.recovered_fen}
    if recovered != case.recovered_fen:
        case.recovered_at = now if recovered else None
    case.solved_at, case.suspects_caught, case.recovered_fen = solved, caught, recovered
    after = {"solved_at": case.solved_at, "suspects_caught": caught, "recovered_fen": recovered}
    if after == before:
        return case
    session.add(case)
    audit.record(session=session, actor=actor.username, action="case.result_recorded", entity_type="case",
                 entity_id=case.id, before={k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in before.items()},
                 after={k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in after.items()}, at=now)
    return case
