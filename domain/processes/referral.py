"""行业内鬼: a suspected colluding employee of a bank or carrier is referred to the police.

Jingzhou (seed 000): 3 carrier insiders caught; Yulin (seed 001): 162 caught, 54 detained. A bank's
or carrier's liaison, or the office, reports the employee; the flow refers the lead to the police
unit the policy names (线索移送); the police acknowledge and report the outcome, choosing one of the
policy's outcomes (the order carries them, `orders.report` refuses any other); once the office
accepts the report the process closes and the employer is told the outcome by a notice.

Sealed (保密): until it closes, the employer's whole subtree sees nothing of it — the process and its
order carry `sealed_from_unit_id`. The reporting unit sees its stage and outcome only
(`queries.REPORTER_FIELDS`); the police see the employee and the facts in the order, not who
reported. After closing the employer sees the stage and outcome, never the reporter or the facts.
"""
import logging
from datetime import timedelta

from pydantic import Field
from sqlmodel import Session

from domain.audit import service as audit
from domain.cases.service import mask_name
from domain.errors import Conflict, Forbidden, InvalidInput
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
from policies.schema import DisplayBasis, Strict

log = logging.getLogger("lianban.processes")
EMPLOYER_KINDS = ("bank", "bank_branch", "bank_outlet", "carrier", "carrier_outlet")
RULE = "processes.insider_referral"
# What the police may report (the policy lists which apply), and how a referral may end.
OUTCOMES = (Outcome("criminal_detention", "刑事拘留", "Criminal detention"),
            Outcome("administrative_penalty", "行政处罚", "Administrative penalty"),
            Outcome("education_discipline", "批评教育、纪律处分", "Criticism and disciplinary action"),
            Outcome("no_case", "查无实据，不予立案", "No evidence found, no case opened"),
            Outcome("reported", "已反馈", "Reported"), Outcome("cancelled", "已撤销", "Cancelled"))
OUTCOME_ZH = {o.code: o.zh for o in OUTCOMES}


class ReferralRules(Strict):
    police_unit_code: str
    outcomes: list[str] = Field(min_length=1)
    basis: str
    display_basis: DisplayBasis


def report_insider(*, session: Session, actor: User, employer_unit_id: int, employee_name: str, facts: str,
                   case_id: int | None = None, evidence: str | None = None,
                   police_unit_id: int | None = None) -> Process:
    """A bank's or carrier's liaison, or the office, reports a suspected insider (内鬼)."""
    if actor.role not in ("liaison", "office", "admin"):
        raise Forbidden("role_forbidden", "只有银行、运营商联络员或联席办可以报送内鬼线索",
                        f"role '{actor.role}' may not report insiders")
    employer = session.get(Unit, employer_unit_id)
    if employer is None or employer.kind not in EMPLOYER_KINDS:
        raise InvalidInput("not_an_employer", "被举报单位须为银行或运营商的机构、网点",
                           "the employer must be a bank or carrier unit", field="employer_unit_id")
    if actor.role == "liaison":
        if session.get(Unit, actor.unit_id).kind not in EMPLOYER_KINDS:
            raise Forbidden("role_forbidden", "只有银行、运营商联络员可以报送内鬼线索",
                            "only bank and carrier liaisons report insiders")
        if employer.id in units.ancestor_ids(session=session, unit_id=actor.unit_id):
            # The lead is sealed from the employer's subtree, the reporter's own unit included: the
            # reporter could not follow it, and colleagues must not see it. Report it from above.
            raise InvalidInput("reporter_inside_employer",
                               "被举报单位是您所在单位或其上级，线索在办结前须对其保密；请由上级单位联络员或联席办报送",
                               "the employer is your own unit or above it: the lead is sealed from it, so "
                               "report it through a superior unit's liaison or the office", field="employer_unit_id")
    name = actions.text(employee_name, field="employee_name", label_zh="涉嫌员工姓名", max_len=50)
    facts = actions.text(facts, field="facts", label_zh="线索事实", max_len=5000)
    evidence = actions.text(evidence, field="evidence", label_zh="证据材料", max_len=5000, required=False)
    actions.case_id(session, case_id)
    if police_unit_id is None:
        police = _police_unit(session, current_policy().processes.insider_referral.police_unit_code, refuse=True)
    else:
        police = session.get(Unit, police_unit_id)
        if police is None or police.kind != "police":
            raise InvalidInput("not_a_police_unit", "接收线索的单位须为公安机关", "the receiving unit must be a police unit",
                               field="police_unit_id")
    reporter_unit = session.get(Unit, actor.unit_id)
    return processes.start(session=session, kind="insider_referral", started_by=actor.username,
                           title=f"{employer.name} 行业内鬼线索移送", subject_unit_id=employer.id, case_id=case_id,
                           reported_by_unit_id=reporter_unit.id, sealed_from_unit_id=employer.id,
                           data={"employee": name, "facts": facts, "evidence": evidence or None,
                                 "police_unit_id": police.id, "police_unit": police.name,
                                 "reporter": {"unit_id": reporter_unit.id, "unit_name": reporter_unit.name,
                                              "username": actor.username}})


def _police_unit(session: Session, code: str, *, refuse: bool = False) -> Unit | None:
    police = units.by_code(session=session, code=code)
    if (police is None or police.kind != "police") and refuse:
        raise Conflict("referral_police_missing", f"政策指定的线索接收单位 {code} 不存在或不是公安单位，请管理员检查"
                       " processes.yaml 的 insider_referral.police_unit_code",
                       f"the policy's insider_referral.police_unit_code {code!r} is not a police unit")
    return police if police is not None and police.kind == "police" else None


def _tell_employer(step: processes.Step, employer: Unit, outcome: str) -> None:
    """The employer learns the outcome (and whom it concerns), never the reporter or the facts."""
    name = step.data["employee"]
    who = mask_name(name) if outcome == "no_case" else name  # a cleared employee is not named
    orders.notify(session=step.session, unit_id=employer.id, kind="referral_outcome", order_id=None, now=step.now,
                  message=f"贵单位员工{who}涉嫌行业内鬼线索已办结，公安机关处理结果：{OUTCOME_ZH.get(outcome, outcome)}。"
                          "请依规做好内部处理和整改。")
    audit.record(session=step.session, actor=processes.SYSTEM, action="process.employer_told", entity_type="process",
                 entity_id=step.process.id, after={"unit_id": employer.id, "outcome": outcome}, rule=RULE, at=step.now)


def advance(step: processes.Step) -> None:
    session, process, rules = step.session, step.process, step.policy.processes.insider_referral
    employer = session.get(Unit, process.subject_unit_id)
    if process.stage == "started":
        chosen = step.data.get("police_unit_id")
        police = session.get(Unit, chosen) if chosen else _police_unit(session, rules.police_unit_code)
        if police is None:  # the policy changed under a running referral: look again in ten minutes
            log.error("referral_police_missing process_id=%s code=%s", process.id, rules.police_unit_code)
            step.wake_at(step.now + timedelta(minutes=10))
            return
        choices = "、".join(OUTCOME_ZH.get(o, o) for o in rules.outcomes)  # people read it: names, not codes
        step.issue("referral", kind="insider_referral", addressee_unit_id=police.id,
                   sealed_from_unit_id=process.sealed_from_unit_id, title=f"{employer.name}行业内鬼线索移送",
                   details={"outcomes": list(rules.outcomes), "employer_unit_id": employer.id},
                   instructions=f"现将{employer.name}员工{step.data['employee']}涉嫌为电信网络诈骗提供帮助的线索移送你单位，"
                                f"请依法核查。线索：{step.data['facts']}\n"
                                + (f"证据材料：{step.data['evidence']}\n" if step.data.get("evidence") else "")
                                + "本线索在办结前对被举报单位保密。"
                                f"反馈时请选择处理结果：{choices}。")
        step.move_to("referred", rule=RULE)
    if process.stage == "referred":
        order = step.order("referral")
        if order.status in ("accepted", "closed"):
            outcome = order.details_dict.get("outcome") or "reported"
            step.close(outcome, rule=RULE)
            _tell_employer(step, employer, outcome)
        elif order.status == "cancelled":
            step.close("cancelled", rule=RULE)


KIND = registry.register(ProcessKind(
    name="insider_referral", label_zh="内鬼移送", label_en="Insider referral",
    stages=(Stage("started", "已启动", "Started"), Stage("referred", "已移送公安", "Referred to the police")),
    moves=(stage_move("refer", "started", "referred"),),
    start=report_insider, advance=advance,
    start_fields=(FormField("employer_unit_id", "unit", "被举报单位", "Employer", hints={
                      "unit_kinds": EMPLOYER_KINDS,
                      "description": "the bank or carrier unit the suspected insider works for"}),
                  FormField("employee_name", "text", "涉嫌员工姓名", "Employee's name", hints={"max_length": 50}),
                  FormField("facts", "text", "线索事实", "Facts", hints={"max_length": 5000, "multiline": True}),
                  FormField("evidence", "text", "证据材料", "Evidence", required=False, hints={
                      "max_length": 5000, "multiline": True,
                      "description": "what proves it: records, recordings, statements (described)"}),
                  FormField("police_unit_id", "unit", "接收线索的公安单位", "Police unit", required=False, hints={
                      "unit_kinds": ("police",), "description": "empty: the police unit the policy names"}),
                  FormField("case_id", "case", "关联案件", "Case", required=False)),
    order_kinds=("insider_referral",), outcomes=OUTCOMES, policy=ReferralRules,
    start_roles=("office", "admin", "liaison"),
    facts=(Fact("employee", "涉嫌员工", "Employee"), Fact("facts", "线索事实", "Facts"),
           Fact("evidence", "证据材料", "Evidence"),
           Fact("police_unit", "接收线索的公安单位", "Police unit")),
    summary_zh="银行、运营商或联席办报送涉嫌内鬼线索，移送公安机关核查；办结前对被举报单位保密，办结后告知其处理结果。",
    summary_en="Refers a suspected insider of a bank or carrier to the police, sealed from the employer until closed.",
    description="行业内鬼: referred to the police, sealed from the employer until it is closed; the reporting "
                "unit sees its stage and outcome only."))
