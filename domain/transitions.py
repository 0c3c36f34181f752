"""The one transition mechanism of every stateful entity (case, approval, order, document, process,
measure).

Each entity declares one `Machine`: a table of `Move`s — action, from which states, to which state,
which roles may make it and, where the role alone does not say it, which relation the actor must
have to the object (the order's addressee, the approval's approver). Its status changes only
through `Machine.apply`, which

1. checks the state *and* the actor together (`Machine.check`),
2. changes the row with a conditional UPDATE (… WHERE status = <the status it saw>), so of two
   people acting at once exactly one succeeds,
3. appends the audit entry in the same transaction,

and raises one domain error type (`domain.errors.DomainError`) otherwise. A refused attempt carries a
`Refusal`, noted on the session: when the attempt rolls back, the refusal is written in a short
transaction of its own, so the audit trail shows who tried what on which object and why it was
refused, while the caller learns nothing more than before (a 404 stays a 404).

The machines register themselves here; `permission_table()` is the one permission table, read by
the guard, by the faces (which actions to show) and by the permission tests. An entity with two
status fields (a case's stage and its escalation state) declares two machines under two names.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import event, update
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from domain.errors import Conflict, DomainError, Forbidden
from domain.timeutil import utcnow

SYSTEM = "system"  # the pseudo-role of automatic actors (flows, the watch): their names start "system:"

# A relation check: returns quietly when the actor stands in that relation to the object, raises a
# DomainError (usually NotFound, so nothing is given away) when not.
Relation = Callable[[Session, Any, Any], None]


def actor_role(actor) -> str:
    return SYSTEM if isinstance(actor, str) else actor.role


def actor_name(actor) -> str:
    return actor if isinstance(actor, str) else actor.username


@dataclass(frozen=True)
class Move:
    action: str                        # what the person does: "acknowledge", "close", "reopen"
    source: tuple[str, ...]            # the states it may start from
    target: str                        # the state it leads to
    roles: tuple[str, ...]             # who may make it (User.role, or SYSTEM)
    relation: str | None = None        # and in which relation to the object, if the role is not enough
    audit_action: str | None = None    # the audit entry's action; default "<entity>.<target>"
    label_zh: str = ""
    label_en: str = ""


@dataclass(frozen=True)
class Refusal:
    """A refused attempt, to be written to the audit trail once the attempt has rolled back."""
    actor: str
    entity: str
    entity_id: int | None
    action: str
    reason: str                        # the error's code
    state: str | None = None


# An entity's own wording of a refusal, so its codes and messages stay what callers know:
# (kind, obj, action) → the error, or None for the generic one. kind: "role" (the actor's role may
# never take the action), "state" (not from the object's state), "changed" (lost a race).
Wording = Callable[[str, Any, str], DomainError | None]


@dataclass
class Machine:
    entity: str                                    # "order", "case", …: the audit trail's entity type
    model: type                                    # the table's class
    moves: tuple[Move, ...]
    status_field: str = "status"
    state_names_zh: dict[str, str] = field(default_factory=dict)
    relations: dict[str, Relation] = field(default_factory=dict)
    wording: Wording | None = None
    # Where several machines share one entity (each process kind has its own stage table, all
    # audited as "process"; a case's stage and its escalation), each registers under its own key.
    key: str | None = None

    def __post_init__(self) -> None:
        seen: set[tuple[str, str]] = set()
        for move in self.moves:
            for source in move.source:
                if (move.action, source) in seen:
                    raise ValueError(f"{self.entity}: action {move.action!r} from {source!r} is declared twice")
                seen.add((move.action, source))
            if move.relation is not None and move.relation not in self.relations:
                raise ValueError(f"{self.entity}: move {move.action!r} names unknown relation {move.relation!r}")
        _MACHINES[self.name] = self

    @property
    def name(self) -> str:
        """The registry's key: the entity, unless it shares the entity with other machines."""
        return self.key or self.entity

    # ---- reading the table ----

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m.action for m in self.moves))

    @property
    def states(self) -> tuple[str, ...]:
        found = [s for m in self.moves for s in (*m.source, m.target)]
        return tuple(dict.fromkeys([*self.state_names_zh, *found]))

    def move_for(self, action: str, state: str | None = None) -> Move | None:
        """The move `action` makes from `state` (any state when None)."""
        for move in self.moves:
            if move.action == action and (state is None or state in move.source):
                return move
        return None

    def state_of(self, obj) -> str:
        return getattr(obj, self.status_field)

    def name_of(self, state: str) -> str:
        return self.state_names_zh.get(state, state)

    def may(self, *, session: Session, actor, obj, action: str) -> bool:
        """Whether `actor` may take `action` on `obj` now (state and actor): what the faces show."""
        try:
            self._check(session=session, actor=actor, obj=obj, action=action)
        except DomainError:
            return False
        return True

    def allowed(self, *, session: Session, actor, obj) -> list[Move]:
        """The moves `actor` may make on `obj` now, in table order."""
        return [m for m in self.moves if self.state_of(obj) in m.source
                and self.may(session=session, actor=actor, obj=obj, action=m.action)]

    # ---- the guard ----

    def check(self, *, session: Session, actor, obj, action: str) -> Move:
        """The move `actor` may make with `action` on `obj`, or a DomainError that carries its Refusal."""
        try:
            return self._check(session=session, actor=actor, obj=obj, action=action)
        except DomainError as error:
            raise self.refused(error, session=session, actor=actor, obj=obj, action=action) from None

    def check_role(self, *, session: Session, actor, action: str, entity_id: int | None) -> None:
        """Refuse, before the object is even read, an actor whose role may never take `action`: the
        answer then says nothing of the object (nor whether it exists), the audit trail still does."""
        if not any(actor_role(actor) in m.roles for m in self.moves if m.action == action):
            error = self._error("role", None, action)
            raise self.refused(error, session=session, actor=actor, obj=None, action=action, entity_id=entity_id)

    def refused(self, error: DomainError, *, session: Session | None, actor, obj, action: str,
                entity_id: int | None = None) -> DomainError:
        """Mark `error` as a refused attempt at `action` on `obj`; it is audited whatever the caller
        does next (see the end of this module)."""
        if error.refusal is None:
            error.refusal = Refusal(actor=actor_name(actor), entity=self.entity,
                                    entity_id=getattr(obj, "id", None) or entity_id, action=action,
                                    reason=error.code, state=self.state_of(obj) if obj is not None else None)
            _note(session, error.refusal)
        return error

    def _error(self, kind: str, obj, action: str) -> DomainError:
        custom = self.wording(kind, obj, action) if self.wording else None
        if custom is not None:
            return custom
        if kind == "role":
            return Forbidden("role_forbidden", "您的角色无权执行此操作", f"may not {action} a {self.entity}")
        state = self.state_of(obj)
        if kind == "changed":
            return Conflict("already_changed", f"已被他人处理（当前状态：{self.name_of(state)}）",
                            f"the {self.entity} was changed meanwhile; it is now {state}")
        candidates = [m for m in self.moves if m.action == action]
        targets = "、".join(dict.fromkeys(self.name_of(m.target) for m in candidates))
        return Conflict("bad_transition", f"当前状态为“{self.name_of(state)}”，不能{_label(candidates[0])}（改为“{targets}”）",
                        f"a {self.entity} that is {state} cannot be moved by {action!r}")

    def _check(self, *, session: Session, actor, obj, action: str) -> Move:
        candidates = [m for m in self.moves if m.action == action]
        if not candidates:
            raise ValueError(f"{self.entity} has no action {action!r}")  # a programming error, not a refusal
        role = actor_role(actor)
        mine = [m for m in candidates if role in m.roles]
        if not mine:
            raise self._error("role", obj, action)
        # The relation first (another unit's object is "not found", whatever its state), and only
        # the relations of the moves this role may make: the office's moves name none.
        for relation in dict.fromkeys(m.relation for m in mine if m.relation and role != SYSTEM):
            self.relations[relation](session, actor, obj)  # raises when the actor is not in that relation
        state = self.state_of(obj)
        move = next((m for m in candidates if state in m.source), None)
        if move is None:
            raise self._error("state", obj, action)
        if role not in move.roles:
            raise self._error("role", obj, action)
        return move

    # ---- the one way a status changes ----

    def apply(self, *, session: Session, actor, obj, action: str, values: dict | None = None,
              before: dict | None = None, after: dict | None = None, rule: str | None = None,
              now: datetime | None = None) -> Any:
        """Check, change the row only if its status is still the one seen, audit, return `obj` refreshed.

        `values` are further columns to set in the same UPDATE; `before`/`after` what the audit entry
        shows besides the status."""
        move = self.check(session=session, actor=actor, obj=obj, action=action)
        now = now or utcnow()
        source = self.state_of(obj)
        column = getattr(self.model, self.status_field)
        changed = session.execute(update(self.model).where(self.model.id == obj.id, column == source)
                                  .values(**(values or {}), **{self.status_field: move.target})).rowcount
        if changed != 1:
            session.refresh(obj)
            raise self.refused(self._error("changed", obj, action), session=session, actor=actor, obj=obj,
                               action=action)
        session.refresh(obj)
        from domain.audit import service as audit  # audit imports nothing of ours; kept late for start-up order

        audit.record(session=session, actor=actor_name(actor),
                     action=move.audit_action or f"{self.entity}.{move.target}",
                     entity_type=self.entity, entity_id=obj.id,
                     before={**(before or {}), self.status_field: source},
                     after={**(after or {}), self.status_field: move.target}, rule=rule, at=now)
        return obj


def _label(move: Move) -> str:
    return move.label_zh or move.action


_MACHINES: dict[str, Machine] = {}
# Where the machines are declared (each next to its entity's service).
MACHINE_MODULES: tuple[str, ...] = ("domain.cases.machine", "domain.escalation.machine", "domain.orders.machine",
                                    "domain.documents.machine")


def machines() -> dict[str, Machine]:
    """Every entity's machine, by entity name or key (importing the domain's models and the modules
    that declare machines registers them all)."""
    import importlib

    import domain.models  # noqa: F401

    for module in MACHINE_MODULES:
        importlib.import_module(module)
    from domain.processes.registry import load_kinds  # each process kind declares its own machine

    load_kinds()
    return dict(_MACHINES)


def permission_table() -> list[dict]:
    """One row per (entity, action, from-state): who may do it. The permission tests read this."""
    return [{"machine": m.name, "entity": m.entity, "field": m.status_field, "action": move.action,
             "from": source, "to": move.target, "roles": move.roles, "relation": move.relation}
            for m in machines().values() for move in m.moves for source in move.source]


# ---- refused attempts ----
#
# The guard notes each refusal on the session. If the unit of work rolls back (the usual end of a
# refused attempt) or is closed uncommitted, the refusal is written right after, in a short
# transaction of its own; if the caller handled the error and commits anyway, it is written in that
# same transaction.

_REFUSALS = "lianban.transitions.refusals"


def _note(session: Session | None, refusal: Refusal) -> None:
    if session is None:
        return
    if not session.in_transaction():  # refused before anything was read: no transaction will end
        _write(session, [refusal])
        return
    session.info.setdefault(_REFUSALS, []).append(refusal)


def withdraw(session: Session, error: DomainError) -> None:
    """Not a refused attempt after all: an automatic step that found its work done by someone else
    (a person decided the approval the watch was about to escalate) leaves no refusal behind."""
    notes = session.info.get(_REFUSALS, [])
    if error.refusal in notes:
        notes.remove(error.refusal)


def _record(session: Session, refusal: Refusal) -> None:
    from domain.audit import service as audit

    audit.record(session=session, actor=refusal.actor, action=f"{refusal.entity}.refused",
                 entity_type=refusal.entity, entity_id=refusal.entity_id or 0,
                 after={"action": refusal.action, "reason": refusal.reason, "state": refusal.state},
                 rule="transitions.refused")


@event.listens_for(OrmSession, "before_commit", insert=True)  # before the audit linker: it links these too
def _record_on_commit(session: Session) -> None:
    if not session.in_nested_transaction():
        for refusal in session.info.pop(_REFUSALS, []):
            _record(session, refusal)


@event.listens_for(OrmSession, "after_transaction_end")
def _record_after_rollback(session: Session, transaction) -> None:
    # The outermost transaction ended without a commit (rolled back, or the session closed): its
    # connection is back in the pool, so on SQLite the short transaction below takes no lock it holds.
    # A savepoint's rollback is not the attempt's end: the refusal waits for the outer transaction.
    if transaction.parent is not None or not session.info.get(_REFUSALS):
        return
    _write(session, session.info.pop(_REFUSALS))


def _write(session: Session, refusals: list[Refusal]) -> None:
    """The refusals, in a short transaction of their own on the session's database."""
    # A request that only read (a read-only engine on SQLite) still gets its refusal written.
    with Session(session.get_bind().execution_options(read_only=False)) as own:
        for refusal in refusals:
            _record(own, refusal)
        own.commit()
