"""Read-only views of processes for people's screens: the list with its filters, one process's page
(its stage on the kind's progress line, its orders with both deadlines, its documents, its
timeline, its facts, what this person may record on it now). Visibility is `queries`'s."""
import json
from dataclasses import dataclass

from sqlmodel import Session, exists, func, select

from domain.audit import service as audit
from domain.audit.models import AuditEvent
from domain.errors import DomainError
from domain.orders import overview as order_overview
from domain.orders.models import OPEN_STATUSES, Order
from domain.processes import queries, registry
from domain.processes.models import Process
from domain.processes.registry import Fact, ProcessAction, ProcessKind, Stage
from domain.units import service as units
from domain.units.models import Unit
from domain.users.models import User

# What a timeline shows of a process event's before/after (the rest stays in the audit trail).
SHOWN_CHANGES = ("stage", "outcome", "round", "held_until", "expires_at", "ends_at", "decision", "passed")


def _overdue():
    late = (Order.overdue_acknowledge & (Order.status == "issued")) | \
        (Order.overdue_report & Order.status.in_(("acknowledged", "in_progress", "returned")))
    return exists().where(Order.process_id == Process.id, Order.status.in_(OPEN_STATUSES), late)


def search(*, session: Session, actor: User, kind: str | None = None, stage: str | None = None,
           unit_id: int | None = None, overdue: bool = False, open_only: bool = False, offset: int = 0,
           limit: int = 25) -> tuple[list[Process], int]:
    """Processes this person may see, newest first: of a kind, at a stage ("open": any but closed),
    about a unit or any unit below it, with an order past a deadline."""
    query = select(Process)
    condition = queries._condition(session, actor)  # noqa: SLF001 — the one definition of who sees what
    if condition is not None:
        query = query.where(condition)
    if kind:
        query = query.where(Process.kind == kind)
    if stage:
        query = query.where(Process.stage == stage)
    if open_only:
        query = query.where(Process.closed_at.is_(None))
    if unit_id is not None:
        query = query.where(Process.subject_unit_id.in_(units.subtree_ids(session=session, root_id=unit_id)))
    if overdue:
        query = query.where(_overdue())
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    found = session.exec(query.order_by(Process.started_at.desc(), Process.id.desc()).offset(offset).limit(limit))
    return list(found.all()), total


def can_see(*, session: Session, actor: User, process_id: int | None) -> bool:
    if process_id is None:
        return False
    try:
        queries.get_visible(session=session, actor=actor, process_id=process_id)
    except DomainError:  # not found for them, or a role that reads no processes
        return False
    return True


def unit_names(*, session: Session, unit_ids: set[int | None]) -> dict[int, str]:
    ids = {u for u in unit_ids if u is not None}
    return dict(session.exec(select(Unit.id, Unit.name).where(Unit.id.in_(ids))).all()) if ids else {}


@dataclass(frozen=True)
class ShownFact:
    fact: Fact
    value: object


@dataclass(frozen=True)
class ProcessPage:
    process: Process
    kind: ProcessKind
    stages: list[Stage]                    # the progress line: the kind's stages in order
    orders: list[order_overview.OrderRow]  # with both deadlines and what the unit owes
    facts: list[ShownFact]
    outcome: str | None
    actions: list[ProcessAction]           # what this person may record now
    timeline: list[AuditEvent]
    subject_name: str


def actions_for(*, kind: ProcessKind, process: Process, actor: User, data: dict) -> list[ProcessAction]:
    if process.closed_at is not None:
        return []
    return [a for a in kind.actions if a.offered(role=actor.role, stage=process.stage, data=data)]


def page(*, session: Session, actor: User, process_id: int) -> ProcessPage:
    process, orders = queries.get_with_orders(session=session, actor=actor, process_id=process_id)
    kind = registry.get(process.kind)
    data = queries.visible_data(session=session, actor=actor, process=process)
    facts = [ShownFact(f, data[f.key]) for f in kind.facts if data.get(f.key) not in (None, "", [], False)]
    full = json.loads(process.data or "{}")
    events = audit.history(session=session, entity_type="process", entity_id=process.id)
    return ProcessPage(process=process, kind=kind, stages=list(kind.stages),
                       orders=order_overview.rows_of(session=session, found=orders), facts=facts,
                       outcome=data.get("outcome"), actions=actions_for(kind=kind, process=process, actor=actor,
                                                                         data=full),
                       timeline=events, subject_name=unit_names(session=session, unit_ids={process.subject_unit_id})
                       .get(process.subject_unit_id, ""))


def changes(event: AuditEvent) -> list[tuple[str, str]]:
    """What a process event recorded, as (key, value) for the timeline (never names or ID numbers)."""
    after = json.loads(event.after) if event.after else {}
    if not isinstance(after, dict):
        return []
    return [(key, str(after[key])) for key in SHOWN_CHANGES if after.get(key) not in (None, "")]


def stage_kinds() -> list[tuple[str, str, str]]:
    """Every stage any kind declares, once: (code, zh, en), for the list's filter."""
    seen: dict[str, Stage] = {}
    for kind in registry.kinds():
        for stage in kind.stages:
            seen.setdefault(stage.code, stage)
    return [(s.code, s.zh, s.en) for s in seen.values()]

