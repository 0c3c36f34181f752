"""The shape of every policy file. Unknown keys, gapped or overlapping tiers and bad amounts
are refused; `loader` turns the error into the file's line and the reason."""
import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

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
    return timedelta(seconds=seconds)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tier(Strict):
    id: str = Field(min_length=1)
    leader_tier: LeaderTier
    min_cny: CNY
    below_cny: CNY | None
    supervise: bool
    basis: str = Field(min_length=1)

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


# One file per concern: file stem -> schema.
POLICY_FILES: dict[str, type[Strict]] = {
    "escalation": EscalationPolicy,
    "intake": IntakePolicy,
}
