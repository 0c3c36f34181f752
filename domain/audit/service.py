"""Append to and verify the hash-chained audit trail.

Each entry's hash covers its own fields and the previous entry's hash, so changing, removing or
reordering any row breaks every link after it; `verify` names the first broken one.
"""
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, select

from domain.audit.models import AuditEvent, AuditHead
from domain.timeutil import utcnow

GENESIS = "0" * 64


def canonical_json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def _link_hash(*, seq: int, at: datetime, actor: str, action: str, entity_type: str, entity_id: int,
               before: str | None, after: str | None, rule: str | None, prev_hash: str) -> str:
    body = json.dumps(
        [seq, at.isoformat(timespec="microseconds"), actor, action, entity_type, entity_id,
         before, after, rule, prev_hash],
        ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


def record(*, session: Session, actor: str, action: str, entity_type: str, entity_id: int,
           before: dict | None = None, after: dict | None = None, rule: str | None = None,
           at: datetime | None = None) -> AuditEvent:
    """Append one event in the caller's transaction (it commits or rolls back with the change).

    The event is linked into the chain when the transaction commits (`_link_pending`): the head
    row's lock, which serialises every writer, is taken last and held only for the appends and
    the commit, not for the whole transaction. Its `seq` and `hash` are set at that moment."""
    if session.in_nested_transaction():
        # Pending entries belong to the outer transaction: one made inside a savepoint would still
        # be written if the savepoint rolled back. Callers record after their savepoint.
        raise RuntimeError(f"audit.record({action}) inside a savepoint: record it after the savepoint")
    # Hashed as stored: in UTC, whatever zone the caller's time was in.
    event = AuditEvent(at=(at or utcnow()).astimezone(timezone.utc), actor=actor, action=action, entity_type=entity_type,
                       entity_id=entity_id, before=canonical_json(before), after=canonical_json(after),
                       rule=rule, prev_hash="", hash="")
    session.info.setdefault(_PENDING, []).append(event)
    return event


_PENDING = "lianban.audit.pending"


@event.listens_for(OrmSession, "before_commit")
def _link_pending(session: Session) -> None:
    """At the commit of the outermost transaction: lock the head, chain the pending events in the
    order they were recorded, move the head, all in the same transaction as the change."""
    if session.in_nested_transaction() or not session.info.get(_PENDING):
        return
    session.flush()  # the change itself first, before the lock
    pending = session.info.pop(_PENDING)
    # populate_existing: a head left in the identity map by an earlier transaction is stale.
    lock_head = (select(AuditHead).where(AuditHead.id == 1).with_for_update()
                 .execution_options(populate_existing=True))
    head = session.execute(lock_head).scalars().first()
    if head is None:
        # The very first entry: create the head row race-free, then lock it like every append does.
        _insert_head_if_missing(session)
        head = session.execute(lock_head).scalars().one()
    seq, prev = head.last_seq, head.last_hash
    for entry in pending:
        seq += 1
        entry.seq, entry.prev_hash = seq, prev
        entry.hash = prev = _link_hash(seq=seq, at=entry.at, actor=entry.actor, action=entry.action,
                                       entity_type=entry.entity_type, entity_id=entry.entity_id,
                                       before=entry.before, after=entry.after, rule=entry.rule,
                                       prev_hash=entry.prev_hash)
    session.add_all(pending)
    head.last_seq, head.last_hash = seq, prev
    session.add(head)
    session.flush()


@event.listens_for(OrmSession, "after_transaction_end")
def _drop_pending(session: Session, transaction) -> None:
    """A rolled-back (outermost) transaction takes its unlinked events with it."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def _insert_head_if_missing(session: Session) -> None:
    values = {"id": 1, "last_seq": 0, "last_hash": GENESIS}
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert

        session.execute(insert(AuditHead).values(**values).on_conflict_do_nothing(index_elements=["id"]))
    else:
        from sqlalchemy.dialects.sqlite import insert

        session.execute(insert(AuditHead).values(**values).on_conflict_do_nothing(index_elements=["id"]))


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_seq: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def verify(*, session: Session, batch: int = 5000) -> ChainReport:
    """Walk the chain in order; stop at the first entry that does not link or does not hash."""
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    last_seq = 0
    while True:
        rows = session.exec(select(AuditEvent).where(AuditEvent.seq > last_seq)
                            .order_by(AuditEvent.seq).limit(batch)).all()
        if not rows:
            break
        for event in rows:
            if event.seq != expected_seq:
                return ChainReport(checked, expected_seq, f"entry {expected_seq} is missing")
            if event.prev_hash != expected_prev:
                return ChainReport(checked, event.seq, "does not link to the entry before it")
            recomputed = _link_hash(seq=event.seq, at=event.at, actor=event.actor, action=event.action,
                                    entity_type=event.entity_type, entity_id=event.entity_id,
                                    before=event.before, after=event.after, rule=event.rule,
                                    prev_hash=event.prev_hash)
            if recomputed != event.hash:
                return ChainReport(checked, event.seq, "content was changed after it was written")
            expected_prev, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
        last_seq = rows[-1].seq
    head = session.get(AuditHead, 1)
    if head is not None and head.last_seq < expected_seq - 1:
        # Linked and hashed, but the head never moved past them: written around the application.
        return ChainReport(head.last_seq, head.last_seq + 1,
                           f"entries after {head.last_seq} were added outside the system")
    if head is not None and (head.last_seq != expected_seq - 1 or head.last_hash != expected_prev):
        return ChainReport(checked, expected_seq, f"entries after {expected_seq - 1} were removed")
    return ChainReport(checked)


def history(*, session: Session, entity_type: str, entity_id: int, refusals: bool = False) -> list[AuditEvent]:
    """What happened to one object, in order. Refused attempts on it ("<entity>.refused") are in the
    trail too, but they changed nothing: asked for only where someone looks for them."""
    query = select(AuditEvent).where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id)
    if not refusals:
        query = query.where(AuditEvent.action != f"{entity_type}.refused")
    return list(session.exec(query.order_by(AuditEvent.seq)).all())
