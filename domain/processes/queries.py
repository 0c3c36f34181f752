"""Who sees which process, and how much of it.

The office, auditors and admins see everything. A liaison sees a process only through the orders
addressed to their unit, plus the processes their unit reported (then only stage and outcome).
A process sealed from a unit (an open insider referral) is invisible to that unit's whole subtree.
"""
import json

from sqlmodel import Session, or_, select

from domain.errors import Forbidden, NotFound
from domain.orders import service as orders
from domain.orders.models import Order
from domain.processes.models import Process
from domain.units import service as units
from domain.users.models import User

ALL_SEEING = ("office", "admin", "auditor")
# What a reporting unit may read of a process it reported (no names, no facts).
REPORTER_FIELDS = ("outcome",)


def _condition(session: Session, actor: User):
    if actor.role in ALL_SEEING:
        return None
    if actor.role not in ("liaison", "police", "leader"):
        raise Forbidden("processes_forbidden", "您的角色无权查看流程", f"role '{actor.role}' may not read processes")
    order_visibility = orders.visibility(session=session, actor=actor)
    addressed = select(Order.process_id).where(Order.process_id.is_not(None), order_visibility)
    mine = units.subtree_ids(session=session, root_id=actor.unit_id)
    ancestors = units.ancestor_ids(session=session, unit_id=actor.unit_id)
    not_sealed = or_(Process.sealed_from_unit_id.is_(None), Process.closed_at.is_not(None),
                     Process.sealed_from_unit_id.not_in(ancestors))
    # Once closed the seal lifts, and the unit it was sealed from sees the process (stage and outcome).
    told = Process.closed_at.is_not(None) & Process.sealed_from_unit_id.in_(ancestors)
    return (or_(Process.id.in_(addressed), Process.reported_by_unit_id.in_(mine), told)) & not_sealed


def list_processes(*, session: Session, actor: User, kind: str | None = None, open_only: bool = False,
                   offset: int = 0, limit: int = 50) -> list[Process]:
    query = select(Process)
    condition = _condition(session, actor)
    if condition is not None:
        query = query.where(condition)
    if kind:
        query = query.where(Process.kind == kind)
    if open_only:
        query = query.where(Process.closed_at.is_(None))
    return list(session.exec(query.order_by(Process.started_at.desc(), Process.id.desc()).offset(offset).limit(limit)).all())


def get_visible(*, session: Session, actor: User, process_id: int) -> Process:
    query = select(Process).where(Process.id == process_id)
    condition = _condition(session, actor)
    process = session.exec(query if condition is None else query.where(condition)).first()
    if process is None:
        raise NotFound("process_not_found", f"流程 {process_id} 不存在", f"process {process_id} does not exist")
    return process


def get_with_orders(*, session: Session, actor: User, process_id: int) -> tuple[Process, list[Order]]:
    process = get_visible(session=session, actor=actor, process_id=process_id)
    query = select(Order).where(Order.process_id == process.id).order_by(Order.id)
    condition = orders.visibility(session=session, actor=actor)
    return process, list(session.exec(query if condition is None else query.where(condition)).all())


def visible_data(*, session: Session, actor: User, process: Process) -> dict:
    data = json.loads(process.data or "{}")
    if actor.role in ALL_SEEING:
        return data
    addressed = session.exec(select(Order.id).where(Order.process_id == process.id,
                                                    orders.visibility(session=session, actor=actor))).first()
    if addressed is not None:
        return {k: v for k, v in data.items() if k not in ("reporter", "employee", "facts", "evidence")}
    return {k: v for k, v in data.items() if k in REPORTER_FIELDS}
