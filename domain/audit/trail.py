"""The audit trail as the auditor reads it: filtered by who acted, what was done, the unit, the
case and the days it happened, newest first, a page at a time; the same selection as CSV.

Read-only: nothing here changes a row. A unit's entries are those of its people (the unit and
every unit under it) and those about the orders addressed to it; a case's entries are the case's
own and those of its approvals, orders and processes. Refused attempts (`<entity>.refused`) are
entries like any other: the action filter "refused" picks all of them.
"""
import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, false, or_
from sqlmodel import Session, func, select

from domain.audit.models import AuditEvent
from domain.cases.models import Case
from domain.errors import InvalidInput
from domain.escalation.models import Approval
from domain.orders.models import Order
from domain.processes.models import Process
from domain.timeutil import SHANGHAI, as_utc
from domain.units import service as units
from domain.units.models import Unit
from domain.users.models import User
from domain.users.service import require_role
from domain.validation import Collector, day

READER_ROLES = ("auditor", "admin")
REFUSED = "refused"  # the action filter that picks every refused attempt
MAX_EXPORT = 200_000


@dataclass(frozen=True)
class TrailFilter:
    actor: str = ""
    action: str = ""  # an action code, or REFUSED
    unit: str = ""  # a unit code (its subtree)
    case_number: str = ""
    start: date | None = None  # Beijing days, both included
    end: date | None = None


def parse_filter(*, session: Session, actor: str = "", action: str = "", unit: str = "", case_number: str = "",
                 start: str = "", end: str = "") -> TrailFilter:
    """The filter as typed, checked: every field at fault at once."""
    found = Collector()
    first = found.check(day, start, field="start", label="起始日期")
    last = found.check(day, end, field="end", label="截止日期")
    if first and last and last < first:
        found.add(InvalidInput("bad_range", "截止日期不能早于起始日期", "the end date is before the start date",
                               field="end"))
    unit = (unit or "").strip()[:64]
    if unit and units.by_code(session=session, code=unit) is None:
        found.add(InvalidInput("unknown_unit", f"单位代码 {unit} 不存在", f"there is no unit {unit}", field="unit"))
    number = (case_number or "").strip()[:64]
    if number and session.exec(select(Case.id).where(Case.case_number == number)).first() is None:
        found.add(InvalidInput("unknown_case_number", f"案件编号 {number} 不存在", f"there is no case numbered {number}",
                               field="case_number"))
    found.done()
    return TrailFilter(actor=(actor or "").strip()[:64], action=(action or "").strip()[:64], unit=unit,
                       case_number=number, start=first, end=last)


def _midnight(d: date) -> datetime:
    return as_utc(datetime.combine(d, time(), SHANGHAI))


def _about_case(session: Session, case_id: int):
    entity = AuditEvent.entity_type, AuditEvent.entity_id
    return or_(and_(entity[0] == "case", entity[1] == case_id),
               and_(entity[0] == "approval", entity[1].in_(select(Approval.id).where(Approval.case_id == case_id))),
               and_(entity[0] == "order", entity[1].in_(select(Order.id).where(Order.case_id == case_id))),
               and_(entity[0] == "process", entity[1].in_(select(Process.id).where(Process.case_id == case_id))))


def _about_unit(session: Session, unit_code: str):
    root = units.by_code(session=session, code=unit_code)
    if root is None:
        return false()
    tree = units.subtree_ids(session=session, root_id=root.id)
    people = select(User.username).where(User.unit_id.in_(tree))
    addressed = select(Order.id).where(Order.addressee_unit_id.in_(tree))
    return or_(AuditEvent.actor.in_(people),
               and_(AuditEvent.entity_type == "order", AuditEvent.entity_id.in_(addressed)))


def _query(session: Session, chosen: TrailFilter):
    query = select(AuditEvent)
    if chosen.actor:
        query = query.where(AuditEvent.actor == chosen.actor)
    if chosen.action == REFUSED:
        query = query.where(AuditEvent.action.like("%.refused"))
    elif chosen.action:
        query = query.where(AuditEvent.action == chosen.action)
    if chosen.unit:
        query = query.where(_about_unit(session, chosen.unit))
    if chosen.case_number:
        case_id = session.exec(select(Case.id).where(Case.case_number == chosen.case_number)).first()
        query = query.where(_about_case(session, case_id) if case_id is not None else false())
    if chosen.start:
        query = query.where(AuditEvent.at >= _midnight(chosen.start))
    if chosen.end:
        query = query.where(AuditEvent.at < _midnight(chosen.end + timedelta(days=1)))
    return query


def search(*, session: Session, actor: User, chosen: TrailFilter, offset: int = 0,
           limit: int = 50) -> tuple[list[AuditEvent], int]:
    """A page of the entries the filter picks, newest first, and how many it picks in all."""
    require_role(actor, *READER_ROLES)
    query = _query(session, chosen)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(AuditEvent.seq.desc()).offset(offset).limit(limit)).all()
    return list(rows), total


def actions(*, session: Session, actor: User) -> list[str]:
    """Every action the trail holds, for the filter's choices."""
    require_role(actor, *READER_ROLES)
    return sorted(session.exec(select(AuditEvent.action).distinct()).all())


def actors(*, session: Session, actor: User) -> list[str]:
    """Everyone who may appear as an actor: the users, then the system's own actors in the trail."""
    require_role(actor, *READER_ROLES)
    people = list(session.exec(select(User.username).order_by(User.username)).all())
    system = session.exec(select(AuditEvent.actor).where(AuditEvent.actor.like("system%")).distinct()).all()
    return people + sorted(set(system) - set(people))


def unit_choices(*, session: Session, actor: User) -> list[tuple[str, str]]:
    require_role(actor, *READER_ROLES)
    return [(code, name) for code, name in session.exec(select(Unit.code, Unit.name).order_by(Unit.code)).all()]


def changes(event: AuditEvent) -> list[tuple[str, str, str]]:
    """What an entry recorded, field by field: (field, before, after), values as text."""
    before, after = _loaded(event.before), _loaded(event.after)
    if not isinstance(before, dict) or not isinstance(after, dict):
        return [("", _text(before), _text(after))]
    keys = list(before) + [k for k in after if k not in before]
    return [(key, _text(before.get(key)), _text(after.get(key))) for key in keys
            if key not in after or key not in before or before.get(key) != after.get(key)]


def _loaded(raw: str | None):
    if raw is None:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _cell(value):
    """No spreadsheet formula out of what someone typed (CSV injection): such a cell starts with '."""
    return "'" + value if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _text(value) -> str:
    if value is None or value == {}:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


CSV_HEADER = ("序号", "时间（北京时间）", "操作人", "操作", "对象类型", "对象编号", "字段", "变更前", "变更后", "依据规则",
              "哈希")


def export_csv(*, session: Session, actor: User, chosen: TrailFilter, action_names: dict[str, str] | None = None) -> bytes:
    """The entries the filter picks, oldest first, one line per changed field, as CSV in UTF-8 with
    a BOM (Excel opens it in Chinese without asking)."""
    require_role(actor, *READER_ROLES)
    names = action_names or {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    rows = session.exec(_query(session, chosen).order_by(AuditEvent.seq).limit(MAX_EXPORT)).all()
    for event in rows:
        at = event.at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
        head = (event.seq, at, event.actor, names.get(event.action, event.action), event.entity_type, event.entity_id)
        for field, before, after in changes(event) or [("", "", "")]:
            writer.writerow(tuple(_cell(v) for v in (*head, field, before, after, event.rule or "", event.hash)))
    return ("\ufeff" + out.getvalue()).encode("utf-8")
