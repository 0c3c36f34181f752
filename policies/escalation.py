"""Pure evaluation of the escalation policy: which leader tier an amount goes to, who is next, and
why, in the words of the people who read it."""
from dataclasses import dataclass
from decimal import Decimal

from policies.schema import EscalationPolicy, Tier

LEADER_ZH = {"cid_head": "刑侦支队长", "deputy": "分管局长", "chief": "局长"}
LEADER_EN = {"cid_head": "the CID detachment head", "deputy": "the deputy chief in charge", "chief": "the bureau chief"}
_WAN = Decimal(10000)


def wan_zh(amount: Decimal, places: bool = False) -> str:
    """280000 → 28.00万元 (an amount), 200000 → 20万元 (a bound, as the office writes it)."""
    wan = amount / _WAN
    if places or wan != wan.to_integral_value():
        return f"{wan.quantize(Decimal('0.01')):,}万元"
    return f"{int(wan):,}万元"


def cny_en(amount: Decimal) -> str:
    return f"CNY {amount.quantize(Decimal('0.01')):,}"


def _holds(tier: Tier, amount: Decimal | None) -> bool:
    return amount is not None and amount >= tier.min_cny and (tier.below_cny is None or amount < tier.below_cny)


def tier_sentence_zh(tier: Tier, amount: Decimal | None) -> str:
    """涉案金额28.00万元，在20万元（含）至50万元（不含）之间，由刑侦支队长包案. Without the amount (or
    an amount since corrected out of the band): 涉案金额在…之间的，由…包案."""
    band = (f"在{wan_zh(tier.min_cny)}（含）以上" if tier.below_cny is None
            else f"在{wan_zh(tier.min_cny)}（含）至{wan_zh(tier.below_cny)}（不含）之间")
    if not _holds(tier, amount):
        return f"涉案金额{band}的，由{LEADER_ZH[tier.leader_tier]}包案"
    return f"涉案金额{wan_zh(amount, places=True)}，{band}，由{LEADER_ZH[tier.leader_tier]}包案"


def tier_sentence_en(tier: Tier, amount: Decimal | None) -> str:
    band = (f"{cny_en(tier.min_cny)} or more" if tier.below_cny is None
            else f"from {cny_en(tier.min_cny)} (inclusive) to {cny_en(tier.below_cny)} (exclusive)")
    if not _holds(tier, amount):
        return f"Amounts {band} are taken by {LEADER_EN[tier.leader_tier]}"
    return f"Amount {cny_en(amount)}, {band}: taken by {LEADER_EN[tier.leader_tier]}"


def below_tiers_zh(policy: EscalationPolicy, amount: Decimal) -> str:
    lowest = min(t.min_cny for t in policy.tiers)
    return f"涉案金额{wan_zh(amount, places=True)}，低于{wan_zh(lowest)}，无需领导包案"


def below_tiers_en(policy: EscalationPolicy, amount: Decimal) -> str:
    lowest = min(t.min_cny for t in policy.tiers)
    return f"Amount {cny_en(amount)}, below {cny_en(lowest)}: no leader takes it"


def moved_up_zh(lower: str, upper: str, policy: EscalationPolicy) -> str:
    hours = int(policy.approval.decide_within.total_seconds() // 3600)
    return f"{LEADER_ZH.get(lower, lower)}未在{hours}小时内审批，依规上报{LEADER_ZH.get(upper, upper)}"


def moved_up_en(lower: str, upper: str, policy: EscalationPolicy) -> str:
    hours = int(policy.approval.decide_within.total_seconds() // 3600)
    return (f"{LEADER_EN.get(lower, lower).capitalize()} did not decide within {hours} hours: "
            f"moved up to {LEADER_EN.get(upper, upper)}")


@dataclass(frozen=True)
class TierDecision:
    tier: Tier
    amount: Decimal

    @property
    def explanation(self) -> str:
        """The decision record kept with the case: the sentence and the rule's basis as people cite it."""
        basis = self.tier.display_basis
        return tier_sentence_zh(self.tier, self.amount) + (f"。依据：{basis}" if basis else "")


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
