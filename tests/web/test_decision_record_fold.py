"""Why a case went to its leader reads as a sentence for everyone who may see the case; the rule
id and the policy version behind it sit in a fold (决策记录): open for the auditor, closed for the
office, absent for the leader."""
import re

from tests.conftest import auth, case_body
from tests.web_helpers import signed_in

SENTENCE = "涉案金额28.00万元，在20万元（含）至50万元（不含）之间，由刑侦支队长包案"


def folds(html: str) -> list[str]:
    return re.findall(r"<details class=\"record\" data-record( open)?>(.*?)</details>", html, re.S)


def test_the_auditor_sees_the_record_open_the_office_closed_the_leader_not_at_all(client, engine):
    case = client.post("/api/v1/cases", headers=auth("office"), json=case_body(number="FOLD-1")).json()
    pages = {role: signed_in(engine, role).get(f"/cases/{case['id']}").text for role in ("auditor", "office", "cid_head")}
    for role, html in pages.items():
        assert SENTENCE in html and "依据：</span>荆州市公安局提级侦办、领导包案、挂牌督办机制" in html, role
        outside = re.sub(r"<details class=\"record\".*?</details>", "", html, flags=re.S)
        assert "jingzhou.cid_head" not in outside and "seed" not in html, role
    auditor, office = folds(pages["auditor"]), folds(pages["office"])
    assert auditor and all(opened == " open" for opened, _ in auditor)
    assert office and all(opened == "" for opened, _ in office)
    assert any("jingzhou.cid_head" in body and case["tier_policy_version"] in body for _, body in auditor)
    assert not folds(pages["cid_head"]) and "jingzhou.cid_head" not in pages["cid_head"]


def test_english_readers_get_the_sentence_in_english(client, engine):
    case = client.post("/api/v1/cases", headers=auth("office"), json=case_body(number="FOLD-2")).json()
    office = signed_in(engine, "office")
    office.cookies.set("lianban_lang", "en")
    html = office.get(f"/cases/{case['id']}").text
    assert ("Amount CNY 280,000.00, from CNY 200,000.00 (inclusive) to CNY 500,000.00 (exclusive): "
            "taken by the CID detachment head") in html
