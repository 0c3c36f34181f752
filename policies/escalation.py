"""Pure evaluation of the escalation policy: which leader tier an amount goes to, and who is next."""
from dataclasses import dataclass
from decimal import Decimal

from policies.schema import EscalationPolicy, Tier


@dataclass(frozen=True)
class TierDecision:
    tier: Tier
    amount: Decimal

    @property
    def explanation(self) -> str:
        upper = f"below {self.tier.below_cny}" if self.tier.below_cny is not None else "no upper bound"
        return (f"{self.amount:.2f} CNY is at least {self.tier.min_cny} ({upper}): "
                f"rule {self.tier.id} sends it to {self.tier.leader_tier}; basis: {self.tier.basis}")


def decide_tier(policy: EscalationPolicy, amount: Decimal) -> TierDecision | None:
    """The tier whose [min_cny, below_cny) holds the amount, or None below every tier."""
    for tier in policy.tiers:
        if amount >= tier.min_cny and (tier.below_cny is None or amount < tier.below_cny):
            return TierDecision(tier=tier, amount=amount)
    return None


def next_leader_tier(policy: EscalationPolicy, leader_tier: str) -> str | None:
    """The tier one step up the escalation chain, or None at the top."""
    chain = policy.approval.escalation_chain
    position = chain.index(leader_tier)
    return chain[position + 1] if position + 1 < len(chain) else None


def tier_rule_for_leader(policy: EscalationPolicy, leader_tier: str) -> Tier | None:
    return next((t for t in policy.tiers if t.leader_tier == leader_tier), None)
