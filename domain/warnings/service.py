"""Receiving the warning feed in batches, and tying a warning to its dissuasion.

A batch is validated whole before anything is written (one bad line refuses the batch and names
it); numbers already received are skipped, so the feed can be sent again after a failure.
"""
import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, delete, func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from domain.audit import service as audit
from domain.errors import InvalidInput
from domain.timeutil import SHANGHAI, as_utc, plausible_past, utcnow
from domain.units.models import Unit
from domain.users.models import User
from domain.users.service import require_role
from domain.warnings.models import OUTCOMES, FraudWarning, WarningMonth

MAX_BATCH = 5000
AREA_KINDS = ("county", "town", "village")
RISK_LEVELS = ("high", "medium", "low")


@dataclass(frozen=True)
class WarningIn:
    warning_number: str
    area: str  # the area unit's code
    risk_level: str
    received_at: datetime


@dataclass(frozen=True)
class BatchResult:
    received: int
    already_received: int


def _refuse(index: int, code: str, zh: str, en: str, field: str) -> InvalidInput:
    return InvalidInput(code, f"第 {index + 1} 条预警：{zh}", f"warning {index + 1}: {en}", field=field)


def receive(*, session: Session, actor: User, items: list[WarningIn]) -> BatchResult:
    require_role(actor, "office", "admin")
    if not items or len(items) > MAX_BATCH:
        raise InvalidInput("bad_batch_size", f"每批预警须为 1 至 {MAX_BATCH} 条", f"a batch holds 1 to {MAX_BATCH} warnings",
                           field="warnings")
    codes = {item.area for item in items}
    areas = {code: (unit_id, kind) for unit_id, code, kind in
             session.exec(select(Unit.id, Unit.code, Unit.kind).where(Unit.code.in_(codes))).all()}
    seen: dict[str, WarningIn] = {}
    now = utcnow()
    for index, item in enumerate(items):
        number = item.warning_number.strip()
        if not number or len(number) > 64 or not number.isprintable():
            raise _refuse(index, "bad_warning_number", "预警编号须为 1 至 64 个可打印字符",
                          "warning_number must be 1 to 64 printable characters", "warning_number")
        if number in seen and seen[number] != item:
            raise _refuse(index, "conflicting_warning", f"预警编号 {number} 在本批中出现两次且内容不同",
                          f"warning {number} appears twice with different content", "warning_number")
        if item.area not in areas or areas[item.area][1] not in AREA_KINDS:
            raise _refuse(index, "unknown_area", f"辖区 {item.area!r} 不存在或不是县、乡镇、村级单位",
                          f"area {item.area!r} is not a known county, town or village", "area")
        if item.risk_level not in RISK_LEVELS:
            raise _refuse(index, "bad_risk_level", "预警等级须为 high（高危）、medium（中危）或 low（低危）",
                          "risk_level must be high, medium or low", "risk_level")
        plausible_past(item.received_at, field="received_at", label_zh="预警时间",
                       prefix_zh=f"第 {index + 1} 条预警：", prefix_en=f"warning {index + 1}: ")
        seen[number] = item
    stored = set(session.exec(select(FraudWarning.warning_number)
                              .where(FraudWarning.warning_number.in_(list(seen)))).all())
    fresh = [FraudWarning(warning_number=number, area_unit_id=areas[item.area][0], risk_level=item.risk_level,
                          received_at=as_utc(item.received_at))
             for number, item in seen.items() if number not in stored]
    if fresh:
        session.add_all(fresh)
        session.flush()
        _count(session, fresh, received=1)
        digest = hashlib.sha256("\n".join(w.warning_number for w in fresh).encode()).hexdigest()
        audit.record(session=session, actor=actor.username, action="warnings.received", entity_type="warning",
                     entity_id=fresh[0].id, after={"count": len(fresh), "first": fresh[0].warning_number,
                                                   "last": fresh[-1].warning_number, "numbers_sha256": digest},
                     at=now)
    return BatchResult(received=len(fresh), already_received=len(seen) - len(fresh))


def link_dissuasion(*, session: Session, warning_number: str, area_unit_id: int, risk_level: str,
                    process_id: int, at: datetime) -> None:
    """A dissuasion started from a warning: the warning (received now if the feed has not sent it
    yet) points at the process, whose outcome it will take."""
    warning = session.exec(select(FraudWarning).where(FraudWarning.warning_number == warning_number)).first()
    if warning is None:
        warning = FraudWarning(warning_number=warning_number, area_unit_id=area_unit_id, risk_level=risk_level,
                               received_at=at)
        _count(session, [warning], received=1)
    warning.process_id = process_id
    session.add(warning)


def record_outcome(*, session: Session, process_id: int, outcome: str, at: datetime) -> None:
    """The dissuasion process closed: its warnings take the outcome (the close itself is audited)."""
    for warning in session.exec(select(FraudWarning).where(FraudWarning.process_id == process_id)).all():
        set_outcome(session=session, warning=warning, outcome=outcome, at=at)


def set_outcome(*, session: Session, warning: FraudWarning, outcome: str, at: datetime) -> None:
    if outcome not in OUTCOMES or outcome == warning.outcome:
        return
    change = (outcome == "dissuaded") - (warning.outcome == "dissuaded")
    warning.outcome, warning.handled_at = outcome, at
    session.add(warning)
    if change:
        _count(session, [warning], dissuaded=change)


def month_of(moment: datetime) -> str:
    """The Beijing calendar month of a moment, "2026-10"."""
    return as_utc(moment).astimezone(SHANGHAI).strftime("%Y-%m")


def _count(session: Session, warnings: list[FraudWarning], *, received: int = 0, dissuaded: int = 0) -> None:
    """Add to the monthly counts of these warnings' months and areas, in the caller's transaction."""
    deltas: dict[tuple[str, int], int] = {}
    for warning in warnings:
        key = (month_of(warning.received_at), warning.area_unit_id)
        deltas[key] = deltas.get(key, 0) + 1
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = WarningMonth.__table__
    for (month, area), n in sorted(deltas.items()):
        statement = insert(table).values(month=month, area_unit_id=area, received=received * n,
                                         dissuaded=dissuaded * n)
        session.execute(statement.on_conflict_do_update(
            index_elements=["month", "area_unit_id"],
            set_={"received": table.c.received + received * n, "dissuaded": table.c.dissuaded + dissuaded * n}))


def rebuild_month_counts(*, session: Session) -> int:
    """Recount warning_months from the warnings (after a bulk load or a repair). Returns rows written."""
    month = func.strftime("%Y-%m", FraudWarning.received_at, "+8 hours")
    if session.get_bind().dialect.name == "postgresql":
        month = func.to_char(func.timezone("Asia/Shanghai", func.timezone("UTC", FraudWarning.received_at)), "YYYY-MM")
    rows = session.exec(select(month.label("month"), FraudWarning.area_unit_id, func.count(),
                               func.sum(case((FraudWarning.outcome == "dissuaded", 1), else_=0)))
                        .group_by(month, FraudWarning.area_unit_id)).all()
    session.execute(delete(WarningMonth))
    session.add_all([WarningMonth(month=m, area_unit_id=a, received=r, dissuaded=int(d or 0)) for m, a, r, d in rows])
    session.flush()
    return len(rows)
