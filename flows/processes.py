"""The cross-department processes as Prefect flows: one flow per kind, each run advances one
process by whatever is due (the state is in our tables; a run that finds nothing due does nothing).
Flow runs are named after the process and tagged with its case and unit for the Prefect UI."""
import logging

from prefect import flow, get_run_logger, tags, task

from domain.db import session_scope
from domain.orders import documents as order_documents
from domain.processes import service as processes
from domain.processes.models import Process
from domain.timeutil import utcnow

processes.load_kinds()
log = logging.getLogger("lianban.flows.processes")


def _advance(process_id: int) -> str | None:
    with session_scope() as session:
        stage = processes.advance(session=session, process_id=process_id)
    if stage is not None:
        get_run_logger().info("advanced process_id=%s stage=%s", process_id, stage)
    return stage


def _flow(kind: str, label: str):
    @flow(name=f"process-{kind.replace('_', '-')}", flow_run_name=f"{label} {{title}}",
          description=f"{label}: advance one process by what is due", log_prints=False)
    def advance_process(process_id: int, title: str = "") -> str | None:
        return _advance(process_id)

    return advance_process


PROCESS_FLOWS = {
    "reverse_audit": _flow("reverse_audit", "倒查"),
    "outlet_suspension": _flow("outlet_suspension", "停业整顿"),
    "insider_referral": _flow("insider_referral", "内鬼移送"),
    "stop_payment": _flow("stop_payment", "紧急止付"),
    "freeze": _flow("freeze", "冻结"),
    "disciplinary": _flow("disciplinary", "惩戒"),
    "dissuasion": _flow("dissuasion", "劝阻"),
}


def advance_due_processes(*, via_prefect: bool = True, limit: int = 200) -> int:
    """Run the flow of every process that something happened to or whose timer came. Returns how
    many moved."""
    with session_scope(reading=True) as session:
        due = [(p.id, p.kind, p.title, p.case_id, p.subject_unit_id)
               for p in (session.get(Process, i) for i in processes.due(session=session, now=utcnow(), limit=limit))]
    moved = 0
    for process_id, kind, title, case_id, unit_id in due:
        labels = [f"process:{process_id}", f"unit:{unit_id}"] + ([f"case:{case_id}"] if case_id else [])
        try:
            if via_prefect:
                with tags(*labels):
                    moved += PROCESS_FLOWS[kind](process_id, title) is not None
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


@task(name="issue-order-document", task_run_name="公文 for order {order_id}", retries=2, retry_delay_seconds=2)
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
