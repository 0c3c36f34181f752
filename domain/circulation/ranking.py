"""Pure ranking rules of the monthly circulation (通报): no database, no clock.

- `roll_up`: a unit's count includes its whole subtree (an outlet's accounts count for its
  sub-branch, city branch and bank; a village's cases for its town and county).
- `rank`: the top N by count or by cases per 10,000 residents (万人发案率). When any area with a
  case lacks a population, the whole level is ranked by counts (a rate and a count cannot be
  compared) and the areas without population are named (`Ranking.without_population`).
  Equal measures are decided by the policy's tie_break (amount_desc, then code_asc), so each rank
  is held by one unit. Units without a case are never ranked.
- `cards_due`: which card (黄牌/红牌) a number of circulations earns, given the cards held.
- month arithmetic on "YYYY-MM" strings.
"""
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction


@dataclass(frozen=True)
class Tally:
    unit_id: int
    code: str
    name: str
    count: int
    amount_fen: int = 0
    population: int | None = None


@dataclass(frozen=True)
class Ranked:
    rank: int
    tally: Tally
    measure: str  # count | per_10k | count_fallback
    rate_per_10k: Decimal | None  # 4 places, for printing; ranking used the exact fraction


@dataclass(frozen=True)
class Ranking:
    rows: list[Ranked]
    measure: str  # what the level was ranked by: count, per_10k or count_fallback
    without_population: list[str]  # names of the areas (with cases) that have no population


def roll_up(parent_of: dict[int, int | None], own: dict[int, tuple[int, int]]) -> dict[int, tuple[int, int]]:
    """(count, amount_fen) of each unit and everything below it, from the units' own figures."""
    total: dict[int, tuple[int, int]] = {}
    for unit_id, (count, amount) in own.items():
        current: int | None = unit_id
        seen: set[int] = set()
        while current is not None and current not in seen:  # a cycle in bad data must not hang the run
            seen.add(current)
            c, a = total.get(current, (0, 0))
            total[current] = (c + count, a + amount)
            current = parent_of.get(current)
    return total


def _rate(tally: Tally) -> Fraction:
    return Fraction(tally.count * 10_000, tally.population)


def _round4(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def rank(tallies: list[Tally], *, top: int, measure: str, tie_break: list[str]) -> Ranking:
    candidates = [t for t in tallies if t.count > 0]
    missing = sorted((t for t in candidates if not t.population), key=lambda t: t.code)
    used = measure
    if measure == "per_10k" and missing:
        used = "count_fallback"

    def key(t: Tally) -> tuple:
        primary = _rate(t) if used == "per_10k" else Fraction(t.count)
        parts: list = [-primary]
        for rule in tie_break:
            if rule == "amount_desc":
                parts.append(-t.amount_fen)
            elif rule == "code_asc":
                parts.append(t.code)
            else:  # the schema admits no other rule
                raise ValueError(f"unknown tie_break rule {rule!r}")
        return tuple(parts)

    ordered = sorted(candidates, key=key)[:top]
    rows = [Ranked(rank=i, tally=t, measure=used,
                   rate_per_10k=_round4(_rate(t)) if t.population else None)
            for i, t in enumerate(ordered, start=1)]
    return Ranking(rows=rows, measure=used, without_population=[t.name for t in missing] if measure == "per_10k" else [])


def cards_due(circulated: int, held: set[str], *, yellow_at: int, red_at: int) -> str | None:
    """The card `circulated` circulations in the counting period earn, if not already held."""
    if circulated >= red_at and "red" not in held:
        return "red"
    if circulated >= yellow_at and not held & {"yellow", "red"}:
        return "yellow"
    return None


def month_add(month: str, delta: int) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    index = year * 12 + (mon - 1) + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_between(first: str, last: str) -> int:
    """How many months from `first` to `last`, both included (0 when last is before first)."""
    span = (int(last[:4]) * 12 + int(last[5:7])) - (int(first[:4]) * 12 + int(first[5:7])) + 1
    return max(span, 0)


def clean_months(*, accepted_month: str, circulated: list[str], month: str) -> int:
    """Whole months after the rectification was accepted, up to and including `month`, since the
    unit was last circulated (挂牌整治 出列 counts these)."""
    last = max([m for m in circulated if m > accepted_month and m <= month], default=accepted_month)
    return months_between(month_add(last, 1), month)
