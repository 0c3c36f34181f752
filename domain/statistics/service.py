"""The office's headline figures (the seeds' numbers) for any period and any unit subtree, with
month-on-month (环比) and year-on-year (同比) changes and a twelve-month series.

Everything is counted from the data when asked: warnings by when they arrived, cases by when they
were reported (发案) and solved (破案), money returned by when it was recorded, stop-payments and
freezes by when the bank reported the amount. A subtree counts the areas under it (warnings,
cases) and, for stop-payments and freezes, also the bank units under it, so a bank's figures are
its own accounts. Cases and orders (thousands a year) are read in one query per table that buckets
rows by range with CASE, so the same SQL runs on SQLite and PostgreSQL; warnings (a million a year)
come from their monthly counts for whole months and from the warnings only for the odd days.
"""
import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import case, func, or_, true
from sqlmodel import Session, select

from domain.cases.models import Case
from domain.errors import InvalidInput
from domain.orders.models import Order
from domain.timeutil import SHANGHAI, as_utc
from domain.units import service as units
from domain.units.models import Unit
from domain.users.models import User
from domain.users.service import require_role
from domain.warnings.models import FraudWarning, WarningMonth

READER_ROLES = ("office", "leader", "auditor", "admin")
MAX_DAYS = 5 * 366
SERIES_MONTHS = 12
# Reported amounts count once the bank has reported them and the report stands.
COUNTED_ORDER_STATUSES = ("reported", "accepted", "closed")


@dataclass(frozen=True)
class Metric:
    key: str
    zh: str
    en: str
    money: bool = False


METRICS: tuple[Metric, ...] = (
    Metric("warnings", "预警处置数", "Warnings handled"),
    Metric("dissuaded", "劝阻成功数", "Warnings dissuaded"),
    Metric("cases_reported", "发案数", "Cases reported"),
    Metric("amount_reported", "发案金额", "Amount reported", money=True),
    Metric("cases_solved", "破案数", "Cases solved"),
    Metric("suspects_caught", "抓获人数", "People caught"),
    Metric("stopped_accounts", "止付账户数", "Accounts stopped"),
    Metric("stopped_fen", "止付金额", "Amount stopped", money=True),
    Metric("frozen_accounts", "冻结账户数", "Accounts frozen"),
    Metric("frozen_fen", "冻结金额", "Amount frozen", money=True),
    Metric("recovered_fen", "挽损金额", "Money returned", money=True),
)


@dataclass(frozen=True)
class Period:
    """Calendar days in Beijing time, both ends included."""

    start: date
    end: date

    @property
    def whole_months(self) -> int | None:
        """How many calendar months the period spans exactly, or None."""
        if self.start.day != 1 or self.end.day != calendar.monthrange(self.end.year, self.end.month)[1]:
            return None
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) in UTC."""
        return (as_utc(datetime.combine(self.start, time(), SHANGHAI)),
                as_utc(datetime.combine(self.end + timedelta(days=1), time(), SHANGHAI)))

    def previous(self) -> "Period":
        """The period just before (环比): the previous months for whole months, else as many days."""
        months = self.whole_months
        if months is not None:
            first = add_months(self.start, -months)
            return Period(first, self.start - timedelta(days=1))
        length = self.end - self.start
        return Period(self.start - length - timedelta(days=1), self.start - timedelta(days=1))

    def year_before(self) -> "Period":
        """The same days a year earlier (同比); 29 February reads as the 28th."""
        months = self.whole_months
        if months is not None:
            first = add_months(self.start, -12)
            return Period(first, add_months(first, months) - timedelta(days=1))
        return Period(_year_earlier(self.start), _year_earlier(self.end))


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _year_earlier(day: date) -> date:
    return day.replace(year=day.year - 1, day=28) if (day.month, day.day) == (2, 29) else day.replace(year=day.year - 1)


def month_period(month: str) -> Period:
    """"2026-10" → the whole month."""
    try:
        year, number = (int(part) for part in month.split("-"))
        first = date(year, number, 1)
    except (ValueError, TypeError):
        raise InvalidInput("bad_month", "月份格式须为 YYYY-MM，如 2026-10", "month must look like 2026-10",
                           field="month") from None
    return Period(first, add_months(first, 1) - timedelta(days=1))


def period(start: date | None, end: date | None, *, today: date) -> Period:
    """The period asked for; by default the last whole month."""
    if start is None and end is None:
        first_of_this = today.replace(day=1)
        return Period(add_months(first_of_this, -1), first_of_this - timedelta(days=1))
    if start is None or end is None:
        raise InvalidInput("bad_period", "请同时填写开始和结束日期", "give both the start and the end date", field="start")
    if end < start:
        raise InvalidInput("bad_period", "结束日期不能早于开始日期", "the end date is before the start date", field="end")
    if (end - start).days > MAX_DAYS:
        raise InvalidInput("period_too_long", "统计区间最长五年", "a period spans at most five years", field="end")
    if start.year < 2000 or end.year > 2100:
        raise InvalidInput("bad_period", "日期须在 2000 至 2100 年之间", "dates must lie between 2000 and 2100",
                           field="start")
    return Period(start, end)


@dataclass(frozen=True)
class Change:
    previous: int
    percent: Decimal | None  # None when the earlier figure is zero


@dataclass(frozen=True)
class Row:
    metric: Metric
    value: int
    month_on_month: Change
    year_on_year: Change


@dataclass
class Dashboard:
    unit: Unit
    period: Period
    previous: Period
    year_before: Period
    rows: list[Row]
    months: list[str] = field(default_factory=list)  # "2026-10", oldest first
    series: dict[str, list[int]] = field(default_factory=dict)  # metric key → one figure per month


def _change(value: int, earlier: int) -> Change:
    if earlier == 0:
        return Change(earlier, None)
    return Change(earlier, (Decimal(value - earlier) * 100 / earlier).quantize(Decimal("0.1")))


class _Scope:
    """The unit subtree a figure is limited to; the whole city (a root unit) needs no filter."""

    def __init__(self, session: Session, unit: Unit):
        whole = unit.parent_id is None and session.exec(
            select(func.count()).select_from(Unit).where(Unit.parent_id.is_(None))).one() == 1
        self.ids = None if whole else sorted(units.subtree_ids(session=session, root_id=unit.id))

    def area(self, column):
        return true() if self.ids is None else column.in_(self.ids)

    def order(self):
        if self.ids is None:
            return true()
        return or_(Case.area_unit_id.in_(self.ids), Order.addressee_unit_id.in_(self.ids))


def _bucket(column, edges: list[datetime]):
    """The index of the [edges[i], edges[i+1]) range `column` falls in (rows outside are filtered)."""
    return case(*[(column < edge, index) for index, edge in enumerate(edges[1:])], else_=len(edges) - 1)


def _figures(session: Session, scope: _Scope, edges: list[datetime]) -> list[dict[str, int]]:
    """Every metric for each range [edges[i], edges[i+1]): five queries whatever the number of ranges."""
    first, last = edges[0], edges[-1]
    slots = [dict.fromkeys((m.key for m in METRICS), 0) for _ in edges[:-1]]

    def fill(query, names):
        for bucket, *values in session.exec(query).all():
            for name, value in zip(names, values):
                slots[bucket][name] = int(value or 0)

    _warning_figures(session, scope, edges, slots)
    bucket = _bucket(Case.reported_at, edges).label("bucket")
    fill(select(bucket, func.count(), func.sum(Case.amount_fen))
         .where(Case.reported_at >= first, Case.reported_at < last, scope.area(Case.area_unit_id)).group_by(bucket),
         ("cases_reported", "amount_reported"))
    bucket = _bucket(Case.solved_at, edges).label("bucket")
    fill(select(bucket, func.count(), func.sum(Case.suspects_caught))
         .where(Case.solved_at >= first, Case.solved_at < last, scope.area(Case.area_unit_id)).group_by(bucket),
         ("cases_solved", "suspects_caught"))
    bucket = _bucket(Case.recovered_at, edges).label("bucket")
    fill(select(bucket, func.sum(Case.recovered_fen))
         .where(Case.recovered_at >= first, Case.recovered_at < last, scope.area(Case.area_unit_id)).group_by(bucket),
         ("recovered_fen",))
    for kind, names, first_round in (("stop_payment", ("stopped_accounts", "stopped_fen"), None),
                                     ("freeze", ("frozen_accounts", "frozen_fen"), "freeze_1")):
        bucket = _bucket(Order.reported_at, edges).label("bucket")
        query = (select(bucket, func.count(), func.sum(Order.reported_amount_fen))
                 .select_from(Order).join(Case, Case.id == Order.case_id, isouter=True)
                 .where(Order.kind == kind, Order.reported_amount_fen.is_not(None),
                        Order.status.in_(COUNTED_ORDER_STATUSES),
                        Order.reported_at >= first, Order.reported_at < last, scope.order()))
        if first_round:  # a renewal (续冻) is the same account frozen again, not another one
            query = query.where(or_(Order.step_key.is_(None), Order.step_key == first_round))
        fill(query.group_by(bucket), names)
    return slots


def _warning_figures(session: Session, scope: _Scope, edges: list[datetime], slots: list[dict[str, int]]) -> None:
    """Warnings per range: whole Beijing months from the monthly counts (a year is ~12,000 rows,
    not a million), the days before the first and after the last whole month from the warnings."""
    months: dict[str, list[int]] = {}
    pieces: list[tuple[date, date, int]] = []
    for index, (start, end) in enumerate(zip(edges, edges[1:])):
        first_day, end_day = start.astimezone(SHANGHAI).date(), end.astimezone(SHANGHAI).date()
        whole_from = first_day if first_day.day == 1 else add_months(first_day.replace(day=1), 1)
        whole_to = end_day.replace(day=1)
        if whole_from < whole_to:
            month = whole_from
            while month < whole_to:
                months.setdefault(f"{month.year}-{month.month:02d}", []).append(index)
                month = add_months(month, 1)
            pieces += [(first_day, whole_from, index), (whole_to, end_day, index)]
        else:
            pieces.append((first_day, end_day, index))
    if months:
        for month, received, dissuaded in session.exec(
                select(WarningMonth.month, func.sum(WarningMonth.received), func.sum(WarningMonth.dissuaded))
                .where(WarningMonth.month.in_(list(months)), scope.area(WarningMonth.area_unit_id))
                .group_by(WarningMonth.month)).all():
            for index in months[month]:
                slots[index]["warnings"] += int(received or 0)
                slots[index]["dissuaded"] += int(dissuaded or 0)
    received_at = FraudWarning.received_at
    for start, end, index in pieces:
        if start >= end:
            continue
        count, dissuaded = session.exec(
            select(func.count(), func.sum(case((FraudWarning.outcome == "dissuaded", 1), else_=0)))
            .where(received_at >= _midnight(start), received_at < _midnight(end),
                   scope.area(FraudWarning.area_unit_id))).one()
        slots[index]["warnings"] += int(count or 0)
        slots[index]["dissuaded"] += int(dissuaded or 0)


def _midnight(day: date) -> datetime:
    return as_utc(datetime.combine(day, time(), SHANGHAI))


def _total(session: Session, scope: _Scope, span: Period) -> dict[str, int]:
    return _figures(session, scope, list(span.bounds()))[0]


def resolve_unit(session: Session, unit: int | str | None) -> Unit:
    """A unit by id or code; none means the whole city (the root of the area tree)."""
    if unit is None or unit == "":
        found = session.exec(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.id)).first()
    elif isinstance(unit, int):
        found = session.get(Unit, unit)
    else:
        found = units.by_code(session=session, code=unit.strip())
        if found is None and unit.strip().isdigit() and len(unit.strip()) < 10:
            found = session.get(Unit, int(unit))
    if found is None:
        raise InvalidInput("unknown_unit", f"单位 {unit!r} 不存在", f"unit {unit!r} does not exist", field="unit")
    return found


def dashboard(*, session: Session, actor: User, span: Period, unit: int | str | None = None) -> Dashboard:
    require_role(actor, *READER_ROLES)
    root = resolve_unit(session, unit)
    scope = _Scope(session, root)
    current, previous, year_before = (_total(session, scope, p) for p in (span, span.previous(), span.year_before()))
    rows = [Row(m, current[m.key], _change(current[m.key], previous[m.key]), _change(current[m.key], year_before[m.key]))
            for m in METRICS]
    last_month = span.end.replace(day=1)
    firsts = [add_months(last_month, -offset) for offset in range(SERIES_MONTHS - 1, -1, -1)]
    edges = [as_utc(datetime.combine(d, time(), SHANGHAI)) for d in firsts + [add_months(last_month, 1)]]
    monthly = _figures(session, scope, edges)
    return Dashboard(unit=root, period=span, previous=span.previous(), year_before=span.year_before(), rows=rows,
                     months=[f"{d.year}-{d.month:02d}" for d in firsts],
                     series={m.key: [slot[m.key] for slot in monthly] for m in METRICS})
