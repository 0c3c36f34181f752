"""Charts drawn on the server as inline SVG (no script, nothing inline-styled: colours come from
classes in app.css). This module only does the geometry; templates/partials/chart_weekly.html
draws it."""
from dataclasses import dataclass

from domain.cases.overview import NO_TIER, WeekCounts

# Bottom to top of each stacked bar.
TIER_ORDER = (NO_TIER, "cid_head", "deputy", "chief")


@dataclass(frozen=True)
class Segment:
    tier: str
    count: int
    y: float
    height: float


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    label: str
    total: int
    segments: list[Segment]


@dataclass(frozen=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True)
class Plot:
    """The drawing's size and where its plot area sits in it."""
    width: int
    height: int
    left: int
    top: int
    plot_width: float
    plot_height: float


@dataclass(frozen=True)
class StackedBars(Plot):
    bars: list[Bar]
    ticks: list[Tick]
    tiers: tuple[str, ...]
    weeks: list[WeekCounts]


def _tick_step(maximum: int) -> int:
    """A round step that gives at most five gridlines."""
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if maximum / step <= 5:
            return step
    return max(1, maximum // 5)


def _scale(highest: int) -> tuple[int, int]:
    """(gridline step, axis ceiling) for values up to `highest`."""
    step = _tick_step(max(highest, 1))
    return step, max(step, -(-max(highest, 1) // step) * step)


def _vertical_ticks(top: int, plot_height: float, step: int, ceiling: int) -> list[Tick]:
    return [Tick(y=round(top + plot_height - plot_height * v / ceiling, 2), value=v) for v in range(0, ceiling + 1, step)]


def weekly_stacked(weeks: list[WeekCounts], *, width: int = 640, height: int = 220) -> StackedBars:
    left, right, top, bottom = 36, 8, 12, 28
    plot_width, plot_height = width - left - right, height - top - bottom
    step, ceiling = _scale(max([w.total for w in weeks], default=0))
    band = plot_width / max(len(weeks), 1)
    bars = []
    for i, week in enumerate(weeks):
        base = top + plot_height
        segments = []
        for tier in TIER_ORDER:
            count = week.counts.get(tier, 0)
            if count:
                h = plot_height * count / ceiling
                base -= h
                segments.append(Segment(tier=tier, count=count, y=round(base, 2), height=round(h, 2)))
        bars.append(Bar(x=round(left + i * band + band * 0.2, 2), width=round(band * 0.6, 2),
                        label=f"{week.week_start.month}/{week.week_start.day}", total=week.total, segments=segments))
    ticks = _vertical_ticks(top, plot_height, step, ceiling)
    return StackedBars(width=width, height=height, left=left, top=top, plot_width=plot_width,
                       plot_height=plot_height, bars=bars, ticks=ticks, tiers=TIER_ORDER, weeks=weeks)


# ---- overdue orders by unit: horizontal stacked bars, one row per unit ----

LATE_ORDER = ("acknowledge", "report")  # left to right: late to acknowledge, late to report


@dataclass(frozen=True)
class RowSegment:
    late: str
    count: int
    x: float
    width: float


@dataclass(frozen=True)
class Row:
    y: float
    height: float
    label: str  # shortened to fit; the full name is in `name`
    name: str
    unit_id: int
    total: int
    end: float
    segments: list[RowSegment]


@dataclass(frozen=True)
class RowBars(Plot):
    rows: list[Row]
    ticks: list[Tick]  # here `y` holds the gridline's x
    lates: tuple[str, ...]


def _short(name: str, limit: int = 13) -> str:
    return name if len(name) <= limit else name[:limit - 1] + "…"


def overdue_rows(units, *, width: int = 640, row_height: int = 26) -> RowBars:
    """`units`: domain.orders.overview.UnitOverdue, most late first."""
    left, right, top, bottom = 190, 36, 6, 24
    plot_width = width - left - right
    plot_height = max(len(units), 1) * row_height
    step, ceiling = _scale(max([u.total for u in units], default=0))
    rows = []
    for i, unit in enumerate(units):
        x, segments = float(left), []
        for late in LATE_ORDER:
            count = getattr(unit, late)
            if count:
                w = plot_width * count / ceiling
                segments.append(RowSegment(late=late, count=count, x=round(x, 2), width=round(w, 2)))
                x += w
        rows.append(Row(y=round(top + i * row_height + row_height * 0.18, 2), height=round(row_height * 0.64, 2),
                        label=_short(unit.unit_name), name=unit.unit_name, unit_id=unit.unit_id, total=unit.total,
                        end=round(x, 2), segments=segments))
    ticks = [Tick(y=round(left + plot_width * v / ceiling, 2), value=v) for v in range(0, ceiling + 1, step)]
    return RowBars(width=width, height=top + plot_height + bottom, left=left, top=top, plot_width=plot_width,
                   plot_height=plot_height, rows=rows, ticks=ticks, lates=LATE_ORDER)


@dataclass(frozen=True)
class GroupBar:
    series: int  # index into the chart's series, for the colour class
    x: float
    y: float
    width: float
    height: float
    value: int


@dataclass(frozen=True)
class Group:
    label: str
    centre: float
    bars: list[GroupBar]


@dataclass(frozen=True)
class GroupedBars(Plot):
    groups: list[Group]
    ticks: list[Tick]
    names: list[str]


def grouped_bars(labels: list[str], series: list[tuple[str, list[int]]], *, width: int = 640,
                 height: int = 220) -> GroupedBars:
    """Side-by-side bars: one group per label (a month), one bar per series (its name, its values)."""
    left, right, top, bottom = 52, 8, 12, 28
    plot_width, plot_height = width - left - right, height - top - bottom
    step, ceiling = _scale(max([v for _, values in series for v in values], default=0))
    band = plot_width / max(len(labels), 1)
    bar_width = band * 0.8 / max(len(series), 1)
    groups = []
    for i, label in enumerate(labels):
        start = left + i * band + band * 0.1
        bars = []
        for s, (_, values) in enumerate(series):
            h = plot_height * max(values[i], 0) / ceiling
            bars.append(GroupBar(series=s, x=round(start + s * bar_width, 2), y=round(top + plot_height - h, 2),
                                 width=round(bar_width * 0.9, 2), height=round(h, 2), value=values[i]))
        groups.append(Group(label=label, centre=round(left + i * band + band / 2, 2), bars=bars))
    ticks = _vertical_ticks(top, plot_height, step, ceiling)
    return GroupedBars(width=width, height=height, left=left, top=top, plot_width=plot_width, plot_height=plot_height,
                       groups=groups, ticks=ticks, names=[name for name, _ in series])
