"""Orders: issue, acknowledge, report back, review; who sees what; the deadline watch's steps.

Each transition is one conditional update guarded by the order's current status, so of two
liaisons acknowledging at once exactly one succeeds, and the audit trail records one entry.
"""
import json
import logging
import re
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, and_, func, or_, select

from domain.audit import service as audit
from domain.cases.models import Case
from domain.cases.machine import CASE_STAGE
from domain.errors import DomainError, Forbidden, InvalidInput, NotFound
from domain.money import parse_cny, to_fen
from domain.orders import kinds as order_kinds
from domain.orders.machine import ADDRESSEE_ROLES, OFFICE_ROLES, ORDER
from domain.orders.models import OPEN_STATUSES, Notice, Order
from domain.policy import current_policy
from domain.processes.models import Process
from domain.timeutil import utcnow
from domain.transitions import withdraw
from domain.units import service as units
from domain.units.models import Unit
from domain.users.models import User
from domain.validation import Collector
from policies.calendar import WorkingCalendar
from policies.loader import PolicySet

log = logging.getLogger("lianban.orders")

# Who may move an order from which status to which: the order's machine (domain/orders/machine.py).
# 止付、冻结: the report states the amount actually stopped or frozen.
REPORTED_AMOUNT_KINDS = ("stop_payment", "freeze")
MAX_INSTRUCTIONS = 2000  # a document paragraph's limit (domain/documents/service.py)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # line breaks and tabs are fine
SYSTEM_ACTORS = "system:"


def _now_due(order: Order, status: str, now: datetime) -> datetime | None:
    """When the deadline watch must next look at an order in `status`."""
    if status == "issued":
        return order.acknowledge_by
    if status in ("acknowledged", "in_progress", "returned"):
        return order.complete_by
    return None  # reported: the office's turn; accepted/closed/cancelled: nothing due


def view(order: Order) -> dict:
    return {"status": order.status, "addressee_unit_id": order.addressee_unit_id, "kind": order.kind,
            "acknowledge_by": order.acknowledge_by, "complete_by": order.complete_by,
            "reminders": order.reminders, "escalated": order.escalated}


def notify(*, session: Session, unit_id: int, kind: str, message: str, order_id: int | None, now: datetime) -> None:
    session.add(Notice(unit_id=unit_id, order_id=order_id, kind=kind, message=message, created_at=now))


def notices_for(*, session: Session, actor: User, limit: int = 50) -> list[Notice]:
    """Reminders, escalations and outcomes addressed to the actor's unit or a unit below it (an
    outlet without a liaison of its own is read by its branch's), newest first."""
    query = select(Notice).where(Notice.unit_id.in_(units.subtree_ids(session=session, root_id=actor.unit_id)))
    condition = visibility(session=session, actor=actor)
    if condition is not None:  # a notice about an order is for those who may open the order
        query = query.where(or_(Notice.order_id.is_(None), Notice.order_id.in_(select(Order.id).where(condition))))
    return list(session.exec(query.order_by(Notice.created_at.desc(), Notice.id.desc()).limit(limit)).all())


def office_unit_id(session: Session) -> int | None:
    return session.exec(select(Unit.id).where(Unit.kind == "office").order_by(Unit.id)).first()


# ---- issuing ----

def issue(*, session: Session, issued_by: str, kind: str, addressee_unit_id: int, title: str,
          instructions: str = "", case_id: int | None = None, process_id: int | None = None,
          step_key: str | None = None, details: dict | None = None, sealed_from_unit_id: int | None = None,
          policy: PolicySet | None = None, now: datetime | None = None) -> Order:
    """Issue an order. A process step (process_id + step_key) is issued at most once: asking again
    returns the order already issued."""
    policy = policy or current_policy()
    now = now or utcnow()
    if process_id is not None and step_key is not None:
        existing = session.exec(select(Order).where(Order.process_id == process_id, Order.step_key == step_key)).first()
        if existing is not None:
            return existing
    declared, rules = order_kinds.get(kind), policy.orders.kinds.get(kind)
    if rules is None:  # declared, but the city's orders.yaml gives it no deadlines
        raise InvalidInput("unknown_order_kind", f"未知的指令类型：{kind}", f"unknown order kind: {kind}", field="kind")
    addressee = session.get(Unit, addressee_unit_id)
    if addressee is None:
        raise InvalidInput("unknown_unit", f"接收单位 {addressee_unit_id} 不存在", f"unit {addressee_unit_id} does not exist",
                           field="addressee_unit_id")
    calendar = WorkingCalendar(policy.calendar)
    ends = policy.orders.working_day_ends
    order = Order(kind=kind, title=title.strip(), instructions=(instructions or "").strip(),
                  addressee_unit_id=addressee.id, case_id=case_id, process_id=process_id, step_key=step_key,
                  details=json.dumps(details or {}, ensure_ascii=False, sort_keys=True, default=str),
                  status="issued", issued_at=now, issued_by=issued_by,
                  acknowledge_by=calendar.deadline(now, rules.acknowledge_within, ends),
                  complete_by=calendar.deadline(now, rules.complete_within, ends),
                  sealed_from_unit_id=sealed_from_unit_id, policy_version=policy.file_version("orders"),
                  document_due=declared.document is not None)
    order.next_check_at = order.acknowledge_by
    try:
        with session.begin_nested():
            session.add(order)
            session.flush()
    except IntegrityError:
        # Another run of the same process step won the race: theirs is the order.
        return session.exec(select(Order).where(Order.process_id == process_id, Order.step_key == step_key)).one()
    audit.record(session=session, actor=issued_by, action="order.issued", entity_type="order", entity_id=order.id,
                 after={**view(order), "title": order.title, "case_id": case_id, "process_id": process_id},
                 rule=f"orders.{kind}", at=now)
    notify(session=session, unit_id=addressee.id, kind="new_order", order_id=order.id, now=now,
           message=f"新指令：{declared.label_zh}「{order.title}」，请于时限内签收")
    if case_id is not None:
        _hand_over(session, case_id, actor=issued_by, order_id=order.id, now=now)
    log.info("order_issued order_id=%s kind=%s unit_id=%s process_id=%s", order.id, kind, addressee.id, process_id)
    return order


def _hand_over(session: Session, case_id: int, *, actor: str, order_id: int, now: datetime) -> None:
    """研→交 (seed 000's closed loop): the first order issued for a case still being researched
    hands it over to the member units. Later stages (办, 督, 结) are not moved back."""
    case = session.exec(select(Case).where(Case.id == case_id).with_for_update()).first()
    if case is None or not CASE_STAGE.move_for("hand_over", case.stage):
        return
    try:  # the issuer's name in the trail; the move itself is the order's automatic consequence
        CASE_STAGE.apply(session=session, actor=actor, obj=case, action="hand_over", after={"order_id": order_id},
                         rule="cases.stage.handover", now=now)
    except DomainError as done:  # another order handed it over at the same moment
        withdraw(session, done)


def issue_by_office(*, session: Session, actor: User, kind: str, addressee_unit_id: int | None, title: str,
                    instructions: str = "", case_id: int | None = None, details: dict | None = None,
                    case_number: str | None = None) -> Order:
    """The office orders a unit. The case is given by id (API) or as the office types its number
    (web); every field at fault is reported at once."""
    _require(actor, OFFICE_ROLES)
    found = Collector()
    if kind not in current_policy().orders.kinds:
        found.add(InvalidInput("unknown_order_kind", f"未知的指令类型：{kind}" if kind else "请选择指令类型",
                               f"unknown order kind: {kind}" if kind else "choose the kind of order", field="kind"))
    if addressee_unit_id is None:
        found.add(InvalidInput("unit_required", "请选择接收单位", "choose the unit the order goes to",
                               field="addressee_unit_id"))
    elif session.get(Unit, addressee_unit_id) is None:
        found.add(InvalidInput("unknown_unit", f"接收单位 {addressee_unit_id} 不存在",
                               f"unit {addressee_unit_id} does not exist", field="addressee_unit_id"))
    if not (title or "").strip() or len(title) > 200 or _CONTROL.search(title):
        found.add(InvalidInput("bad_title", "指令标题不能为空，最长200字", "title must be 1 to 200 characters",
                               field="title"))
    if len(instructions or "") > MAX_INSTRUCTIONS or _CONTROL.search(instructions or ""):
        # The order's document carries the instructions: what it could not print is refused here.
        found.add(InvalidInput("bad_instructions", f"指令内容最长{MAX_INSTRUCTIONS}字，且不能含控制字符",
                               f"instructions must be at most {MAX_INSTRUCTIONS} printable characters",
                               field="instructions"))
    if case_number is not None and case_id is None:
        from domain.orders.overview import case_by_number  # the office's look-up of a typed number

        case = found.check(case_by_number, session=session, actor=actor, case_number=case_number)
        case_id = case.id if case else None
    elif case_id is not None and session.get(Case, case_id) is None:
        found.add(InvalidInput("unknown_case", f"案件 {case_id} 不存在", f"case {case_id} does not exist", field="case_id"))
    found.done()
    return issue(session=session, issued_by=actor.username, kind=kind, addressee_unit_id=addressee_unit_id,
                 title=title, instructions=instructions, case_id=case_id, details=details)


# ---- who sees what ----

def _require(actor: User, roles: tuple[str, ...]) -> None:
    if actor.role not in roles:
        raise Forbidden("role_forbidden", "您的角色无权执行此操作", f"role '{actor.role}' may not do this")


def visibility(*, session: Session, actor: User):
    """A SQL condition for the orders `actor` may see, or None for all of them."""
    if actor.role in ("office", "admin", "auditor"):
        return None
    if actor.role in ADDRESSEE_ROLES:
        mine = units.subtree_ids(session=session, root_id=actor.unit_id)
        ancestors = units.ancestor_ids(session=session, unit_id=actor.unit_id)
        # Sealed orders stay hidden from the implicated unit's whole subtree.
        return and_(Order.addressee_unit_id.in_(mine),
                    or_(Order.sealed_from_unit_id.is_(None), Order.sealed_from_unit_id.not_in(ancestors)))
    if actor.role == "leader":
        return Order.case_id.in_(select(Case.id).where(Case.leader_id == actor.id))
    raise Forbidden("orders_forbidden", "您的角色无权查看指令", f"role '{actor.role}' may not read orders")


def get(*, session: Session, actor: User, order_id: int) -> Order:
    """An order the actor may see; anyone else gets "not found", not "forbidden" (no probing)."""
    condition = visibility(session=session, actor=actor)
    query = select(Order).where(Order.id == order_id)
    order = session.exec(query if condition is None else query.where(condition)).first()
    if order is None:
        raise NotFound("order_not_found", f"指令 {order_id} 不存在", f"order {order_id} does not exist")
    return order


def list_orders(*, session: Session, actor: User, status: str | None = None, kind: str | None = None,
                case_id: int | None = None, overdue: bool | None = None, escalated: bool | None = None,
                open_only: bool = False, offset: int = 0, limit: int = 50) -> tuple[list[Order], int]:
    query = select(Order)
    condition = visibility(session=session, actor=actor)
    if condition is not None:
        query = query.where(condition)
    if status:
        query = query.where(Order.status == status)
    if open_only:
        query = query.where(Order.status.in_(OPEN_STATUSES))
    if kind:
        query = query.where(Order.kind == kind)
    if case_id is not None:
        query = query.where(Order.case_id == case_id)
    if overdue is not None:
        late = or_(Order.overdue_acknowledge == True, Order.overdue_report == True)  # noqa: E712
        query = query.where(late if overdue else ~late)
    if escalated is not None:
        query = query.where(Order.escalated == escalated)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(Order.issued_at.desc(), Order.id.desc()).offset(offset).limit(limit)).all()
    return list(rows), total


# ---- transitions ----

def _transition(*, session: Session, order: Order, action: str, actor, values: dict | None = None,
                rule: str | None = None, now: datetime) -> Order:
    """Move the order through its machine: the guard checks who and from where, the UPDATE is
    conditional on the status seen, the audit entry is written with it."""
    source = order.status
    move = ORDER.move_for(action, source)  # None: the guard in `apply` refuses it
    target = move.target if move else source
    before = view(order)
    values = {**(values or {}), "next_check_at": _now_due(order, target, now)}
    ORDER.apply(session=session, actor=actor, obj=order, action=action, values=values, before=before,
                after={**view(order), "status": target,
                       **{k: v for k, v in values.items() if k.endswith(("_text", "comment", "reason", "_fen", "details"))}},
                rule=rule or f"orders.{order.kind}", now=now)
    if order.process_id is not None:
        # The process's flow looks again (e.g. a rectification accepted → lift the suspension).
        session.execute(update(Process).where(Process.id == order.process_id).values(needs_advance=True))
    log.info("order_transition order_id=%s from=%s to=%s actor=%s", order.id, source, target, order_actor(actor))
    return order


def order_actor(actor) -> str:
    return actor if isinstance(actor, str) else actor.username


def _for(session: Session, actor: User, order_id: int, action: str) -> Order:
    """The order an action is asked on: the role is checked before the order is read (a refusal
    then says nothing of it); the relation and the status by the machine."""
    ORDER.check_role(session=session, actor=actor, action=action, entity_id=order_id)
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound("order_not_found", f"指令 {order_id} 不存在", f"order {order_id} does not exist")
    return order


def acknowledge(*, session: Session, actor: User, order_id: int) -> Order:
    """签收: one click; a second acknowledgement (or a colleague's at the same moment) is refused."""
    order = _for(session, actor, order_id, "acknowledge")
    now = utcnow()
    return _transition(session=session, order=order, action="acknowledge", actor=actor, now=now,
                       values={"acknowledged_at": now, "acknowledged_by_id": actor.id})


def start_work(*, session: Session, actor: User, order_id: int) -> Order:
    order = _for(session, actor, order_id, "start")
    return _transition(session=session, order=order, action="start", actor=actor, now=utcnow())


def report(*, session: Session, actor: User, order_id: int, text: str, amount_cny: object = None,
           outcome: str | None = None) -> Order:
    """反馈: what was done, for stop-payments and freezes the amount actually held, and for orders
    whose details list `outcomes` (内鬼移送, 劝阻) which one it was."""
    order = _for(session, actor, order_id, "report")
    ORDER.check(session=session, actor=actor, obj=order, action="report")  # whose it is, before the form
    found = Collector()  # every field at fault at once
    text = (text or "").strip()
    if not text or len(text) > 5000:
        found.add(InvalidInput("bad_report", "反馈内容不能为空，最长5000字", "the report must be 1 to 5000 characters",
                               field="text"))
    values: dict = {"reported_at": utcnow(), "report_text": text}
    if order.kind in REPORTED_AMOUNT_KINDS:
        try:
            amount = parse_cny(amount_cny)
            if amount < 0 or -amount.as_tuple().exponent > 2:
                found.add(InvalidInput("bad_amount", "金额须为非负数，最多两位小数", "amount must be zero or more, in fen",
                                       field="amount_cny"))
            else:
                values["reported_amount_fen"] = to_fen(amount)
        except ValueError as exc:
            found.add(InvalidInput("amount_required", f"止付、冻结指令须填写实际止付/冻结金额：{exc.zh}",
                                   f"stop-payment and freeze reports need the amount actually held: {exc}",
                                   field="amount_cny"))
    details = order.details_dict
    if details.get("outcomes") or outcome is not None:
        allowed = details.get("outcomes") or []
        if outcome not in allowed:
            found.add(InvalidInput("bad_outcome", f"处理结果须为以下之一：{'、'.join(allowed)}" if allowed else "此类指令无需填写处理结果",
                                   f"outcome must be one of: {', '.join(allowed)}" if allowed else "this order takes no outcome",
                                   field="outcome"))
        values["details"] = json.dumps({**details, "outcome": outcome}, ensure_ascii=False, sort_keys=True, default=str)
    found.done()
    return _transition(session=session, order=order, action="report", actor=actor, values=values,
                       now=values["reported_at"])


def accept(*, session: Session, actor: User, order_id: int, comment: str | None = None) -> Order:
    order = _for(session, actor, order_id, "accept")
    now = utcnow()
    return _transition(session=session, order=order, action="accept", actor=actor, now=now,
                       values={"reviewed_at": now, "review_comment": (comment or "").strip() or None})


def return_for_rework(*, session: Session, actor: User, order_id: int, comment: str) -> Order:
    ORDER.check_role(session=session, actor=actor, action="return", entity_id=order_id)
    comment = (comment or "").strip()
    if not comment:
        raise InvalidInput("comment_required", "退回重办须写明原因", "returning for rework needs a comment", field="comment")
    order = _for(session, actor, order_id, "return")
    now = utcnow()
    order = _transition(session=session, order=order, action="return", actor=actor, now=now,
                        values={"reviewed_at": now, "review_comment": comment})
    notify(session=session, unit_id=order.addressee_unit_id, kind="returned", order_id=order.id, now=now,
           message=f"指令「{order.title}」的反馈被退回重办：{comment}")
    return order


def cancel(*, session: Session, actor: User, order_id: int, reason: str) -> Order:
    ORDER.check_role(session=session, actor=actor, action="cancel", entity_id=order_id)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("reason_required", "撤销指令须写明原因", "cancelling an order needs a reason", field="reason")
    order = _for(session, actor, order_id, "cancel")
    now = utcnow()
    return _transition(session=session, order=order, action="cancel", actor=actor, now=now,
                       values={"cancelled_reason": reason, "closed_at": now})


def close(*, session: Session, order: Order, actor_name: str) -> Order:
    """办结: an accepted order is closed by its process when the process ends (a system actor)."""
    now = utcnow()
    return _transition(session=session, order=order, action="close", actor=actor_name, now=now,
                       values={"closed_at": now})


# ---- the deadline watch ----

def due_query(*, now: datetime, limit: int = 1000):
    """The one query of the deadline watch, served by ix_orders_next_check_at."""
    return select(Order.id, Order.next_check_at).where(Order.next_check_at <= now).order_by(Order.next_check_at).limit(limit)


def due_for_check(*, session: Session, now: datetime, limit: int = 1000) -> list[tuple[int, datetime]]:
    return list(session.exec(due_query(now=now, limit=limit)).all())


def check_deadline(*, session: Session, order_id: int, seen_next_check_at: datetime,
                   policy: PolicySet | None = None, actor_name: str = "system:deadline-watch") -> str | None:
    """An order past a deadline: mark it overdue, remind the unit (催办) at the policy cadence, and
    after the policy's number of reminders escalate it (挂牌督办): the unit's superior and the office
    are told and the order is flagged. Claimed by its `next_check_at`, so it happens once."""
    policy = policy or current_policy()
    now = utcnow()
    order = session.get(Order, order_id)
    if order is None or order.next_check_at is None or order.next_check_at > now:
        return None
    rules = policy.orders.kinds.get(order.kind)
    every = rules.remind_every if rules else policy.escalation.approval.remind_after
    late_ack = order.status == "issued" and now >= order.acknowledge_by
    late_report = order.status in ("acknowledged", "in_progress", "returned") and now >= order.complete_by
    values: dict = {"next_check_at": now + every}
    if not (late_ack or late_report):
        values["next_check_at"] = _now_due(order, order.status, now)
        if values["next_check_at"] is not None and values["next_check_at"] <= now:
            values["next_check_at"] = now + every
    else:
        values["reminders"] = order.reminders + 1
        values["overdue_acknowledge"] = order.overdue_acknowledge or late_ack
        values["overdue_report"] = order.overdue_report or late_report
        threshold = policy.orders.escalate_after_reminders
        escalate_now = values["reminders"] >= threshold and not order.escalated
        if escalate_now:
            values.update(escalated=True, escalations=order.escalations + 1)
    claimed = session.execute(update(Order).where(Order.id == order_id, Order.next_check_at == seen_next_check_at)
                              .values(**values)).rowcount
    if claimed != 1 or not (late_ack or late_report):
        return None
    before = view(order)
    session.refresh(order)
    which = "签收" if late_ack else "办结"
    audit.record(session=session, actor=actor_name, action="order.reminded", entity_type="order", entity_id=order.id,
                 before=before, after={**view(order), "overdue": "acknowledge" if late_ack else "report"},
                 rule=f"orders.{order.kind}.remind_every", at=now)
    notify(session=session, unit_id=order.addressee_unit_id, kind="reminder", order_id=order.id, now=now,
           message=f"催办（第{order.reminders}次）：指令「{order.title}」已超过{which}时限，请立即办理")
    if not values.get("escalated"):
        return "reminded"
    audit.record(session=session, actor=actor_name, action="order.escalated", entity_type="order", entity_id=order.id,
                 before={"escalated": False}, after={"escalated": True, "reminders": order.reminders},
                 rule="orders.escalate_after_reminders", at=now)
    unit = session.get(Unit, order.addressee_unit_id)
    message = f"挂牌督办：{unit.name}的指令「{order.title}」催办{order.reminders}次仍未{which}"
    for target in {unit.parent_id, office_unit_id(session)} - {None}:
        notify(session=session, unit_id=target, kind="escalation", order_id=order.id, now=now, message=message)
    return "escalated"
