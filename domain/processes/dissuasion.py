"""劝阻: a fraud warning (预警) becomes one dissuasion task, by its risk level.

Jingzhou (seed 000): high-risk warnings → home visit (上门劝阻), medium → manual phone call (电话人工
劝阻), low → SMS (短信劝阻); Caidian (seed 003): 100+ warnings a day. The policy maps each risk level
to an order kind (`order_kind_by_risk`) and lists the results the addressee may report
(`outcomes`: dissuaded / not_reached / already_lost), which `orders.report` enforces.

Who dissuades: the police station serving the victim's area, for every risk level. The station is
the nearest entry of the victim's area or any area above it in the policy's `police_unit_by_area`
(area code → police unit code), else `fallback_police_unit_code`; the process records which rule
chose it. Calls and SMS go to the same station because the office's own users cannot act as an
order's addressee (orders are acknowledged by liaisons and police), and the station knows its area.

When the office accepts the result the process closes; already_lost closes it "became_case" and a
notice tells the office to register the case (not registered here: the amount is not yet known).
The victim's name and phone are shown masked everywhere; the phone is kept in `subject_key`.

Stages and moves: `KIND` at the end. Step key: dissuasion.
"""
import logging
from typing import Literal

from pydantic import Field
from sqlmodel import Session, select

from domain.audit import service as audit
from domain import validation
from domain.cases.service import mask_name, mask_phone
from domain.errors import Conflict, InvalidInput
from domain.orders import service as orders
from domain.policy import current_policy
from domain.processes import actions
from domain.processes import registry
from domain.processes import service as processes
from domain.processes.registry import Fact, FormField, Outcome, ProcessKind, Stage, stage_move
from domain.processes.models import Process
from domain.units import service as units
from domain.units.models import Unit
from domain.users.models import User
from domain.users.service import require_role
from domain.warnings import service as warnings
from domain.warnings.models import FraudWarning
from policies.schema import DisplayBasis, Strict

log = logging.getLogger("lianban.processes")
RULE = "processes.dissuasion"
AREA_KINDS = ["county", "town", "village"]
RISK_ZH = {"high": "高危", "medium": "中危", "low": "低危"}
ACTION_ZH = {"dissuasion_visit": "上门劝阻", "dissuasion_call": "电话人工劝阻", "dissuasion_sms": "短信劝阻"}
# What the station may report (the policy lists which apply), and how a dissuasion may end.
OUTCOMES = (Outcome("dissuaded", "劝阻成功", "Dissuaded"), Outcome("not_reached", "未联系上", "Could not be reached"),
            Outcome("already_lost", "已被骗（转立案）", "Already defrauded (case opened)"),
            Outcome("became_case", "已被骗，转立案", "Became a case"), Outcome("reported", "已反馈", "Reported"),
            Outcome("cancelled", "已撤销", "Cancelled"))
OUTCOME_ZH = {o.code: o.zh for o in OUTCOMES}


class DissuasionRules(Strict):
    order_kind_by_risk: dict[Literal["high", "medium", "low"], str]
    # area unit code → the police station serving it; the victim's area or the nearest area above it
    # that is listed wins, else the fallback (police_station_for)
    police_unit_by_area: dict[str, str] = Field(default_factory=dict)
    fallback_police_unit_code: str
    outcomes: list[str] = Field(min_length=1)
    basis: str
    display_basis: DisplayBasis


def police_station_for(session: Session, rules: DissuasionRules, area: Unit) -> tuple[Unit | None, str]:
    """The police unit serving `area`, and the policy rule that chose it."""
    current: Unit | None = area
    while current is not None:
        code = rules.police_unit_by_area.get(current.code)
        if code is not None:
            police = units.by_code(session=session, code=code)
            if police is not None and police.kind == "police":
                return police, f"police_unit_by_area.{current.code}"
            log.warning("dissuasion_police_missing area=%s code=%s", current.code, code)
        current = session.get(Unit, current.parent_id) if current.parent_id is not None else None
    police = units.by_code(session=session, code=rules.fallback_police_unit_code)
    return (police if police is not None and police.kind == "police" else None), "fallback_police_unit_code"


def _phone(raw: object) -> str:
    return validation.phone(raw, field="victim_phone", label="联系电话")


def start(*, session: Session, actor: User, area: int | str, risk_level: str, victim_name: str, victim_phone: str,
          warning_number: str | None = None, case_id: int | None = None) -> Process:
    """The office turns a warning into a dissuasion task; a warning number starts it once only."""
    require_role(actor, "office", "admin")
    rules = current_policy().processes.dissuasion
    area_unit = units.resolve_area(session=session, area=area, allowed_kinds=AREA_KINDS)
    if risk_level not in rules.order_kind_by_risk:
        raise InvalidInput("bad_risk_level", f"预警等级须为：{'、'.join(RISK_ZH.get(k, k) for k in rules.order_kind_by_risk)}",
                           f"risk_level must be one of: {', '.join(rules.order_kind_by_risk)}", field="risk_level")
    name = actions.text(victim_name, field="victim_name", label_zh="劝阻对象姓名", max_len=50)
    phone = _phone(victim_phone)
    number = actions.text(warning_number, field="warning_number", label_zh="预警编号", max_len=64, required=False)
    actions.case_id(session, case_id)
    police, rule = police_station_for(session, rules, area_unit)
    if police is None:
        raise Conflict("dissuasion_police_missing", "政策未能为该辖区确定劝阻派出所，请管理员检查 processes.yaml 的"
                       " dissuasion.police_unit_by_area 与 fallback_police_unit_code",
                       "the policy names no existing police unit for this area", field="area")
    process = processes.start(session=session, kind="dissuasion", started_by=actor.username,
                           title=f"{RISK_ZH[risk_level]}预警劝阻 {area_unit.name} {mask_name(name)}",
                           case_id=case_id, subject_unit_id=area_unit.id, subject_key=phone,
                           dedupe_key=f"warning:{number}" if number else None,
                           data={"risk_level": risk_level, "area_unit_id": area_unit.id, "area_name": area_unit.name,
                                 "victim_name": mask_name(name), "victim_phone": mask_phone(phone),
                                 "police_unit_id": police.id, "police_rule": rule, "warning_number": number or None})
    if number:
        warnings.link_dissuasion(session=session, warning_number=number, area_unit_id=area_unit.id,
                                 risk_level=risk_level, process_id=process.id, at=process.started_at)
    return process


def from_warning(session: Session, values: dict) -> dict:
    """The start form opened from a warning: its area and risk level, filled in (not for one already
    being dissuaded)."""
    number = str(values.get("warning_number") or "").strip()
    warning = session.exec(select(FraudWarning).where(FraudWarning.warning_number == number)).first() if number else None
    if warning is None or warning.process_id is not None:
        return values
    return {**values, "area": str(warning.area_unit_id), "risk_level": warning.risk_level}


def _tell_office_to_register(step: processes.Step, order_id: int) -> None:
    data, office = step.data, orders.office_unit_id(step.session)
    if office is not None:
        orders.notify(session=step.session, unit_id=office, kind="register_case", order_id=order_id, now=step.now,
                      message=f"劝阻对象{data['area_name']}{data['victim_name']}（{data['victim_phone']}）已被骗，"
                              f"请核实被骗金额后登记案件（劝阻流程 {step.process.id}）。")
    audit.record(session=step.session, actor=processes.SYSTEM, action="process.case_registration_due",
                 entity_type="process", entity_id=step.process.id, after={"order_id": order_id, "unit_id": office},
                 rule=f"{RULE}.already_lost", at=step.now)


def advance(step: processes.Step) -> None:
    process, data, rules = step.process, step.data, step.policy.processes.dissuasion
    if process.stage == "started":
        kind = rules.order_kind_by_risk[data["risk_level"]]
        action = ACTION_ZH.get(kind, kind)
        choices = "、".join(OUTCOME_ZH.get(o, o) for o in rules.outcomes)  # people read it: names, not codes
        step.issue("dissuasion", kind=kind, addressee_unit_id=data["police_unit_id"],
                   title=f"{RISK_ZH[data['risk_level']]}预警 {action} {data['area_name']}{data['victim_name']}",
                   details={"outcomes": list(rules.outcomes), "risk_level": data["risk_level"]},
                   instructions=f"{data['area_name']}{data['victim_name']}（{data['victim_phone']}）"
                                f"{RISK_ZH[data['risk_level']]}预警，请立即{action}，并反馈劝阻结果：{choices}。")
        step.move_to("dissuading", rule=RULE, note={"order_kind": kind})
    if process.stage == "dissuading":
        order = step.order("dissuasion")
        if order.status in ("accepted", "closed"):
            outcome = order.details_dict.get("outcome") or "reported"
            if outcome == "already_lost":
                step.close("became_case", rule=f"{RULE}.already_lost")
                _tell_office_to_register(step, order.id)
            else:
                step.close(outcome, rule=RULE)
        elif order.status == "cancelled":
            step.close("cancelled", rule=RULE)
        if process.closed_at is not None:
            warnings.record_outcome(session=step.session, process_id=process.id, outcome=step.data.get("outcome", ""),
                                    at=step.now)


KIND = registry.register(ProcessKind(
    name="dissuasion", label_zh="劝阻", label_en="Dissuasion",
    stages=(Stage("started", "已启动", "Started"), Stage("dissuading", "劝阻中", "Dissuading")),
    moves=(stage_move("dispatch", "started", "dissuading"),),
    start=start, advance=advance,
    start_fields=(FormField("area", "unit_or_code", "辖区", "Area", hints={
                      "unit_kinds": AREA_KINDS,
                      "description": "the victim's area: unit id or code (county, town or village)"}),
                  FormField("risk_level", "choice", "预警等级", "Risk level", hints={
                      "choices": {k: RISK_ZH[k] for k in ("high", "medium", "low")},
                      "description": "high, medium or low"}),
                  FormField("victim_name", "text", "劝阻对象姓名", "Person's name", hints={"max_length": 50}),
                  FormField("victim_phone", "text", "联系电话", "Phone", hints={"pattern": r"\+?\d{7,15}"}),
                  FormField("warning_number", "text", "预警编号", "Warning number", required=False, hints={
                      "max_length": 64, "description": "预警编号: the same number starts one process only"}),
                  FormField("case_id", "case", "关联案件", "Case", required=False)),
    order_kinds=("dissuasion_visit", "dissuasion_call", "dissuasion_sms"), outcomes=OUTCOMES,
    policy=DissuasionRules, prefill=from_warning,
    facts=(Fact("warning_number", "预警编号", "Warning number"),
           Fact("risk_level", "预警等级", "Risk level", "choice", RISK_ZH), Fact("area_name", "辖区", "Area"),
           Fact("victim_name", "劝阻对象", "Person"), Fact("victim_phone", "联系电话", "Phone")),
    summary_zh="按预警等级劝阻：高危上门劝阻、中危电话劝阻、低危短信劝阻，由辖区派出所执行并反馈结果。",
    summary_en="Dissuades a warned person by risk level: a home visit, a call or an SMS, by the local police station.",
    description="劝阻: high → home visit, medium → call, low → SMS, by the station serving the victim's area."))
