"""The shape of every policy file. Unknown keys, gapped or overlapping tiers and bad amounts
are refused; `loader` turns the error into the file's line and the reason."""
import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model, field_validator, model_validator

LeaderTier = Literal["cid_head", "deputy", "chief"]


def _parse_cny(value: object) -> Decimal:
    # Floats in YAML (500000.5) would already have lost exactness: amounts must be quoted strings.
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError('amount must be a quoted string such as "500000.00"')
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"amount must be zero or more: {value!r}")
    if amount.as_tuple().exponent < -2:
        raise ValueError(f"amount has more than 2 decimal places: {value!r}")
    return amount


CNY = Annotated[Decimal, BeforeValidator(_parse_cny)]

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: object) -> timedelta:
    if not isinstance(value, str) or not (match := _DURATION.match(value)):
        raise ValueError(f'duration must look like "30s", "90m", "24h" or "3d", got {value!r}')
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds <= 0:
        raise ValueError("duration must be positive")
    if seconds > 10 * 366 * 86400:
        raise ValueError(f"duration longer than ten years: {value!r}")
    return timedelta(seconds=seconds)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# Beside every rule's `basis` (where the rule comes from, for whoever maintains the policy: "seed 000:
# …") a rule may carry its `display_basis`: the same source as people cite it on pages and in
# documents — laws in 《》 with Chinese article numerals, the city's own rules by their title.
DisplayBasis = Annotated[str | None, Field(default=None, min_length=1, max_length=200)]


def shown_basis(rule) -> str:
    """What a page or a document cites for a rule: its display basis, never the developer's note."""
    return getattr(rule, "display_basis", None) or ""


class Tier(Strict):
    id: str = Field(min_length=1)
    leader_tier: LeaderTier
    min_cny: CNY
    below_cny: CNY | None
    supervise: bool
    basis: str = Field(min_length=1)
    display_basis: DisplayBasis

    @model_validator(mode="after")
    def _bounds_ordered(self):
        if self.below_cny is not None and self.below_cny <= self.min_cny:
            raise ValueError(f"below_cny {self.below_cny} must be greater than min_cny {self.min_cny}")
        return self


class ApprovalRules(Strict):
    remind_after: Duration
    decide_within: Duration
    escalation_chain: list[LeaderTier] = Field(min_length=1)
    basis: str = Field(min_length=1)
    display_basis: DisplayBasis

    @model_validator(mode="after")
    def _remind_before_deadline(self):
        if self.remind_after >= self.decide_within:
            raise ValueError("remind_after must be shorter than decide_within")
        if len(set(self.escalation_chain)) != len(self.escalation_chain):
            raise ValueError("escalation_chain names a tier twice")
        return self


class EscalationPolicy(Strict):
    version_note: str
    boundary_rule: Literal["min_inclusive_below_exclusive"]
    tiers: list[Tier] = Field(min_length=1)
    approval: ApprovalRules

    @field_validator("tiers")
    @classmethod
    def _tiers_contiguous(cls, tiers: list[Tier]) -> list[Tier]:
        ordered = sorted(tiers, key=lambda t: t.min_cny, reverse=True)
        if len({t.id for t in tiers}) != len(tiers):
            raise ValueError("two tiers share an id")
        if ordered[0].below_cny is not None:
            raise ValueError(f"the highest tier ({ordered[0].id}) must have below_cny: null")
        for upper, lower in zip(ordered, ordered[1:]):
            if lower.below_cny is None:
                raise ValueError(f"only the highest tier may be open-ended; {lower.id} has below_cny: null")
            if lower.below_cny > upper.min_cny:
                raise ValueError(f"tiers {lower.id} and {upper.id} overlap")
            if lower.below_cny < upper.min_cny:
                raise ValueError(f"gap between tiers {lower.id} and {upper.id}: "
                                 f"{lower.below_cny} to {upper.min_cny} falls in no tier")
        return ordered

    @model_validator(mode="after")
    def _chain_covers_tiers(self):
        missing = {t.leader_tier for t in self.tiers} - set(self.approval.escalation_chain)
        if missing:
            raise ValueError(f"escalation_chain lacks the tier(s) {sorted(missing)}")
        return self


class AmountBounds(Strict):
    min_cny: CNY
    max_cny: CNY
    max_decimal_places: int = Field(ge=0, le=2)

    @model_validator(mode="after")
    def _ordered(self):
        if self.min_cny <= 0:
            raise ValueError("min_cny must be above zero")
        if self.max_cny <= self.min_cny:
            raise ValueError("max_cny must be greater than min_cny")
        return self


class IntakePolicy(Strict):
    version_note: str
    amount: AmountBounds
    area_unit_kinds: list[Literal["county", "town", "village"]] = Field(min_length=1)
    basis: str
    display_basis: DisplayBasis


_DEADLINE = re.compile(r"^\s*(\d+)\s*(s|m|h|d|wd)\s*$")


class Deadline(BaseModel):
    """Elapsed time ("30m", "4h", "2d") or working days ("3wd")."""

    model_config = ConfigDict(frozen=True)
    elapsed: timedelta | None = None
    working_days: int | None = None

    def __str__(self) -> str:
        return f"{self.working_days}wd" if self.working_days is not None else str(self.elapsed)


def _parse_deadline(value: object) -> Deadline:
    if isinstance(value, Deadline):
        return value
    if not isinstance(value, str) or not (match := _DEADLINE.match(value)):
        raise ValueError(f'deadline must look like "30m", "4h", "2d" or "3wd" (working days), got {value!r}')
    amount, unit = int(match.group(1)), match.group(2)
    if amount <= 0:
        raise ValueError("deadline must be positive")
    if (amount if unit == "wd" else amount * _UNIT_SECONDS[unit] / 86400) > 366:
        raise ValueError(f"deadline longer than a year: {value!r}")
    if unit == "wd":
        return Deadline(working_days=amount)
    return Deadline(elapsed=timedelta(seconds=amount * _UNIT_SECONDS[unit]))


DeadlineSpec = Annotated[Deadline, BeforeValidator(_parse_deadline)]
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class OrderKind(Strict):
    """An order kind's deadlines; its name, labels and document are declared in domain/orders/kinds.py."""
    acknowledge_within: DeadlineSpec
    complete_within: DeadlineSpec
    remind_every: Duration
    basis: str = Field(min_length=1)
    display_basis: DisplayBasis


class EvidenceRules(Strict):
    max_bytes: int = Field(gt=0, le=200 * 1024 * 1024)
    allowed_types: list[str] = Field(min_length=1)


class OrdersPolicy(Strict):
    version_note: str
    working_day_ends: str
    escalate_after_reminders: int = Field(ge=1, le=100)
    basis: str
    display_basis: DisplayBasis
    kinds: dict[str, OrderKind] = Field(min_length=1)
    evidence: EvidenceRules

    @field_validator("working_day_ends")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not _CLOCK.match(value):
            raise ValueError(f'working_day_ends must be a time like "18:00", got {value!r}')
        return value


def _iso_day(value: object) -> str:
    from datetime import date

    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise ValueError(f'not a date like "2027-01-01": {value!r}') from None


IsoDay = Annotated[str, BeforeValidator(_iso_day)]


class CalendarPolicy(Strict):
    version_note: str
    source: Literal["chinese_calendar", "table_only"]
    extra_holidays: list[IsoDay]
    extra_workdays: list[IsoDay]
    uncovered_years: Literal["weekdays"]
    basis: str
    display_basis: DisplayBasis

    @model_validator(mode="after")
    def _no_day_both(self):
        both = set(self.extra_holidays) & set(self.extra_workdays)
        if both:
            raise ValueError(f"a day cannot be both a holiday and a workday: {sorted(both)}")
        return self


class ProcessesPolicy(Strict):
    """processes.yaml: a version note and one section per registered process kind that has rules.
    The kinds live in domain/processes (registry.py); each registers its section's schema here when
    it is imported, and `processes_schema()` builds the file's schema from those sections."""
    version_note: str


_PROCESS_SECTIONS: dict[str, type[Strict]] = {}


def register_process_section(kind: str, rules: type[Strict]) -> None:
    _PROCESS_SECTIONS[kind] = rules


def unregister_process_section(kind: str) -> None:
    _PROCESS_SECTIONS.pop(kind, None)


def processes_schema() -> type[ProcessesPolicy]:
    # The shipped kinds register on import; importing them late keeps this module free of the domain
    # for everything but this one file's sections.
    from domain.processes.registry import load_kinds

    load_kinds()
    return _processes_schema(tuple(_PROCESS_SECTIONS.items()))


@lru_cache(maxsize=16)
def _processes_schema(sections: tuple[tuple[str, type[Strict]], ...]) -> type[ProcessesPolicy]:
    return create_model("ProcessesPolicy", __base__=ProcessesPolicy, **{k: (rules, ...) for k, rules in sections})


class DocumentsPolicy(Strict):
    """Who issues the office's PDF documents (GB/T 9704 版头 and 版记) and with which code."""

    version_note: str
    issuing_body: str = Field(min_length=1, max_length=60)   # 发文机关署名 (full name)
    issuing_code: str = Field(min_length=1, max_length=20)   # 发文机关代字: 荆反诈联办〔2026〕12号
    header: str = Field(min_length=1, max_length=40)         # 发文机关标志, the red masthead
    printed_by: str = Field(min_length=1, max_length=60)     # 印发机关 in the 版记
    default_cc: list[str] = Field(default_factory=list)      # 抄送机关 when an issue names none
    basis: str = Field(min_length=1)
    display_basis: DisplayBasis

    @field_validator("issuing_code")
    @classmethod
    def _code_is_plain(cls, code: str) -> str:
        if any(c.isspace() or c.isdigit() or c in "〔〕[]()（）号" for c in code):
            raise ValueError(f"issuing_code {code!r} must be the bare code (e.g. 荆反诈联办): "
                             "no digits, spaces, brackets or 号")
        return code


class AreaRanking(Strict):
    """One level of areas circulated each month (县市区 / 乡镇街道 / 村居)."""
    id: str = Field(min_length=1, max_length=32)
    label_zh: str = Field(min_length=1)
    unit_kind: Literal["county", "town", "village"]
    top: int = Field(ge=1, le=200)
    measure: Literal["count", "per_10k"]  # per_10k: 万人发案率; no population → falls back to count
    cards: bool
    basis: str = Field(min_length=1)
    display_basis: DisplayBasis


class MemberRanking(Strict):
    """Member units ranked by fraud-involved accounts or phone cards, rolled up the unit tree."""
    id: str = Field(min_length=1, max_length=32)
    label_zh: str = Field(min_length=1)
    unit_kind: Literal["bank", "bank_branch", "bank_outlet", "carrier", "carrier_outlet"]
    source: Literal["fraud_accounts", "fraud_cards"]
    top: int = Field(ge=1, le=200)
    cards: bool
    basis: str = Field(min_length=1)
    display_basis: DisplayBasis


class CardRules(Strict):
    window_months: int = Field(ge=1, le=60)
    yellow_at: int = Field(ge=1)
    red_at: int = Field(ge=1)
    list_on_red: bool
    basis: str = Field(min_length=1)
    display_basis: DisplayBasis

    @model_validator(mode="after")
    def _yellow_before_red(self):
        if self.red_at <= self.yellow_at:
            raise ValueError(f"red_at ({self.red_at}) must be greater than yellow_at ({self.yellow_at})")
        if self.red_at > self.window_months:
            raise ValueError(f"red_at ({self.red_at}) can never be reached within window_months ({self.window_months})")
        return self


class ListingRules(Strict):
    order_kind: str = Field(min_length=1)
    delist_after_clean_months: int = Field(ge=1, le=60)
    basis: str = Field(min_length=1)
    display_basis: DisplayBasis


class CirculationPolicy(Strict):
    """通报: the monthly ranking, the cards and listing for rectification (挂牌整治)."""
    version_note: str
    basis: str = Field(min_length=1)
    display_basis: DisplayBasis
    cron: str
    timezone: Literal["Asia/Shanghai"]
    areas: list[AreaRanking] = Field(min_length=1)
    member_units: list[MemberRanking] = Field(default_factory=list)
    tie_break: list[Literal["amount_desc", "code_asc"]] = Field(min_length=1)
    tie_break_basis: str = Field(min_length=1)
    tie_break_display_basis: DisplayBasis
    cards: CardRules
    listing: ListingRules

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        from datetime import datetime

        from cronsim import CronSim, CronSimError

        try:
            CronSim(value, datetime(2026, 1, 1))
        except CronSimError as exc:
            raise ValueError(f"not a cron expression like \"0 8 1 * *\": {exc}") from None
        return value

    @field_validator("tie_break")
    @classmethod
    def _tie_break_ends_unique(cls, order: list[str]) -> list[str]:
        if len(set(order)) != len(order):
            raise ValueError("tie_break names a rule twice")
        if order[-1] != "code_asc":
            raise ValueError("tie_break must end with code_asc, so that every tie is decided")
        return order

    @model_validator(mode="after")
    def _ids_unique(self):
        ids = [r.id for r in self.areas] + [r.id for r in self.member_units]
        if len(set(ids)) != len(ids):
            raise ValueError("two rankings share an id")
        return self


CaseStage = Literal["research", "handover", "handling", "supervision"]


class CloseRules(Strict):
    id: str = Field(min_length=1)
    from_stages: list[CaseStage] = Field(min_length=1)
    open_orders_block: bool
    awaiting_leader_blocks: bool
    unsolved_reason_min_chars: int = Field(ge=1, le=500)
    basis: str = Field(min_length=1)
    display_basis: DisplayBasis

    @field_validator("from_stages")
    @classmethod
    def _no_repeats(cls, stages: list[str]) -> list[str]:
        if len(set(stages)) != len(stages):
            raise ValueError("from_stages names a stage twice")
        return stages


class ReopenRules(Strict):
    id: str = Field(min_length=1)
    reason_min_chars: int = Field(ge=1, le=500)
    basis: str = Field(min_length=1)
    display_basis: DisplayBasis


class CasesPolicy(Strict):
    """结案 and 重新启动: which stages may close, what blocks closing, what must be stated."""
    version_note: str
    close: CloseRules
    reopen: ReopenRules


# One file per concern: file stem -> schema (processes: see `schema_of`).
POLICY_FILES: dict[str, type[Strict]] = {
    "escalation": EscalationPolicy,
    "intake": IntakePolicy,
    "documents": DocumentsPolicy,
    "orders": OrdersPolicy,
    "calendar": CalendarPolicy,
    "processes": ProcessesPolicy,
    "circulation": CirculationPolicy,
    "cases": CasesPolicy,
}


def schema_of(stem: str) -> type[Strict]:
    """The schema a policy file is validated with: processes.yaml's follows the registered kinds."""
    return processes_schema() if stem == "processes" else POLICY_FILES[stem]
