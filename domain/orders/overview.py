"""Read-only views of orders for people's screens: a unit's inbox with what needs attention marked,
the office's overdue figures and overdue orders by unit, what a person may do with an order now,
the unit picker and the case an order is about.

Every function applies the visibility of `orders.service` (a liaison sees only their unit's
orders) and reads with indexed queries; nothing here changes state.
"""
from dataclasses import dataclass

from sqlmodel import Session, func, or_, select

from domain.audit import service as audit
from domain.audit.models import AuditEvent
from domain.cases import service as cases
from domain.cases.models import Case
from domain.errors import Forbidden, InvalidInput
from domain.orders import service as orders
from domain.orders.machine import ORDER
from domain.orders.models import OPEN_STATUSES, Order
from domain.processes import registry as process_kinds
from domain.units.models import Unit
from domain.units.tree import in_tree_order
from domain.users.models import User

# What the unit owes while an order is in these statuses: 签收 (acknowledge) or 反馈 (report).
AWAITING_ACKNOWLEDGEMENT = ("issued",)
AWAITING_REPORT = ("acknowledged", "in_progress", "returned")


def outcome_name_zh(code: str) -> str | None:
    """An outcome an order may list (内鬼移送, 劝阻), in the office's words (the process kinds name them)."""
    return process_kinds.outcome_names_zh().get(code)


def _visible(query, session: Session, actor: User):
    condition = orders.visibility(session=session, actor=actor)
    return query if condition is None else query.where(condition)


def lateness(order: Order) -> str | None:
    """The deadline the unit has missed and still owes: "acknowledge", "report" or None. The
    flags are the deadline watch's and stay set as history; an order is late only while the unit
    has not done what the missed deadline asked for."""
    return _late(order.status, order.overdue_acknowledge, order.overdue_report)


def _late(status: str, overdue_acknowledge: bool, overdue_report: bool) -> str | None:
    if status in AWAITING_ACKNOWLEDGEMENT and overdue_acknowledge:
        return "acknowledge"
    if status in AWAITING_REPORT and overdue_report:
        return "report"
    return None


def owed(order: Order) -> str | None:
    """What the unit owes the office now: "acknowledge" (签收), "report" (反馈) or None."""
    if order.status in AWAITING_ACKNOWLEDGEMENT:
        return "acknowledge"
    if order.status in AWAITING_REPORT:
        return "report"
    return None


@dataclass(frozen=True)
class OrderRow:
    """An order as a list shows it: its unit's name, what the unit owes and by when, and what
    needs attention."""
    order: Order
    unit_name: str
    owes: str | None  # "acknowledge" | "report" | None
    late: str | None  # "acknowledge" | "report" | None
    escalated: bool  # 挂牌督办, while open

    @property
    def new(self) -> bool:
        """Not acknowledged yet (待签收)."""
        return self.owes == "acknowledge"

    @property
    def deadline(self):
        """The deadline of what the unit owes: 签收时限 or 办结时限 (None when it owes nothing)."""
        return {"acknowledge": self.order.acknowledge_by, "report": self.order.complete_by}.get(self.owes)


def rows_of(*, session: Session, found: list[Order]) -> list[OrderRow]:
    unit_ids = {o.addressee_unit_id for o in found}
    names = dict(session.exec(select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids))).all()) if unit_ids else {}
    return [OrderRow(order=o, unit_name=names.get(o.addressee_unit_id, ""), owes=owed(o), late=lateness(o),
                     escalated=o.escalated and o.status in OPEN_STATUSES) for o in found]


def inbox(*, session: Session, actor: User, open_only: bool = True, offset: int = 0,
          limit: int = 50) -> tuple[list[OrderRow], int]:
    """The orders of the actor's unit (and the units below it), newest first: the open ones, or all."""
    found, total = orders.list_orders(session=session, actor=actor, open_only=open_only, offset=offset, limit=limit)
    return rows_of(session=session, found=found), total


# ---- the office dashboard ----

@dataclass(frozen=True)
class OverdueFigures:
    acknowledge: int  # not acknowledged after the deadline (签收超时)
    report: int  # acknowledged, not reported after the deadline (办结超时)
    escalated: int  # open and listed for supervision (挂牌督办)


@dataclass(frozen=True)
class UnitOverdue:
    unit_id: int
    unit_name: str
    acknowledge: int
    report: int

    @property
    def total(self) -> int:
        return self.acknowledge + self.report


def overdue(*, session: Session, actor: User, units: int = 10) -> tuple[OverdueFigures, list[UnitOverdue]]:
    """The office's figures of late and escalated open orders, and the `units` units with the most
    late orders (most first). One query over the open orders that carry a flag, grouped in the
    order of ix_orders_open_flags (which covers it); the few groups are summed up here."""
    flags = (Order.status, Order.overdue_acknowledge, Order.overdue_report, Order.escalated, Order.addressee_unit_id)
    flagged = or_(Order.overdue_acknowledge.is_(True), Order.overdue_report.is_(True), Order.escalated.is_(True))
    query = _visible(select(*flags, func.count()).where(Order.status.in_(OPEN_STATUSES), flagged).group_by(*flags),
                     session, actor)
    acknowledge = report = escalated = 0
    late: dict[int, list[int]] = {}
    for status, late_ack, late_report, is_escalated, unit_id, count in session.exec(query).all():
        which = _late(status, late_ack, late_report)
        escalated += count if is_escalated else 0
        if which is not None:
            acknowledge += count if which == "acknowledge" else 0
            report += count if which == "report" else 0
            late.setdefault(unit_id, [0, 0])[0 if which == "acknowledge" else 1] += count
    top = sorted(late.items(), key=lambda item: (-sum(item[1]), item[0]))[:units]
    names = dict(session.exec(select(Unit.id, Unit.name).where(Unit.id.in_([u for u, _ in top]))).all()) if top else {}
    return (OverdueFigures(acknowledge=acknowledge, report=report, escalated=escalated),
            [UnitOverdue(unit_id=u, unit_name=names.get(u, ""), acknowledge=a, report=r) for u, (a, r) in top])


# ---- one order ----

def next_statuses(*, session: Session, order: Order, actor: User) -> frozenset[str]:
    """The statuses this person may move the order to now, as the order's machine says (the page
    shows those actions' buttons and nothing else)."""
    return frozenset(move.target for move in ORDER.allowed(session=session, actor=actor, obj=order))


def needs_amount(order: Order) -> bool:
    """A stop-payment or freeze report states the amount actually held."""
    return order.kind in orders.REPORTED_AMOUNT_KINDS


def outcome_choices(order: Order) -> list[tuple[str, str]]:
    """The outcomes the order lists (code, Chinese name); empty when it takes none."""
    return [(code, outcome_name_zh(code) or code) for code in order.details_dict.get("outcomes") or []]


def timeline(*, session: Session, actor: User, order_id: int) -> list[AuditEvent]:
    order = orders.get(session=session, actor=actor, order_id=order_id)
    return audit.history(session=session, entity_type="order", entity_id=order.id)


def unit_name(*, session: Session, unit_id: int) -> str:
    unit = session.get(Unit, unit_id)
    return unit.name if unit else ""


def case_numbers(*, session: Session, actor: User, case_ids: set[int]) -> dict[int, str]:
    """The case numbers of the cases the actor may read (a liaison reads none)."""
    ids = case_ids - {None}
    if not ids:
        return {}
    try:
        condition = cases._visible(actor)  # noqa: SLF001 — the one definition of who sees which case
    except Forbidden:
        return {}
    query = select(Case.id, Case.case_number).where(Case.id.in_(ids))
    return dict(session.exec(query if condition is None else query.where(condition)).all())


def case_by_number(*, session: Session, actor: User, case_number: str) -> Case | None:
    """The case an order is about, as the office types its number; None when left empty."""
    number = cases.normalize_case_number(case_number or "")  # typed as registered: any case, any width
    if not number:
        return None
    condition = cases._visible(actor)  # noqa: SLF001
    query = select(Case).where(Case.case_number == number)
    found = session.exec(query if condition is None else query.where(condition)).first()
    if found is None:
        raise InvalidInput("unknown_case_number", f"案件编号 {number} 不存在，请核对或留空",
                           f"there is no case numbered {number}: check it or leave it empty", field="case_number")
    return found


# ---- the unit picker ----

@dataclass(frozen=True)
class UnitGroup:
    """A top-level unit (a bank, a carrier, a county, the police bureau…) and the units below it,
    each with its depth below the group's head."""
    head: Unit
    members: list[tuple[Unit, int]]


def unit_groups(*, session: Session) -> tuple[list[Unit], list[UnitGroup]]:
    """The unit tree for picking an addressee: the roots, then one group per unit below a root."""
    roots: list[Unit] = []
    groups: list[UnitGroup] = []
    for unit, depth in in_tree_order(session=session):
        if depth == 0:
            roots.append(unit)
        elif depth == 1:
            groups.append(UnitGroup(head=unit, members=[(unit, 0)]))
        elif groups:
            groups[-1].members.append((unit, depth - 1))
    return roots, groups

