"""An order's life as one table: who moves it from which status to which (domain.transitions).

issued → acknowledged → in_progress → reported → accepted → closed; reported → returned (rework)
→ in_progress/reported …; any open status → cancelled (with a reason)."""
from sqlmodel import Session

from domain.errors import Conflict, DomainError, Forbidden
from domain.orders.models import OPEN_STATUSES, STATUS_NAMES_ZH, Order
from domain.transitions import SYSTEM, Machine, Move

ADDRESSEE_ROLES = ("liaison", "police")
OFFICE_ROLES = ("office", "admin")


def _addressee(session: Session, actor, order: Order) -> None:
    """The actor's unit (or a unit above it) is the addressee, by the visibility rule: else NotFound."""
    from domain.orders import service as orders  # the rule lives with the queries that use it

    orders.get(session=session, actor=actor, order_id=order.id)


def _wording(kind: str, order: Order | None, action: str) -> DomainError | None:
    if kind == "role":
        return Forbidden("role_forbidden", "您的角色无权执行此操作", f"your role may not {action} an order")
    name = STATUS_NAMES_ZH.get(order.status, order.status)
    if kind == "changed":
        return Conflict("already_changed", f"指令已被他人处理（当前状态：{name}）",
                        f"the order was changed meanwhile; it is now {order.status}")
    target = ORDER.move_for(action).target
    return Conflict("bad_transition", f"指令当前状态为“{name}”，不能改为“{STATUS_NAMES_ZH.get(target, target)}”",
                    f"an order that is {order.status} cannot become {target}")


ORDER = Machine(
    entity="order", model=Order, state_names_zh=STATUS_NAMES_ZH, wording=_wording,
    relations={"addressee": _addressee},
    moves=(
        Move("acknowledge", ("issued",), "acknowledged", ADDRESSEE_ROLES, "addressee", label_zh="签收"),
        Move("start", ("acknowledged", "returned"), "in_progress", ADDRESSEE_ROLES, "addressee", label_zh="开始办理"),
        Move("report", ("acknowledged", "in_progress", "returned"), "reported", ADDRESSEE_ROLES, "addressee",
             label_zh="反馈"),
        Move("accept", ("reported",), "accepted", OFFICE_ROLES, label_zh="验收通过"),
        Move("return", ("reported",), "returned", OFFICE_ROLES, label_zh="退回重办"),
        # 办结: by its process when the process ends (no person closes an order: accepting is theirs).
        Move("close", ("accepted",), "closed", (SYSTEM,), label_zh="办结"),
        Move("cancel", OPEN_STATUSES, "cancelled", OFFICE_ROLES, label_zh="撤销"),
    ))
