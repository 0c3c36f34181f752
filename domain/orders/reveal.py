"""Showing an order's masked identifier in full to the unit that must act on it, on purpose.

Orders show a person's ID number or phone masked everywhere (lists, pages, documents). A bank
cannot restrict "110101********1234", so the addressee's liaison asks to see it: the full value is
returned for this request only and the asking is audited (who, which order, which field — never the
value). Only while the order is open, only for the kinds that carry a masked person. The office may
see it too, at any time, with a reason (as on a case: domain.cases.reveal), also audited.
"""
from sqlmodel import Session

from domain.audit import service as audit
from domain.cases.reveal import reason_given
from domain.errors import Conflict, Forbidden
from domain.orders import service as orders
from domain.orders.machine import OFFICE_ROLES
from domain.orders.models import OPEN_STATUSES
from domain.processes.models import Process
from domain.timeutil import utcnow
from domain.users.models import User

# process kind → (field, its name in Chinese, in English)
MASKED_SUBJECTS = {"disciplinary": ("id_number", "身份证号", "ID number"),
                   "dissuasion": ("phone", "联系电话", "phone number")}


def revealable(session: Session, order) -> tuple[str, str, str] | None:
    """What `order` keeps masked that its addressee may ask to see, or None."""
    if order.process_id is None:
        return None
    process = session.get(Process, order.process_id)
    return MASKED_SUBJECTS.get(process.kind) if process is not None and process.subject_key else None


def may_reveal(actor: User) -> bool:
    return actor.role in orders.ADDRESSEE_ROLES or actor.role in OFFICE_ROLES


def reveal(*, session: Session, actor: User, order_id: int, reason: str | None = None) -> dict:
    """The addressee's liaison, to act on the order (a reason is kept if given); the office, with a reason."""
    order = orders.get(session=session, actor=actor, order_id=order_id)
    if not may_reveal(actor):
        raise Forbidden("not_addressee", "只有接收单位的联络员和联办工作人员可以查看完整信息",
                        "only the addressee unit's liaison and the office may see the full identifier")
    subject = revealable(session, order)
    if subject is None:
        raise Conflict("nothing_to_reveal", "该指令没有需要查看的遮蔽信息", "this order has no masked identifier")
    office = actor.role in OFFICE_ROLES
    if not office and order.status not in OPEN_STATUSES:
        raise Conflict("order_not_open", "指令已办结或撤销，不再显示完整信息", "the order is over: the identifier stays masked")
    why = reason_given(reason) if office or (reason or "").strip() else None
    field, label_zh, label_en = subject
    audit.record(session=session, actor=actor.username, action="order.identity_revealed", entity_type="order",
                 entity_id=order.id, after={"field": field, **({"reason": why} if why else {})},
                 rule="orders.reveal", at=utcnow())
    return {"field": field, "label_zh": label_zh, "label_en": label_en,
            "value": session.get(Process, order.process_id).subject_key}
