"""The unit tree in display order, for pickers (area of a case, a user's unit)."""
from sqlmodel import Session, select

from domain.units.models import Unit


def in_tree_order(*, session: Session, kinds: set[str] | None = None) -> list[tuple[Unit, int]]:
    """Units depth-first from the roots, each with its depth among the units kept (all, or `kinds`)."""
    children: dict[int | None, list[Unit]] = {}
    for unit in session.exec(select(Unit).order_by(Unit.id)).all():
        children.setdefault(unit.parent_id, []).append(unit)
    ordered: list[tuple[Unit, int]] = []
    seen: set[int] = set()

    def walk(parent_id: int | None, depth: int) -> None:
        for unit in children.get(parent_id, []):
            if unit.id in seen:
                continue
            seen.add(unit.id)
            kept = kinds is None or unit.kind in kinds
            if kept:
                ordered.append((unit, depth))
            walk(unit.id, depth + 1 if kept else depth)

    walk(None, 0)
    return ordered
