"""Looking up units and walking the unit tree."""
from sqlmodel import Session, select

from domain.errors import InvalidInput, NotFound
from domain.units.models import Unit


def get(*, session: Session, unit_id: int) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound("unit_not_found", f"单位 {unit_id} 不存在", f"unit {unit_id} does not exist", field="unit_id")
    return unit


def by_code(*, session: Session, code: str) -> Unit | None:
    return session.exec(select(Unit).where(Unit.code == code)).first()


def find(*, session: Session, code: str | None = None, kind: str | None = None) -> list[Unit]:
    """Units by code and/or kind (every unit when neither is given), in id order."""
    query = select(Unit)
    if code:
        query = query.where(Unit.code == code)
    if kind:
        query = query.where(Unit.kind == kind)
    return list(session.exec(query.order_by(Unit.id)).all())


def resolve_area(*, session: Session, area: int | str, allowed_kinds: list[str]) -> Unit:
    """The county/town/village a case belongs to, by id or code; anything else is refused."""
    unit = session.get(Unit, area) if isinstance(area, int) else by_code(session=session, code=str(area))
    if unit is None or unit.kind not in allowed_kinds:
        raise InvalidInput("unknown_area", f"辖区 {area!r} 不存在或不是县、乡镇、村级单位",
                           f"area {area!r} is not a known county, town or village unit", field="area")
    return unit


def subtree_ids(*, session: Session, root_id: int) -> set[int]:
    """The unit and all its descendants (a city-branch liaison sees its sub-branches' orders)."""
    children: dict[int | None, list[int]] = {}
    for unit_id, parent_id in session.exec(select(Unit.id, Unit.parent_id)).all():
        children.setdefault(parent_id, []).append(unit_id)
    found, frontier = {root_id}, [root_id]
    while frontier:
        for child in children.get(frontier.pop(), []):
            if child not in found:
                found.add(child)
                frontier.append(child)
    return found


def ancestor_ids(*, session: Session, unit_id: int) -> set[int]:
    """The unit and every unit above it (its branch, its bank, …)."""
    parents = dict(session.exec(select(Unit.id, Unit.parent_id)).all())
    found: set[int] = set()
    current: int | None = unit_id
    while current is not None and current not in found:
        found.add(current)
        current = parents.get(current)
    return found
