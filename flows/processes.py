"""The cross-department processes as Prefect flows: one flow per registered kind
(domain/processes/registry.py), each run advancing one process by whatever is due (the state is in
our tables; a run that finds nothing due does nothing). Flow runs are named after the process and
tagged with its kind, case number and unit for the Prefect UI."""
import logging

from prefect import flow, get_run_logger, tags, task
from sqlmodel import select

from domain.cases.models import Case
from domain.db import session_scope
from domain.orders import documents as order_documents
from domain.processes import registry
from domain.processes import service as processes
from domain.processes.models import Process
from domain.timeutil import utcnow
from domain.units.models import Unit
from flows import names

log = logging.getLogger("lianban.flows.processes")


def _advance(process_id: int) -> str | None:
    with session_scope() as session:
        stage = processes.advance(session=session, process_id=process_id)
    if stage is not None:
        get_run_logger().info("advanced process_id=%s stage=%s", process_id, stage)
    return stage


def _flow(kind: registry.ProcessKind):
    @flow(name=f"process-{kind.slug}", flow_run_name="{title}",
          description=f"{kind.label_zh} ({kind.label_en}): advance one process by what is due", log_prints=False)
    def advance_process(process_id: int, title: str = "") -> str | None:
        """`title`: the run's name (flows.names.process_run), e.g. 倒查 · 中国银行江陵支行 · 2026Q1."""
        return _advance(process_id)

    return advance_process


_FLOWS: dict[str, tuple[registry.ProcessKind, object]] = {}


def process_flow(kind: str):
    """The Prefect flow of a registered kind, built once per kind declaration."""
    declared = registry.get(kind)
    built = _FLOWS.get(kind)
    if built is None or built[0] is not declared:
        built = _FLOWS[kind] = (declared, _flow(declared))
    return built[1]


def run_tags(*, kind: str, process_id: int, case_number: str | None, unit_code: str | None) -> list[str]:
    """What a process's flow run is tagged with: its kind, case number and unit."""
    return [f"kind:{kind}", f"process:{process_id}", f"unit:{unit_code or '-'}"] + \
        ([f"case:{case_number}"] if case_number else [])


def advance_due_processes(*, via_prefect: bool = True, limit: int = 200) -> int:
    """Run the flow of every process that something happened to or whose timer came. Returns how
    many moved."""
    with session_scope(reading=True) as session:
        due = processes.due(session=session, now=utcnow(), limit=limit)
        rows = session.exec(select(Process.id, Process.kind, Process.dedupe_key, Case.case_number, Unit.code,
                                   Unit.name)
                            .outerjoin(Case, Case.id == Process.case_id)
                            .outerjoin(Unit, Unit.id == Process.subject_unit_id)
                            .where(Process.id.in_(due)).order_by(Process.id)).all() if due else []
    moved = 0
    for process_id, kind, dedupe_key, case_number, unit_code, unit_name in rows:
        try:
            if via_prefect:
                title = names.process_run(kind_zh=registry.get(kind).label_zh, process_id=process_id,
                                          unit_name=unit_name, case_number=case_number, dedupe_key=dedupe_key)
                with tags(*run_tags(kind=kind, process_id=process_id, case_number=case_number, unit_code=unit_code)):
                    moved += process_flow(kind)(process_id, title) is not None
            else:
                with session_scope() as session:
                    moved += processes.advance(session=session, process_id=process_id) is not None
        except Exception:  # one broken process must not hold up the others; it is retried next pass
            log.exception("advance_failed process_id=%s kind=%s", process_id, kind)
            _retry_later(process_id)
    return moved


def _retry_later(process_id: int) -> None:
    """The claim cleared `needs_advance` before the failure rolled back; make sure it is looked at again."""
    from sqlalchemy import update

    with session_scope() as session:
        session.execute(update(Process).where(Process.id == process_id, Process.closed_at.is_(None))
                        .values(needs_advance=True))


@task(name="issue-order-document", task_run_name="印制公文 · 指令{order_id}", retries=2, retry_delay_seconds=2)
def issue_order_document(order_id: int) -> str | None:
    """Number and render the official document of one order (GB/T 9704), once."""
    with session_scope() as session:
        doc = order_documents.issue_for(session=session, order_id=order_id)
        return doc.number if doc else None


def issue_due_documents(*, via_prefect: bool = True, limit: int = 50) -> int:
    """The documents of orders issued since the last pass (rendering stays out of people's requests)."""
    with session_scope(reading=True) as session:
        due = order_documents.due(session=session, limit=limit)
    issued = 0
    for order_id in due:
        try:
            number = issue_order_document(order_id) if via_prefect else issue_order_document.fn(order_id)
            issued += number is not None
        except Exception:  # one bad document must not hold up the others; retried next pass
            log.exception("document_failed order_id=%s", order_id)
    return issued
