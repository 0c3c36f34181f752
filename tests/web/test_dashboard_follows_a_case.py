"""The office dashboard's 研、交、办、督、结 figures follow a case through its whole life: registered
(研), handed over by its first order (交), taken by its leader (办), closed (结), reopened (办)."""
import re

from sqlmodel import Session

from domain.escalation import service as escalation
from tests.conftest import auth, case_body, unit_id
from tests.web_helpers import signed_in

OFFICE = auth("office")


def figures(browser) -> dict[str, int]:
    html = browser.get("/office").text
    return {name: int(n) for name, n in
            re.findall(r'<span class="stage-name">([^<]+)</span>\s*<span class="stage-count">(\d+)</span>', html)}


def test_the_dashboard_counts_follow_a_case_from_research_to_closed_and_back(client, engine, clock):
    office = signed_in(engine, "office")
    assert figures(office) == {"研判": 0, "交办": 0, "办理": 0, "督办": 0, "办结": 0}
    case = client.post("/api/v1/cases", headers=OFFICE, json=case_body(number="DB-1", amount="280000")).json()
    assert figures(office)["研判"] == 1
    order = client.post("/api/v1/orders", headers=OFFICE, json={
        "kind": "supervision", "addressee_unit_id": unit_id(engine, "bank.icbc.jz"), "title": "核查收款账户",
        "case_id": case["id"]}).json()
    assert figures(office) == {"研判": 0, "交办": 1, "办理": 0, "督办": 0, "办结": 0}
    client.post(f"/api/v1/approvals/{case['approval']['id']}/decision", headers=auth("cid_head"),
                json={"decision": "approve"})
    with Session(engine) as s:  # what the escalation flow does after the decision
        escalation.apply_decision(session=s, approval_id=case["approval"]["id"])
        s.commit()
    assert figures(office) == {"研判": 0, "交办": 0, "办理": 1, "督办": 0, "办结": 0}
    client.post(f"/api/v1/orders/{order['id']}/acknowledge", headers=auth("liaison_icbc"))
    client.post(f"/api/v1/orders/{order['id']}/report", headers=auth("liaison_icbc"), json={"text": "已核查"})
    client.post(f"/api/v1/orders/{order['id']}/accept", headers=OFFICE, json={})
    closed = client.post(f"/api/v1/cases/{case['id']}/close", headers=OFFICE,
                         json={"outcome": "unsolved", "reason": "嫌疑人身份暂无法查明"})
    assert closed.status_code == 200, closed.text
    assert figures(office) == {"研判": 0, "交办": 0, "办理": 0, "督办": 0, "办结": 1}
    reopened = client.post(f"/api/v1/cases/{case['id']}/reopen", headers=OFFICE, json={"reason": "发现新的资金流向线索"})
    assert reopened.status_code == 200, reopened.text
    assert figures(office) == {"研判": 0, "交办": 0, "办理": 1, "督办": 0, "办结": 0}
