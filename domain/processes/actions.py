"""What people do to a running process between its flow's steps: the office records an inspection,
a person's appeal, a decision. Each is a fact written into the process's data, audited with the
person who did it, and the flow is woken to act on it (the flow alone moves the stage).

Also the small checks the four newer kinds share (text fields, case ids, a per-subject lock).
"""
import json
import re

from sqlalchemy import text as sql_text
from sqlmodel import Session, select

from domain.audit import service as audit
from domain.cases.models import Case
from domain.errors import Conflict, InvalidInput, NotFound
from domain.processes import registry
from domain.processes.models import Process
from domain.timeutil import utcnow
from domain.users.models import User

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def locked(*, session: Session, process_id: int, kind: str, stages: tuple[str, ...], doing_zh: str) -> Process:
    """The open process of `kind`, row-locked for this transaction (SQLite's writers are serial
    already), in one of `stages`; otherwise 404, or 409 saying what kind or stage it is."""
    process = session.exec(select(Process).where(Process.id == process_id).with_for_update()
                           .execution_options(populate_existing=True)).first()
    if process is None:
        raise NotFound("process_not_found", f"流程 {process_id} 不存在", f"process {process_id} does not exist")
    if process.kind != kind:
        raise Conflict("wrong_process_kind", f"流程 {process_id} 是其他类型的流程，不能{doing_zh}",
                       f"process {process_id} is a {process.kind} process: cannot do this to it")
    if process.closed_at is not None or process.stage not in stages:
        raise Conflict("bad_process_stage", f"流程当前阶段为“{registry.stage_name_zh(process.kind, process.stage)}”，不能{doing_zh}",
                       f"the process is at stage {process.stage}: cannot do this now")
    return process


def record(*, session: Session, actor: User, process: Process, action: str, changes: dict,
           note: dict | None = None) -> Process:
    """Merge `changes` into the process's data, audit it as `process.<action>` by `actor`, and wake
    the flow. `note` is what the audit trail shows (defaults to the changes; mask personal data)."""
    now = utcnow()
    process.data = json.dumps({**json.loads(process.data or "{}"), **changes}, ensure_ascii=False, sort_keys=True,
                              default=str)
    process.needs_advance = True
    session.add(process)
    session.flush()
    audit.record(session=session, actor=actor.username, action=f"process.{action}", entity_type="process",
                 entity_id=process.id, before={"stage": process.stage}, after=note if note is not None else changes,
                 rule=f"processes.{process.kind}", at=now)
    return process


def lock_key(session: Session, key: str) -> None:
    """Serialise requests about one subject (a person, an outlet) on PostgreSQL."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sql_text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})


def text(value: object, *, field: str, label_zh: str, max_len: int, required: bool = True) -> str:
    cleaned = value.strip() if isinstance(value, str) else ""
    if (required and not cleaned) or len(cleaned) > max_len or _CONTROL.search(cleaned):
        raise InvalidInput(f"bad_{field}", f"{label_zh}不能为空，最长 {max_len} 个字，且不能含控制字符",
                           f"{field} must be 1 to {max_len} printable characters", field=field)
    return cleaned


def case_id(session: Session, value: int | None) -> int | None:
    if value is not None and session.get(Case, value) is None:
        raise InvalidInput("unknown_case", f"案件 {value} 不存在", f"case {value} does not exist", field="case_id")
    return value
