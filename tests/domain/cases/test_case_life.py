"""A case's whole life, 研→交→办→督→结, through the public API: handed over by its first order,
taken by its leader, closed by the office (solved or not, under the policy's criteria), reopened;
a returned escalation corrected and resubmitted. What a user sees, and what the trail keeps."""
from sqlmodel import Session, select

from domain.audit import service as audit
from domain.audit.models import AuditEvent
from domain.escalation import service as escalation
from tests.conftest import auth, case_body, unit_id

OFFICE = auth("office")


def register(client, number: str, amount: str) -> dict:
    response = client.post("/api/v1/cases", headers=OFFICE, json=case_body(number=number, amount=amount))
    assert response.status_code == 201, response.text
    return response.json()


def issue_order(client, engine, case_id: int) -> dict:
    response = client.post("/api/v1/orders", headers=OFFICE, json={
        "kind": "supervision", "addressee_unit_id": unit_id(engine, "bank.icbc.jz"), "title": "核查开户资料",
        "case_id": case_id})
    assert response.status_code == 201, response.text
    return response.json()


def follow_up(engine, approval_id: int) -> str | None:
    """What the escalation flow does after a decision (the flow itself is tested with Prefect)."""
    with Session(engine) as s:
        done = escalation.apply_decision(session=s, approval_id=approval_id)
        s.commit()
    return done


def decide(client, engine, approval_id: int, leader: str, decision: str, comment: str | None = None) -> None:
    response = client.post(f"/api/v1/approvals/{approval_id}/decision", headers=auth(leader),
                           json={"decision": decision, "comment": comment})
    assert response.status_code == 200, response.text
    follow_up(engine, approval_id)


def case_of(client, case_id: int) -> dict:
    return client.get(f"/api/v1/cases/{case_id}", headers=OFFICE).json()


def events(client, case_id: int) -> list[str]:
    return [e["action"] for e in client.get(f"/api/v1/cases/{case_id}/events", headers=OFFICE).json()]


def close(client, case_id: int, **body):
    return client.post(f"/api/v1/cases/{case_id}/close", headers=OFFICE, json=body)


def test_a_leaders_return_never_moves_a_handed_over_case_back_to_研(client, engine):
    case = register(client, "L-RET-1", "280000")
    issue_order(client, engine, case["id"])
    assert case_of(client, case["id"])["stage"] == "handover"
    decide(client, engine, case["approval"]["id"], "cid_head", "return", "金额有误，请核实")
    after = case_of(client, case["id"])
    assert after["stage"] == "handover"  # 交 stays 交
    assert after["escalation_state"] == "returned" and after["return_comment"] == "金额有误，请核实"
    assert "case.returned" in events(client, case["id"])


def test_a_leader_taking_a_handed_over_case_moves_it_to_办_and_a_chief_case_on_to_督(client, engine):
    case = register(client, "L-TAKE-1", "280000")
    issue_order(client, engine, case["id"])
    decide(client, engine, case["approval"]["id"], "cid_head", "approve")
    taken = case_of(client, case["id"])
    assert taken["stage"] == "handling" and taken["escalation_state"] == "taken" and taken["leader_id"]
    big = register(client, "L-TAKE-2", "2750000")
    decide(client, engine, big["approval"]["id"], "chief", "approve")
    assert case_of(client, big["id"])["stage"] == "supervision"
    assert events(client, big["id"]).count("case.taken") == 1


def test_the_office_closes_a_solved_case_and_it_reads_结(client, engine, session):
    case = register(client, "L-CLOSE-1", "30000")  # below every tier: no leader
    order = issue_order(client, engine, case["id"])
    blocked = close(client, case["id"], outcome="solved", solved_at="2026-06-20T10:00:00+08:00")
    assert blocked.status_code == 409 and blocked.json()["detail"][0]["type"] == "open_orders"
    assert client.post(f"/api/v1/orders/{order['id']}/cancel", headers=OFFICE,
                       json={"reason": "已由派出所处置"}).status_code == 200
    closed = close(client, case["id"], outcome="solved", solved_at="2026-06-20T10:00:00+08:00",
                   suspects_caught=2, recovered_cny="1万")
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert body["stage"] == "closed" and body["close_outcome"] == "solved"
    assert body["suspects_caught"] == 2 and body["recovered_cny"] == "10000.00" and body["solved_at"]
    assert "case.closed" in events(client, case["id"])
    refused = session.exec(select(AuditEvent).where(AuditEvent.action == "case.refused")).all()
    assert [(e.actor, e.entity_id) for e in refused] == [("office", case["id"])]  # the blocked attempt
    assert audit.verify(session=session).ok


def test_closing_unsolved_needs_a_reason_and_every_error_comes_at_once(client, engine):
    case = register(client, "L-CLOSE-2", "30000")
    issue_order(client, engine, case["id"])
    order_id = client.get(f"/api/v1/orders?case_id={case['id']}", headers=OFFICE).json()["items"][0]["id"]
    client.post(f"/api/v1/orders/{order_id}/cancel", headers=OFFICE, json={"reason": "重复下发"})
    unsolved = close(client, case["id"], outcome="unsolved", reason=" ")
    assert unsolved.status_code == 422 and unsolved.json()["detail"][0]["loc"][-1] == "reason"
    solved = close(client, case["id"], outcome="solved", suspects_caught=-1, recovered_cny="一百万")
    assert solved.status_code == 422
    assert {d["loc"][-1] for d in solved.json()["detail"]} == {"suspects_caught", "recovered_cny", "solved_at"}
    assert case_of(client, case["id"])["stage"] == "handover"
    done = close(client, case["id"], outcome="unsolved", reason="受害人撤回报案，经核查不构成诈骗")
    assert done.status_code == 200 and done.json()["close_outcome"] == "unsolved"


def test_a_case_waiting_for_its_leader_or_still_in_研_is_not_closed(client, engine):
    awaiting = register(client, "L-CLOSE-3", "280000")
    issue_order(client, engine, awaiting["id"])
    response = close(client, awaiting["id"], outcome="unsolved", reason="测试原因说明")
    assert response.status_code == 409 and response.json()["detail"][0]["type"] == "awaiting_leader"
    research = register(client, "L-CLOSE-4", "30000")
    response = close(client, research["id"], outcome="unsolved", reason="测试原因说明")
    assert response.status_code == 409 and response.json()["detail"][0]["type"] == "close_stage_not_allowed"
    assert client.post(f"/api/v1/cases/{research['id']}/close", headers=auth("liaison_icbc"),
                       json={"outcome": "unsolved", "reason": "测试原因说明"}).status_code == 403


def test_a_closed_case_is_reopened_with_a_reason_and_handled_again(client, engine):
    case = register(client, "L-REOPEN-1", "30000")
    order = issue_order(client, engine, case["id"])
    client.post(f"/api/v1/orders/{order['id']}/cancel", headers=OFFICE, json={"reason": "撤销"})
    assert close(client, case["id"], outcome="unsolved", reason="暂无线索可查").status_code == 200
    url = f"/api/v1/cases/{case['id']}/reopen"
    assert client.post(url, headers=OFFICE, json={"reason": ""}).status_code == 422
    reopened = client.post(url, headers=OFFICE, json={"reason": "发现新的资金流向线索"})
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["stage"] == "handling" and reopened.json()["close_outcome"] is None
    assert client.post(url, headers=OFFICE, json={"reason": "发现新的资金流向线索"}).status_code == 409
    assert events(client, case["id"])[-2:] == ["case.closed", "case.reopened"]


def test_a_returned_escalation_is_resubmitted_and_the_returned_one_stays_in_the_history(client, engine):
    case = register(client, "L-RESUB-1", "280000")  # 28万: the CID head's tier
    url = f"/api/v1/cases/{case['id']}/resubmit"
    assert client.post(url, headers=OFFICE, json={}).status_code == 409  # awaiting: nothing to resubmit
    decide(client, engine, case["approval"]["id"], "cid_head", "return", "金额应为52万，请更正后重新呈报")
    assert client.post(url, headers=auth("liaison_icbc"), json={}).status_code == 403
    assert client.post(url, headers=OFFICE, json={"amount_cny": "abc"}).status_code == 422
    resubmitted = client.post(url, headers=OFFICE, json={"amount_cny": "52万"})
    assert resubmitted.status_code == 201, resubmitted.text
    assert resubmitted.json()["leader_tier"] == "deputy" and resubmitted.json()["status"] == "pending"
    after = case_of(client, case["id"])
    assert after["escalation_state"] == "awaiting" and after["amount_cny"] == "520000.00"
    assert after["return_comment"] is None
    approvals = client.get(f"/api/v1/cases/{case['id']}/approvals", headers=OFFICE).json()
    assert [(a["leader_tier"], a["status"]) for a in approvals] == [("cid_head", "returned"), ("deputy", "pending")]
    assert approvals[0]["comment"] == "金额应为52万，请更正后重新呈报"
    assert ["case.returned", "case.resubmitted"] == [e for e in events(client, case["id"])
                                                     if e in ("case.returned", "case.resubmitted")]
    decide(client, engine, resubmitted.json()["id"], "deputy", "approve")
    assert case_of(client, case["id"])["escalation_state"] == "taken"
