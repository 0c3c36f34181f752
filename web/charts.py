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
class StackedBars:
    width: int
    height: int
    left: int
    top: int
    plot_width: float
    plot_height: float
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


def weekly_stacked(weeks: list[WeekCounts], *, width: int = 640, height: int = 220) -> StackedBars:
    left, right, top, bottom = 36, 8, 12, 28
    plot_width, plot_height = width - left - right, height - top - bottom
    step = _tick_step(max([w.total for w in weeks] + [1]))
    ceiling = max(step, -(-max([w.total for w in weeks] + [1]) // step) * step)
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
    ticks = [Tick(y=round(top + plot_height - plot_height * v / ceiling, 2), value=v)
             for v in range(0, ceiling + 1, step)]
    return StackedBars(width=width, height=height, left=left, top=top, plot_width=plot_width,
                       plot_height=plot_height, bars=bars, ticks=ticks, tiers=TIER_ORDER, weeks=weeks)
