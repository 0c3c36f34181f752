"""停业整顿: a carrier or bank outlet involved in two-card (两卡) cases is suspended for rectification.

Jingzhou (seed 000): carrier outlets involved in "two cards" were suspended for rectification
(Anti-Fraud Law Art. 39–41). The procedure: the office orders the suspension → the outlet's
liaison acknowledges and reports it executed, with evidence → the outlet reports its rectification
→ the office inspects it (验收) → passed: the outlet is told to reopen (恢复营业); failed: the
suspension is extended by another rectification round, then inspected again.

Stages and their moves: `KIND` at the end. Step keys: suspension, rectification_<round>, lift.
"""
import json

from sqlmodel import Session, select

from domain.errors import Conflict, InvalidInput
from domain.processes import actions
from domain.processes import registry
from domain.processes import service as processes
from domain.processes.registry import Fact, FormField, Outcome, ProcessAction, ProcessKind, Stage, stage_move
from domain.processes.models import Process
from domain.timeutil import utcnow
from domain.units.models import Unit
from domain.users.models import User
from domain.users.service import require_role

OUTLET_KINDS = ("carrier_outlet", "bank_outlet")  # 营业厅, 营业部/网点
RULE = "processes.outlet_suspension"
DONE = ("accepted", "closed")


def start(*, session: Session, actor: User, outlet_unit_id: int, reason: str, case_id: int | None = None) -> Process:
    """The office suspends an outlet; one suspension at a time per outlet."""
    require_role(actor, "office", "admin")
    outlet = session.get(Unit, outlet_unit_id)
    if outlet is None or outlet.kind not in OUTLET_KINDS:
        raise InvalidInput("not_an_outlet", "停业整顿对象须为运营商营业厅或银行营业网点",
                           "the unit to suspend must be a carrier or bank outlet", field="outlet_unit_id")
    reason = actions.text(reason, field="reason", label_zh="停业整顿原因", max_len=2000)
    actions.case_id(session, case_id)
    actions.lock_key(session, f"outlet:{outlet.id}")
    already = session.exec(select(Process.id).where(Process.kind == "outlet_suspension",
                                                    Process.subject_unit_id == outlet.id,
                                                    Process.closed_at.is_(None))).first()
    if already is not None:
        raise Conflict("suspension_open", f"{outlet.name}已在停业整顿中（流程 {already}），请在原流程中办理",
                       f"{outlet.name} is already suspended (process {already})", field="outlet_unit_id")
    return processes.start(session=session, kind="outlet_suspension", started_by=actor.username,
                           title=f"{outlet.name} 停业整顿", subject_unit_id=outlet.id, case_id=case_id,
                           data={"reason": reason, "round": 0, "inspections": []})


def record_inspection(*, session: Session, actor: User, process_id: int, passed: object,
                      findings: str | None = None) -> Process:
    """验收: the office records whether the outlet's rectification passed; a failure must say why."""
    require_role(actor, "office", "admin")
    if not isinstance(passed, bool):
        raise InvalidInput("bad_passed", "请填写验收是否通过（true/false）", "passed must be true or false", field="passed")
    process = actions.locked(session=session, process_id=process_id, kind="outlet_suspension",
                             stages=("awaiting_inspection",), doing_zh="登记验收结果")
    findings = actions.text(findings, field="findings", label_zh="验收意见", max_len=2000, required=not passed)
    data = json.loads(process.data)
    current, done = data["round"], data.get("inspections") or []
    if any(i["round"] == current for i in done):
        raise Conflict("inspection_recorded", f"第{current}轮整改的验收结果已登记", f"round {current} is already inspected")
    inspection = {"round": current, "passed": passed, "findings": findings, "by": actor.username,
                  "at": utcnow().isoformat()}
    return actions.record(session=session, actor=actor, process=process, action="inspection_recorded",
                          changes={"inspections": [*done, inspection]}, note=inspection)


def _order_rectification(step: processes.Step, outlet: Unit, round_no: int, findings: str | None) -> None:
    extended = f"经验收未通过（{findings}），停业整顿期限延长，" if findings else ""
    step.issue(f"rectification_{round_no}", kind="rectification_report", addressee_unit_id=outlet.id,
               title=f"{outlet.name}停业整顿整改报告（第{round_no}轮）", details={"round": round_no},
               instructions=f"{extended}请查明涉“两卡”问题原因，落实整改，并按时报送整改报告及证明材料。")


def advance(step: processes.Step) -> None:
    session, process = step.session, step.process
    outlet = session.get(Unit, process.subject_unit_id)
    if process.stage == "started":
        step.issue("suspension", kind="outlet_suspension", addressee_unit_id=outlet.id,
                   title=f"{outlet.name}停业整顿", details={"outlet_unit_id": outlet.id},
                   instructions=f"因{step.data['reason']}，请{outlet.name}即日起停业整顿：签收后停止对外营业，"
                                "并上传停业公告、现场照片等证据，反馈执行情况。")
        step.move_to("suspending", rule=RULE)
    if process.stage == "suspending":
        order = step.order("suspension")
        if order.status in DONE:
            step.update_data(suspended_at=(order.reported_at or step.now).isoformat(), round=1)
            _order_rectification(step, outlet, 1, None)
            step.move_to("rectifying", rule=RULE, note={"round": 1})
        elif order.status == "cancelled":
            step.close("cancelled", rule=RULE)
            return
    if process.stage == "rectifying":
        current = step.data["round"]
        if step.order(f"rectification_{current}").status in DONE:
            step.move_to("awaiting_inspection", rule=RULE, note={"round": current})
    if process.stage == "awaiting_inspection":
        current = step.data["round"]
        inspection = next((i for i in step.data.get("inspections") or [] if i["round"] == current), None)
        if inspection is not None and inspection["passed"]:
            step.issue("lift", kind="lift_measure", addressee_unit_id=outlet.id, title=f"{outlet.name}恢复营业",
                       details={"outlet_unit_id": outlet.id},
                       instructions=f"{outlet.name}停业整顿经验收合格，请恢复营业，并反馈恢复营业情况。")
            step.move_to("reopening", rule=RULE, note={"round": current})
        elif inspection is not None:
            _order_rectification(step, outlet, current + 1, inspection["findings"])
            step.update_data(round=current + 1)
            step.move_to("rectifying", rule=f"{RULE}.extended", note={"round": current + 1, "extended": True})
    if process.stage == "reopening" and step.order("lift").status in DONE:
        step.close("reopened", rule=RULE)


KIND = registry.register(ProcessKind(
    name="outlet_suspension", label_zh="停业整顿", label_en="Outlet suspension",
    stages=(Stage("started", "已启动", "Started"), Stage("suspending", "停业执行中", "Suspending"),
            Stage("rectifying", "整改中", "Rectifying"), Stage("awaiting_inspection", "待验收", "Awaiting inspection"),
            Stage("reopening", "恢复营业中", "Reopening")),
    moves=(stage_move("suspend", "started", "suspending"),
           stage_move("rectify", "suspending", "rectifying"),
           stage_move("report_rectified", "rectifying", "awaiting_inspection"),
           stage_move("extend", "awaiting_inspection", "rectifying"),   # inspection failed: another round
           stage_move("reopen", "awaiting_inspection", "reopening")),
    start=start, advance=advance,
    start_fields=(FormField("outlet_unit_id", "unit", "营业厅或网点", "Outlet", hints={
                      "unit_kinds": OUTLET_KINDS, "description": "the carrier or bank outlet (营业厅/网点) to suspend"}),
                  FormField("reason", "text", "停业整顿原因", "Reason", hints={"max_length": 2000}),
                  FormField("case_id", "case", "关联案件", "Case", required=False)),
    order_kinds=("outlet_suspension", "rectification_report", "lift_measure"),
    outcomes=(Outcome("reopened", "验收合格，恢复营业", "Reopened"), Outcome("cancelled", "已撤销", "Cancelled")),
    actions=(ProcessAction("inspection", "验收", "Inspection", record_inspection, fields=(
        FormField("passed", "bool", "验收通过", "Passed",
                  hints={"description": "验收通过: true reopens the outlet, false extends the suspension"}),
        FormField("findings", "text", "验收意见", "Findings", required=False,
                  hints={"max_length": 2000, "description": "验收意见; required when not passed"})),
        description="验收: passed → the outlet reopens; failed → another rectification round.",
        stages=("awaiting_inspection",)),),
    facts=(Fact("reason", "停业整顿原因", "Reason"), Fact("round", "整改轮次", "Rectification round"),
           Fact("suspended_at", "停业时间", "Suspended at", "datetime"),
           Fact("inspections", "验收记录", "Inspections", "inspections")),
    summary_zh="责令涉“两卡”的营业厅或网点停业整顿：执行停业、报送整改、联席办验收，合格后恢复营业，不合格延长整改。",
    summary_en="Suspends a carrier or bank outlet until its rectification passes inspection.",
    description="停业整顿: the outlet is ordered to suspend, rectify, and is inspected before it reopens."))
