"""Many orders at once, where people handle many: a liaison acknowledges several orders (签收), the
office accepts several reports (验收通过). Each order is its own transition through the order's
machine — checked, changed and audited on its own — so one refused order (another unit's, already
acknowledged, changed meanwhile) leaves the others done, and its refusal is audited. A refused
transition writes nothing (the guard refuses before the conditional UPDATE; a lost race changes no
row), so the items need no savepoint. The caller commits once; the answer says, order by order,
what happened and why."""
from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session

from domain.errors import DomainError, InvalidInput, NotFound
from domain.orders import service as orders
from domain.orders.machine import ADDRESSEE_ROLES, OFFICE_ROLES
from domain.orders.models import Order
from domain.users.models import User
from domain.users.service import require_role

MAX_ITEMS = 200  # a page of orders; more at once is not a person's choice


@dataclass(frozen=True)
class ItemResult:
    order_id: int
    ok: bool
    title: str | None = None      # only for an order the actor may see
    status: str | None = None
    code: str | None = None       # why not, for a refused order
    zh: str | None = None
    en: str | None = None

    def message(self, language: str = "zh") -> str:
        return (self.en if language == "en" else self.zh) or ""


@dataclass(frozen=True)
class BulkResult:
    items: list[ItemResult]

    @property
    def succeeded(self) -> list[ItemResult]:
        return [i for i in self.items if i.ok]

    @property
    def failed(self) -> list[ItemResult]:
        return [i for i in self.items if not i.ok]


def _ids(order_ids) -> list[int]:
    unique = list(dict.fromkeys(int(i) for i in order_ids))
    if not unique:
        raise InvalidInput("no_orders_chosen", "请至少勾选一条指令", "choose at least one order", field="order_ids")
    if len(unique) > MAX_ITEMS:
        raise InvalidInput("too_many_orders", f"一次最多处理{MAX_ITEMS}条指令", f"at most {MAX_ITEMS} orders at once",
                           field="order_ids")
    return unique


def _each(session: Session, actor: User, order_ids, act: Callable[[int], Order]) -> BulkResult:
    results = []
    for order_id in _ids(order_ids):
        try:
            order = act(order_id)
            results.append(ItemResult(order_id=order_id, ok=True, title=order.title, status=order.status))
        except DomainError as exc:
            results.append(ItemResult(order_id=order_id, ok=False, title=_title(session, actor, order_id, exc),
                                      code=exc.code, zh=exc.zh, en=exc.en))
    return BulkResult(items=results)


def _title(session: Session, actor: User, order_id: int, error: DomainError) -> str | None:
    """The order's title when the actor may see the order (another unit's stays "not found")."""
    if isinstance(error, NotFound):
        return None
    try:
        return orders.get(session=session, actor=actor, order_id=order_id).title
    except DomainError:
        return None


def acknowledge_many(*, session: Session, actor: User, order_ids) -> BulkResult:
    """签收 several orders addressed to the actor's unit, each on its own."""
    require_role(actor, *ADDRESSEE_ROLES)
    return _each(session, actor, order_ids, lambda i: orders.acknowledge(session=session, actor=actor, order_id=i))


def accept_many(*, session: Session, actor: User, order_ids, comment: str | None = None) -> BulkResult:
    """验收通过 several reported orders, each on its own, with one comment for all (optional)."""
    require_role(actor, *OFFICE_ROLES)
    return _each(session, actor, order_ids,
                 lambda i: orders.accept(session=session, actor=actor, order_id=i, comment=comment))
