"""Every rule of the shipped policy says where it comes from twice: `basis` for whoever maintains the
policy (the seeds), `display_basis` as people cite it on pages and in documents — laws by their full
title in 《》 with Chinese article numerals, the city's rules by their name, never a seed."""
import re

from pydantic import BaseModel

from policies.loader import load_policy_dir as load_policy
from tests.conftest import DEFAULT_POLICY


def rules(model: BaseModel, where: str = ""):
    """Every part of the policy that carries a basis, with where it is."""
    if "basis" in type(model).model_fields:
        yield where, model
    for name in type(model).model_fields:
        value = getattr(model, name)
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, item in ((name, value), *((f"{name}[{k}]", v) for k, v in items)):
            if isinstance(item, BaseModel):
                yield from rules(item, f"{where}.{key}")


def test_every_shipped_rule_has_a_display_basis_in_peoples_words():
    policy = load_policy(DEFAULT_POLICY)
    found = [(f"{stem}{where}", rule) for stem in ("escalation", "intake", "documents", "orders", "calendar",
                                                     "processes", "circulation", "cases")
             for where, rule in rules(getattr(policy, stem))]
    assert len(found) > 30
    for where, rule in found:
        shown = rule.display_basis
        assert shown, f"{where}: no display_basis"
        assert "seed" not in shown.lower(), where
        assert not re.search(r"第\d+", shown), f"{where}: articles in Chinese numerals, e.g. 第二十条"
        assert "反电信网络诈骗法" not in shown.replace("《中华人民共和国反电信网络诈骗法》", ""), \
            f"{where}: the law by its full title in 《》"
        assert not re.search(r"[A-Za-z]", shown.replace("GB/T", "")), f"{where}: English in {shown!r}"
    assert policy.circulation.tie_break_display_basis


def test_the_tier_sentence_reads_like_the_office_writes_it():
    from decimal import Decimal

    from policies.escalation import decide_tier

    policy = load_policy(DEFAULT_POLICY).escalation
    assert decide_tier(policy, Decimal("280000")).explanation.startswith(
        "涉案金额28.00万元，在20万元（含）至50万元（不含）之间，由刑侦支队长包案。依据：荆州市公安局")
    assert decide_tier(policy, Decimal("2750000")).explanation.startswith(
        "涉案金额275.00万元，在100万元（含）以上，由局长包案")
    assert decide_tier(policy, Decimal("500000")).explanation.startswith(
        "涉案金额50.00万元，在50万元（含）至100万元（不含）之间，由分管局长包案")
