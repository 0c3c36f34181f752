"""The process engine: start a process once, and advance it step by step.

A process kind (domain/processes/registry.py) has an `advance(step)` function that reads where the
process stands (its stage, its orders by step key) and does the next thing. Orders are issued per
step key at most once, a stage changes only through the kind's stage machine (a conditional
UPDATE), and the claim below lets one advancer in at a time, so the flows may run `advance` as
often as they like.
"""
import json
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from domain.audit import service as audit
from domain.errors import Conflict, NotFound
from domain.orders import service as orders
from domain.orders.models import Order
from domain.policy import current_policy
from domain.processes import registry
from domain.processes.models import Process
from domain.timeutil import utcnow
from policies.loader import PolicySet

log = logging.getLogger("lianban.processes")
SYSTEM = "system:process-flow"


def process_view(process: Process) -> dict:
    return {"kind": process.kind, "stage": process.stage, "subject_unit_id": process.subject_unit_id,
            "case_id": process.case_id, "closed": process.closed_at is not None}


def start(*, session: Session, kind: str, started_by: str, title: str,
          subject_unit_id: int | None = None, case_id: int | None = None, data: dict | None = None,
          dedupe_key: str | None = None, subject_key: str | None = None, reported_by_unit_id: int | None = None,
          sealed_from_unit_id: int | None = None, now: datetime | None = None) -> Process:
    """Start a process; with a dedupe key, a second start returns the first process."""
    now = now or utcnow()
    if dedupe_key is not None:
        existing = session.exec(select(Process).where(Process.kind == kind, Process.dedupe_key == dedupe_key)).first()
        if existing is not None:
            return existing
    process = Process(kind=kind, stage=registry.get(kind).first_stage, title=title, subject_unit_id=subject_unit_id, case_id=case_id,
                      data=json.dumps(data or {}, ensure_ascii=False, sort_keys=True, default=str),
                      dedupe_key=dedupe_key, subject_key=subject_key, reported_by_unit_id=reported_by_unit_id,
                      sealed_from_unit_id=sealed_from_unit_id, started_at=now, started_by=started_by,
                      needs_advance=True)
    try:
        with session.begin_nested():
            session.add(process)
            session.flush()
    except IntegrityError:
        return session.exec(select(Process).where(Process.kind == kind, Process.dedupe_key == dedupe_key)).one()
    audit.record(session=session, actor=started_by, action="process.started", entity_type="process",
                 entity_id=process.id, after=process_view(process), rule=f"processes.{kind}", at=now)
    log.info("process_started process_id=%s kind=%s unit_id=%s", process.id, kind, subject_unit_id)
    return process


def get(*, session: Session, process_id: int) -> Process:
    process = session.get(Process, process_id)
    if process is None:
        raise NotFound("process_not_found", f"流程 {process_id} 不存在", f"process {process_id} does not exist")
    return process


def due(*, session: Session, now: datetime, limit: int = 200) -> list[int]:
    """Open processes that something happened to, or whose timer has come."""
    return list(session.exec(select(Process.id).where(Process.closed_at.is_(None),
                                                      or_(Process.needs_advance == True, Process.wake_at <= now))  # noqa: E712
                             .order_by(Process.id).limit(limit)).all())


@dataclass
class Step:
    """What a kind's advance function works with."""

    session: Session
    process: Process
    policy: PolicySet
    now: datetime

    @property
    def data(self) -> dict:
        return json.loads(self.process.data or "{}")

    def update_data(self, **changes) -> None:
        self.process.data = json.dumps({**self.data, **changes}, ensure_ascii=False, sort_keys=True, default=str)
        self.session.add(self.process)

    def order(self, step_key: str) -> Order | None:
        return self.session.exec(select(Order).where(Order.process_id == self.process.id,
                                                     Order.step_key == step_key)).first()

    def orders(self) -> list[Order]:
        return list(self.session.exec(select(Order).where(Order.process_id == self.process.id).order_by(Order.id)).all())

    def issue(self, step_key: str, *, kind: str, addressee_unit_id: int, title: str, instructions: str = "",
              details: dict | None = None, sealed_from_unit_id: int | None = None) -> Order:
        return orders.issue(session=self.session, issued_by=SYSTEM, kind=kind, addressee_unit_id=addressee_unit_id,
                            title=title, instructions=instructions, case_id=self.process.case_id,
                            process_id=self.process.id, step_key=step_key, details=details,
                            sealed_from_unit_id=sealed_from_unit_id, policy=self.policy, now=self.now)

    def move_to(self, stage: str, *, rule: str | None = None, note: dict | None = None) -> None:
        """Change the stage, through the kind's stage machine: a move the kind did not declare is
        refused (and audited as refused), never written."""
        if self.process.stage == stage:
            return
        machine = registry.get(self.process.kind).machine
        moves = [m for m in machine.moves if m.target == stage]
        move = next((m for m in moves if self.process.stage in m.source), moves[0] if moves else None)
        if move is None:
            error = Conflict("undeclared_stage", f"流程类型未声明阶段“{stage}”",
                             f"the {self.process.kind} process declares no move to stage {stage!r}")
            raise machine.refused(error, session=self.session, actor=SYSTEM, obj=self.process, action=f"to_{stage}")
        self.session.flush()  # the data the step changed must not be lost when the machine refreshes the row
        machine.apply(session=self.session, actor=SYSTEM, obj=self.process, action=move.action, after=note,
                      rule=rule or f"processes.{self.process.kind}", now=self.now)

    def wake_at(self, moment: datetime | None) -> None:
        self.process.wake_at = moment
        self.session.add(self.process)

    def close(self, outcome: str, *, rule: str | None = None) -> None:
        """End the process: its accepted orders are closed (办结) with it."""
        for order in self.orders():
            if order.status == "accepted":
                orders.close(session=self.session, order=order, actor_name=SYSTEM)
        self.move_to("closed", rule=rule, note={"outcome": outcome})
        self.process.closed_at, self.process.wake_at = self.now, None
        self.update_data(outcome=outcome)
        log.info("process_closed process_id=%s kind=%s outcome=%s", self.process.id, self.process.kind, outcome)


def advance(*, session: Session, process_id: int, policy: PolicySet | None = None) -> str | None:
    """Do whatever is due for one process. Returns its stage afterwards, or None if nothing was due."""
    now = utcnow()
    claimed = session.execute(
        update(Process).where(Process.id == process_id, Process.closed_at.is_(None),
                              or_(Process.needs_advance == True, Process.wake_at <= now))  # noqa: E712
        .values(needs_advance=False)
    ).rowcount
    if claimed != 1:
        return None
    process = session.get(Process, process_id)
    session.refresh(process)
    step = Step(session=session, process=process, policy=policy or current_policy(), now=now)
    registry.get(process.kind).advance(step)
    if process.closed_at is None and process.wake_at is not None and process.wake_at <= now:
        process.wake_at = None  # the kind has handled its timer; it sets a new one if it needs one
    session.add(process)
    session.flush()
    return process.stage


def load_kinds() -> None:
    """Import every kind module so it registers itself (kept for callers; see registry)."""
    registry.load_kinds()
