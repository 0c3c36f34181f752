"""What an operator's dashboard reads (Prometheus /metrics): counts only, never a person's data."""
from sqlalchemy import func, inspect, or_, text
from sqlmodel import Session, select

from domain.audit.models import AuditHead
from domain.cases.models import Case
from domain.orders.models import OPEN_STATUSES, Order


def figures(*, session: Session) -> dict:
    open_orders = dict(session.exec(select(Order.kind, func.count()).where(Order.status.in_(OPEN_STATUSES))
                                    .group_by(Order.kind)).all())
    overdue = dict(session.exec(select(Order.kind, func.count()).where(
        Order.status.in_(OPEN_STATUSES), or_(Order.overdue_acknowledge, Order.overdue_report))
        .group_by(Order.kind)).all())
    head = session.get(AuditHead, 1)
    return {"cases": session.exec(select(func.count()).select_from(Case)).one(),
            "open_orders": open_orders, "overdue_orders": overdue,
            "audit_chain_length": head.last_seq if head else 0,
            "outbox_backlog": _outbox_backlog(session)}


def _outbox_backlog(session: Session) -> int | None:
    """Undelivered outbox rows, once the outbox exists (DESIGN round two); None before."""
    if not inspect(session.get_bind()).has_table("outbox"):
        return None
    return session.execute(text("SELECT count(*) FROM outbox WHERE delivered_at IS NULL")).scalar_one()


def database_reachable(*, session: Session) -> bool:
    session.execute(text("SELECT 1"))
    return True
