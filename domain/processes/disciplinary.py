"""惩戒: measures against a person found dealing in cards or accounts, for the policy's period.

Shiyan (seed 004), Anti-Fraud Law Art. 31–32 and the joint punishment rules in force since
2024-12-01: banks suspend the person's non-counter business (暂停非柜面业务) or set accounts to
receive-only (只收不付); banks and carriers limit card opening (限制开卡); carriers limit calls
(限制通话). 3 years for a conviction, 2 for card dealing (policy `years_by_ground`); consecutive
periods at most `cap_years` together; the person is told in writing (告知书) and may appeal; the
measures lift automatically at expiry.

The ID number is kept in `Process.subject_key` (to find the person's earlier periods) and shown
everywhere else masked: first 6 + **** + last 4.

Stages and moves: `KIND` at the end; it closes expired or appeal_upheld. Step keys: measure_<measure>_<unit id>, lift_<measure>_<unit id>.
"""
import json
from datetime import datetime
from typing import Literal

from pydantic import Field
from sqlmodel import Session, select

from domain.audit import service as audit
from domain import validation
from domain.cases.service import mask_name
from domain.errors import Conflict, InvalidInput
from domain.policy import current_policy
from domain.processes import actions
from domain.processes import registry
from domain.processes import service as processes
from domain.processes.registry import Fact, FormField, Outcome, ProcessAction, ProcessKind, Stage, stage_move
from domain.processes.models import Process
from domain.processes.payments import add_months
from domain.timeutil import SHANGHAI, utcnow
from domain.units.models import Unit
from domain.users.models import User
from domain.users.service import require_role
from policies.schema import DisplayBasis, Strict

RULE = "processes.disciplinary"
BANK_KINDS = ("bank", "bank_branch", "bank_outlet")
CARRIER_KINDS = ("carrier", "carrier_outlet")
# Which member units carry out each measure (law Art. 31: banks for accounts, carriers for phone cards).
MEASURE_UNITS = {"suspend_non_counter": BANK_KINDS, "receive_only": BANK_KINDS,
                 "limit_card_opening": BANK_KINDS + CARRIER_KINDS, "limit_calls": CARRIER_KINDS}
MEASURE_ZH = {"suspend_non_counter": "暂停非柜面业务", "receive_only": "只收不付",
              "limit_card_opening": "限制开卡数量", "limit_calls": "限制通话"}
GROUND_ZH = {"convicted": "因电信网络诈骗相关犯罪被判处刑罚", "card_dealing": "买卖、出租、出借电话卡或银行账户"}
# Periods that never counted towards the cap: voided on appeal, or cancelled.
VOID_OUTCOMES = ("appeal_upheld", "cancelled")
IN_FORCE = ("started", "in_force", "under_appeal")
DONE = ("accepted", "closed")



class DisciplinaryRules(Strict):
    years_by_ground: dict[str, int] = Field(min_length=1)
    cap_years: int = Field(ge=1)
    measures: list[Literal["suspend_non_counter", "receive_only", "limit_card_opening", "limit_calls"]] = Field(min_length=1)
    basis: str
    display_basis: DisplayBasis


def normalize_id_number(raw: object) -> str:
    """A resident ID number (GB 11643): 18 characters with a valid check digit. Never echoed back."""
    return validation.id_number(raw)


mask_id = validation.mask_id


def _day(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y年%m月%d日")


def plan_period(periods: list[tuple[datetime, datetime]], *, now: datetime, years: int,
                cap_years: int) -> dict:
    """The new period from `now`, given the person's earlier periods (start, end).

    Periods that overlap or touch make one consecutive chain; the chain may last `cap_years` from
    its first start. A new period that would run past that is shortened to end there: the new
    finding still warrants measures for as long as the cap allows, and refusing it would leave the
    person unrestricted once the current period ends. When the chain's current periods already
    reach the cap, nothing remains and the new period is refused (`remaining` is False).
    """
    chain_start, grew = now, True
    while grew:
        grew = False
        for start, end in periods:
            if start < chain_start <= end:
                chain_start, grew = start, True
    covered_until = max([end for _, end in periods if end > now], default=now)
    cap_ends = add_months(chain_start, 12 * cap_years)
    wanted = add_months(now, 12 * years)
    ends = min(wanted, cap_ends)
    return {"starts_at": now, "ends_at": ends, "wanted_ends_at": wanted, "shortened": wanted > cap_ends,
            "chain_started_at": chain_start, "cap_ends_at": cap_ends,
            "remaining": wanted <= cap_ends or cap_ends > covered_until}


def _periods(session: Session, id_number: str) -> list[tuple[datetime, datetime]]:
    found = []
    for data in session.exec(select(Process.data).where(Process.kind == "disciplinary",
                                                        Process.subject_key == id_number)).all():
        data = json.loads(data)
        if data.get("outcome") not in VOID_OUTCOMES:
            found.append((datetime.fromisoformat(data["starts_at"]), datetime.fromisoformat(data["ends_at"])))
    return found


def _addressees(session: Session, measures: object, unit_ids: object, allowed: list[str]) -> list[tuple[str, int]]:
    if not isinstance(measures, list) or not measures or any(m not in allowed for m in measures):
        raise InvalidInput("bad_measures", f"惩戒措施须从以下选择：{'、'.join(MEASURE_ZH[m] for m in allowed)}",
                           f"measures must be chosen from: {', '.join(allowed)}", field="measures")
    if not isinstance(unit_ids, list) or not unit_ids or not all(type(u) is int for u in unit_ids):
        raise InvalidInput("bad_addressees", "请指定执行措施的银行或运营商", "name the banks and carriers that carry "
                           "out the measures", field="addressee_unit_ids")
    found = [session.get(Unit, u) for u in dict.fromkeys(unit_ids)]
    if any(u is None or u.kind not in BANK_KINDS + CARRIER_KINDS for u in found):
        raise InvalidInput("bad_addressees", "执行单位须为银行或运营商", "every addressee must be a bank or carrier unit",
                           field="addressee_unit_ids")
    measures = list(dict.fromkeys(measures))
    pairs = [(m, u.id) for m in measures for u in found if u.kind in MEASURE_UNITS[m]]
    for measure in measures:
        if not any(m == measure for m, _ in pairs):
            who = "银行" if MEASURE_UNITS[measure] == BANK_KINDS else "运营商"
            raise InvalidInput("measure_without_unit", f"措施“{MEASURE_ZH[measure]}”须至少指定一家{who}",
                               f"measure {measure} needs at least one unit that can carry it out",
                               field="addressee_unit_ids")
    for unit in found:
        if not any(u == unit.id for _, u in pairs):
            raise InvalidInput("unit_without_measure", f"{unit.name}不承担所选的任何措施",
                               f"{unit.name} carries out none of the chosen measures", field="addressee_unit_ids")
    return pairs


def start(*, session: Session, actor: User, person_name: str, id_number: str, ground: str, measures: list[str],
          addressee_unit_ids: list[int], case_id: int | None = None) -> Process:
    """The office imposes measures on a person for the policy's period (capped; see `plan_period`)."""
    require_role(actor, "office", "admin")
    rules = current_policy().processes.disciplinary
    name = actions.text(person_name, field="person_name", label_zh="当事人姓名", max_len=50)
    id_number = normalize_id_number(id_number)
    if ground not in rules.years_by_ground:
        raise InvalidInput("bad_ground", f"惩戒事由须为：{'、'.join(GROUND_ZH.get(g, g) for g in rules.years_by_ground)}",
                           f"ground must be one of: {', '.join(rules.years_by_ground)}", field="ground")
    pairs = _addressees(session, measures, addressee_unit_ids, list(rules.measures))
    actions.case_id(session, case_id)
    actions.lock_key(session, f"person:{id_number}")
    now = utcnow()
    plan = plan_period(_periods(session, id_number), now=now, years=rules.years_by_ground[ground],
                       cap_years=rules.cap_years)
    if not plan["remaining"]:
        raise InvalidInput("cap_reached", f"该人员自{_day(plan['chain_started_at'])}起连续惩戒期限已达{rules.cap_years}年上限"
                           f"（至{_day(plan['cap_ends_at'])}），不能再设定新的惩戒期限",
                           f"this person's consecutive periods already reach the {rules.cap_years}-year cap",
                           field="id_number")
    return processes.start(session=session, kind="disciplinary", started_by=actor.username,
                           title=f"惩戒 {mask_name(name)}（{mask_id(id_number)}）", case_id=case_id,
                           subject_key=id_number,
                           data={"person_name": name, "id_number": mask_id(id_number), "ground": ground,
                                 "years": rules.years_by_ground[ground], "measures": list(dict.fromkeys(measures)),
                                 "pairs": [list(p) for p in pairs], "cap_years": rules.cap_years,
                                 **{k: v.isoformat() if isinstance(v, datetime) else v
                                    for k, v in plan.items() if k != "remaining"}})


def record_appeal(*, session: Session, actor: User, process_id: int, grounds: str) -> Process:
    """The person appeals (申诉, Art. 32); the office records it. One appeal per period; the
    measures stay in force until it is decided."""
    require_role(actor, "office", "admin")
    process = actions.locked(session=session, process_id=process_id, kind="disciplinary", stages=IN_FORCE,
                             doing_zh="登记申诉")
    if json.loads(process.data).get("appeal"):
        raise Conflict("appeal_exists", "该惩戒已登记过申诉，不能重复登记", "this period was already appealed")
    grounds = actions.text(grounds, field="grounds", label_zh="申诉理由", max_len=5000)
    appeal = {"filed_at": utcnow().isoformat(), "grounds": grounds, "recorded_by": actor.username, "decision": None}
    return actions.record(session=session, actor=actor, process=process, action="appeal_recorded",
                          changes={"appeal": appeal}, note={"filed_at": appeal["filed_at"]})


def decide_appeal(*, session: Session, actor: User, process_id: int, upheld: object, reason: str) -> Process:
    """The office decides: upheld → every measure is lifted at once; rejected → they continue."""
    require_role(actor, "office", "admin")
    if not isinstance(upheld, bool):
        raise InvalidInput("bad_upheld", "请填写申诉是否成立（true/false）", "upheld must be true or false", field="upheld")
    process = actions.locked(session=session, process_id=process_id, kind="disciplinary", stages=IN_FORCE,
                             doing_zh="决定申诉")
    appeal = json.loads(process.data).get("appeal")
    if not appeal or appeal.get("decision") is not None:
        raise Conflict("no_pending_appeal", "该惩戒没有待决定的申诉", "there is no pending appeal to decide")
    reason = actions.text(reason, field="reason", label_zh="决定理由", max_len=5000)
    decision = "upheld" if upheld else "rejected"
    appeal = {**appeal, "decision": decision, "reason": reason, "decided_by": actor.username,
              "decided_at": utcnow().isoformat()}
    return actions.record(session=session, actor=actor, process=process, action="appeal_decided",
                          changes={"appeal": appeal}, note={"decision": decision})


def record_notice_served(*, session: Session, actor: User, process_id: int, served_on: datetime) -> Process:
    """告知书送达: the office records the day the person was told in writing (Art. 32)."""
    require_role(actor, "office", "admin")
    process = actions.locked(session=session, process_id=process_id, kind="disciplinary", stages=IN_FORCE,
                             doing_zh="登记告知书送达")
    if not isinstance(served_on, datetime) or served_on > utcnow():
        raise InvalidInput("bad_served_on", "请填写告知书送达日期（不能晚于今天）", "the day the notice was served, not in "
                           "the future", field="served_on")
    served = {"written_notice": "served", "notice_served_on": served_on.isoformat()}
    return actions.record(session=session, actor=actor, process=process, action="written_notice_served",
                          changes=served, note=served)


def _pending_appeal(data: dict) -> bool:
    return bool(data.get("appeal")) and data["appeal"].get("decision") is None


def ground_choices() -> dict[str, str]:
    """The grounds the policy knows, each with the period it carries (the start form's choices)."""
    years = current_policy().processes.disciplinary.years_by_ground
    return {g: f"{GROUND_ZH.get(g, g)}（惩戒期限{n}年）" for g, n in years.items()}


def _kept_by_other_periods(step: processes.Step) -> set[tuple[str, int]]:
    """(measure, unit) pairs another period of the same person still requires: not lifted now."""
    kept: set[tuple[str, int]] = set()
    for other in step.session.exec(select(Process).where(Process.kind == "disciplinary",
                                                         Process.subject_key == step.process.subject_key,
                                                         Process.id != step.process.id,
                                                         Process.closed_at.is_(None))).all():
        data = json.loads(other.data)
        if other.stage in IN_FORCE and datetime.fromisoformat(data["ends_at"]) > step.now:
            kept |= {(m, u) for m, u in data["pairs"]}
    return kept


def _lift(step: processes.Step, reason: str) -> None:
    data, kept = step.data, _kept_by_other_periods(step)
    person = f"{data['person_name']}（身份证号{data['id_number']}）"
    why = "申诉成立" if reason == "appeal_upheld" else f"惩戒期限已于{_day(datetime.fromisoformat(data['ends_at']))}届满"
    for measure, unit_id in data["pairs"]:
        if (measure, unit_id) not in kept:
            step.issue(f"lift_{measure}_{unit_id}", kind="lift_measure", addressee_unit_id=unit_id,
                       title=f"解除对{mask_name(data['person_name'])}的{MEASURE_ZH[measure]}措施",
                       details={"measure": measure, "person": data["id_number"], "reason": reason},
                       instructions=f"{why}，请立即解除对{person}采取的“{MEASURE_ZH[measure]}”措施，并反馈解除情况。")
    step.update_data(lift_reason=reason, lifted_at=step.now.isoformat(),
                     kept_for_other_periods=sorted([m, u] for m, u in kept if [m, u] in data["pairs"]))
    step.move_to("lifting", rule=f"{RULE}.{reason}", note={"reason": reason})


def advance(step: processes.Step) -> None:
    session, process, data = step.session, step.process, step.data
    if process.stage == "started":
        person = f"{data['person_name']}（身份证号{data['id_number']}）"
        starts, ends = datetime.fromisoformat(data["starts_at"]), datetime.fromisoformat(data["ends_at"])
        for measure, unit_id in data["pairs"]:
            step.issue(f"measure_{measure}_{unit_id}", kind="disciplinary_measure", addressee_unit_id=unit_id,
                       title=f"对{mask_name(data['person_name'])}{MEASURE_ZH[measure]}",
                       details={"measure": measure, "person": data["id_number"], "starts_at": data["starts_at"],
                                "ends_at": data["ends_at"]},
                       instructions=f"{person}{GROUND_ZH.get(data['ground'], data['ground'])}，"
                                    f"依据《中华人民共和国反电信网络诈骗法》第三十一条及"
                                    f"《电信网络诈骗及其关联违法犯罪联合惩戒办法》，请对其采取“{MEASURE_ZH[measure]}”措施，"
                                    f"期限自{_day(starts)}至{_day(ends)}，期满自动解除。请反馈执行情况。")
        # 告知书: the person must be told in writing of the measures, the reason and the appeal channel
        # (Art. 32). The document itself is issued elsewhere; here the step records that it is due.
        step.update_data(written_notice="due")
        audit.record(session=session, actor=processes.SYSTEM, action="process.written_notice_due",
                     entity_type="process", entity_id=process.id, rule=f"{RULE}.written_notice", at=step.now,
                     after={"document": "告知书", "person": data["id_number"], "ends_at": data["ends_at"]})
        step.move_to("in_force", rule=RULE, note={"ends_at": data["ends_at"], "orders": len(data["pairs"])})
    if process.stage in ("in_force", "under_appeal"):
        appeal = data.get("appeal") or {}
        if appeal.get("decision") == "upheld":
            _lift(step, "appeal_upheld")
        elif step.now >= datetime.fromisoformat(data["ends_at"]):
            _lift(step, "expired")
        else:
            step.move_to("under_appeal" if appeal and appeal.get("decision") is None else "in_force", rule=RULE)
            step.wake_at(datetime.fromisoformat(data["ends_at"]))
    if process.stage == "lifting":
        lifts = [o for o in step.orders() if (o.step_key or "").startswith("lift_")]
        if all(o.status in DONE for o in lifts):
            step.close(step.data["lift_reason"], rule=RULE)


KIND = registry.register(ProcessKind(
    name="disciplinary", label_zh="惩戒", label_en="Disciplinary measures",
    stages=(Stage("started", "已启动", "Started"), Stage("in_force", "惩戒执行中", "In force"),
            Stage("under_appeal", "申诉审查中", "Under appeal"), Stage("lifting", "解除措施中", "Lifting")),
    moves=(stage_move("impose", "started", "in_force"),
           stage_move("appeal", "in_force", "under_appeal"),
           stage_move("appeal_rejected", "under_appeal", "in_force"),
           stage_move("lift", ("in_force", "under_appeal"), "lifting")),
    start=start, advance=advance,
    start_fields=(FormField("person_name", "text", "当事人姓名", "Person's name", hints={"max_length": 50}),
                  FormField("id_number", "text", "身份证号码", "ID number", hints={
                      "pattern": r"\d{17}[\dX]", "description": "18-character resident ID number; shown masked everywhere"}),
                  FormField("ground", "choice", "惩戒事由", "Ground", hints={
                      "choices": ground_choices,
                      "description": "a key of the policy's years_by_ground, e.g. convicted, card_dealing"}),
                  FormField("measures", "choice_list", "惩戒措施", "Measures", hints={
                      "choices": lambda: {m: MEASURE_ZH[m] for m in current_policy().processes.disciplinary.measures},
                      "description": "suspend_non_counter, receive_only, limit_card_opening, limit_calls"}),
                  FormField("addressee_unit_ids", "unit_list", "执行单位", "Banks and carriers", hints={
                      "unit_kinds": BANK_KINDS + CARRIER_KINDS,
                      "description": "banks and carriers that carry out the measures"}),
                  FormField("case_id", "case", "关联案件", "Case", required=False)),
    order_kinds=("disciplinary_measure", "lift_measure"), policy=DisciplinaryRules,
    outcomes=(Outcome("expired", "期满解除", "Expired"), Outcome("appeal_upheld", "申诉成立，已解除", "Appeal upheld"),
              Outcome("cancelled", "已撤销", "Cancelled")),
    actions=(ProcessAction("notice-served", "登记告知书送达", "Record the written notice served", record_notice_served,
                           stages=IN_FORCE, ready=lambda data: data.get("written_notice") == "due", fields=(
                 FormField("served_on", "date", "送达日期", "Served on"),)),
             ProcessAction("appeal", "登记申诉", "Record an appeal", record_appeal, stages=IN_FORCE,
                           ready=lambda data: not data.get("appeal"), fields=(
                 FormField("grounds", "text", "申诉理由", "Grounds", hints={
                     "max_length": 5000, "multiline": True, "description": "申诉理由, as the person gave them"}),)),
             ProcessAction("appeal-decision", "决定申诉", "Decide the appeal", decide_appeal, stages=IN_FORCE,
                           ready=_pending_appeal, fields=(
                 FormField("upheld", "bool", "申诉成立", "Upheld",
                           hints={"description": "申诉成立: true lifts every measure at once"}),
                 FormField("reason", "text", "决定理由", "Reason", hints={"max_length": 5000, "multiline": True})))),
    facts=(Fact("person_name", "当事人", "Person"), Fact("id_number", "身份证号码", "ID number"),
           Fact("ground", "惩戒事由", "Ground", "choice", GROUND_ZH),
           Fact("measures", "惩戒措施", "Measures", "choices", MEASURE_ZH),
           Fact("starts_at", "惩戒期限自", "From", "date"), Fact("ends_at", "惩戒期限至", "Until", "date"),
           Fact("shortened", "因连续惩戒上限缩短", "Shortened by the cap", "bool"),
           Fact("written_notice", "书面告知", "Written notice", "choice", {"due": "待送达", "served": "已送达"}),
           Fact("notice_served_on", "告知书送达日期", "Notice served on", "date"),
           Fact("appeal", "申诉", "Appeal", "appeal")),
    summary_zh="对买卖、出租、出借“两卡”或因电诈犯罪被判刑的人员实施联合惩戒：银行、运营商按措施执行，书面告知当事人，"
               "受理申诉，期满自动解除。",
    summary_en="Measures against a person for the policy's period, carried out by banks and carriers; "
               "appeals decided by the office.",
    description="惩戒: one order per measure and unit for the policy's period (consecutive periods capped)."))
