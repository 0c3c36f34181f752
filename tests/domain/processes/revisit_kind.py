"""A tests-only process kind, written as docs/architecture.md "Adding a process kind" says:
回访 (revisit) — the office asks a unit to call back on something; the flow sends it one order;
when the office accepts the unit's report, the revisit closes. Its policy section (the wording of
the order) comes from the test's policy folder."""
from sqlmodel import Session

from domain.errors import InvalidInput
from domain.orders import kinds as order_kinds
from domain.processes import registry
from domain.processes import service as processes
from domain.processes.models import Process
from domain.processes.registry import FormField, Outcome, ProcessKind, Stage, stage_move
from domain.units.models import Unit
from domain.users.models import User
from domain.users.service import require_role
from policies.schema import Strict

NAME = "test_revisit"
ORDER_KIND = order_kinds.OrderKind(NAME, "回访", "Revisit")


class RevisitRules(Strict):
    instructions: str
    basis: str


def start(*, session: Session, actor: User, unit_id: int, note: str | None = None,
          case_id: int | None = None) -> Process:
    require_role(actor, "office", "admin")
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise InvalidInput("unknown_unit", f"单位 {unit_id} 不存在", f"unit {unit_id} does not exist", field="unit_id")
    return processes.start(session=session, kind=NAME, started_by=actor.username, title=f"回访 {unit.name}",
                           subject_unit_id=unit.id, case_id=case_id, data={"note": note or ""})


def advance(step: processes.Step) -> None:
    process, rules = step.process, getattr(step.policy.processes, NAME)
    if process.stage == "started":
        step.issue("revisit", kind=NAME, addressee_unit_id=process.subject_unit_id, title=process.title,
                   instructions=rules.instructions)
        step.move_to("visiting")
    if process.stage == "visiting":
        order = step.order("revisit")
        if order.status in ("accepted", "closed"):
            step.close("done")
        elif order.status == "cancelled":
            step.close("cancelled")


def kind() -> ProcessKind:
    """The declaration (built when the fixture registers it, so importing this file changes nothing)."""
    return ProcessKind(
        name=NAME, label_zh="回访", label_en="Revisit",
        stages=(Stage("started", "已启动", "Started"), Stage("visiting", "回访中", "Visiting")),
        moves=(stage_move("visit", "started", "visiting"),),
        start=start, advance=advance,
        start_fields=(FormField("unit_id", "unit", "回访单位", "Unit"),
                      FormField("note", "text", "说明", "Note", required=False, hints={"max_length": 200}),
                      FormField("case_id", "case", "关联案件", "Case", required=False)),
        order_kinds=(NAME,), outcomes=(Outcome("done", "回访完成", "Done"), Outcome("cancelled", "已撤销", "Cancelled")),
        policy=RevisitRules, description="回访: a tests-only kind.")


def register() -> ProcessKind:
    order_kinds.declare(ORDER_KIND)
    return registry.register(kind())


def unregister() -> None:
    registry.unregister(NAME)
    order_kinds.undeclare(NAME)
