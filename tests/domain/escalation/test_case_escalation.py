"""Registering cases through the API: the tier the policy picks, the approval in the leader's
queue, one decision only, and bad input refused with nothing written."""
from decimal import Decimal

import pytest
from sqlmodel import func, select

from domain.audit.models import AuditEvent
from domain.cases.models import Case
from domain.escalation.models import Approval
from tests.conftest import auth, case_body


def register(client, **kwargs):
    return client.post("/api/v1/cases", json=case_body(**kwargs), headers=auth("office"))


def queue(client, leader):
    response = client.get("/api/v1/approvals", headers=auth(leader))
    assert response.status_code == 200
    return response.json()


def test_case_of_28_wan_goes_to_cid_head(client):
    response = register(client, number="JZ-28", amount="280000.00")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["tier_rule_id"] == "jingzhou.cid_head"
    assert body["approval"]["leader_tier"] == "cid_head"
    assert body["tier_basis"].startswith("涉案金额28.00万元，在20万元（含）至50万元（不含）之间，由刑侦支队长包案")
    assert len(body["tier_policy_version"]) == 64
    assert [a["case_number"] for a in queue(client, "cid_head")] == ["JZ-28"]
    assert queue(client, "deputy") == [] and queue(client, "chief") == []


def test_case_of_275_wan_goes_to_bureau_chief(client):
    body = register(client, number="JZ-275", amount="2750000").json()
    assert body["approval"]["leader_tier"] == "chief"
    assert body["amount_display"] == "275.00万元"
    assert [a["case_number"] for a in queue(client, "chief")] == ["JZ-275"]


def test_case_of_60_wan_goes_to_deputy_chief(client):
    body = register(client, number="JZ-60", amount="60万").json()
    assert body["amount_cny"] == "600000.00"
    assert body["approval"]["leader_tier"] == "deputy"


@pytest.mark.parametrize("amount, tier", [
    ("1000000.00", "chief"), ("999999.99", "deputy"),       # 100万 belongs to the chief (min inclusive)
    ("500000.00", "deputy"), ("499999.99", "cid_head"),     # 50万 belongs to the deputy
    ("200000.00", "cid_head"), ("199999.99", None),          # 20万 belongs to the CID head
])
def test_boundaries_fall_where_the_policy_file_says(client, amount, tier):
    body = register(client, number=f"B-{amount}", amount=amount).json()
    assert (body["approval"] or {}).get("leader_tier") == tier


def test_case_of_19_99_wan_is_not_escalated(client, session):
    body = register(client, number="JZ-1999", amount="199999.99").json()
    assert body["approval"] is None and body["escalation_state"] == "none"
    assert session.exec(select(func.count()).select_from(Approval)).one() == 0


def test_victim_is_masked_in_lists(client):
    register(client, number="JZ-M", amount="300000")
    item = client.get("/api/v1/cases", headers=auth("office")).json()["items"][0]
    assert item["victim_name"] == "张**" and item["victim_phone"] == "138****1234"


@pytest.mark.parametrize("field, value, code", [
    ("amount_cny", "-5000", "amount_not_positive"),
    ("amount_cny", "0", "amount_not_positive"),
    ("amount_cny", "abc", "amount_not_numeric"),
    ("amount_cny", "1e400", "amount_not_numeric"),
    ("amount_cny", "99999999999999", "amount_absurd"),
    ("amount_cny", "100.001", "amount_too_precise"),
    ("area", "atlantis", "unknown_area"),
    ("area", "bank.icbc", "unknown_area"),      # a bank is not an area
    ("case_number", "   ", "bad_case_number"),
])
def test_bad_input_is_refused_with_the_field_and_changes_nothing(client, session, field, value, code):
    body = case_body(number="BAD-1")
    body[field] = value
    response = client.post("/api/v1/cases", json=body, headers=auth("office"))
    assert response.status_code == 422, response.text
    detail = response.json()["detail"][0]
    assert detail["type"] == code and detail["loc"][-1] in (field, "case_number")
    assert detail["msg"]  # a sentence in Chinese by default
    assert session.exec(select(func.count()).select_from(Case)).one() == 0
    assert session.exec(select(func.count()).select_from(AuditEvent)).one() == 0


def test_english_errors_on_request(client):
    body = case_body(amount="abc")
    response = client.post("/api/v1/cases", json=body, headers={**auth("office"), "Accept-Language": "en"})
    assert "not a number" in response.json()["detail"][0]["msg"]


def test_duplicate_case_number_is_refused(client, session):
    assert register(client, number="DUP-1").status_code == 201
    events = session.exec(select(func.count()).select_from(AuditEvent)).one()
    response = register(client, number="DUP-1", amount="900000")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "case_number"]
    assert session.exec(select(func.count()).select_from(Case)).one() == 1
    assert session.exec(select(func.count()).select_from(Approval)).one() == 1
    assert session.exec(select(func.count()).select_from(AuditEvent)).one() == events


def test_missing_field_is_a_422_naming_it(client):
    body = case_body()
    del body["victim_name"]
    response = client.post("/api/v1/cases", json=body, headers=auth("office"))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "victim_name"


def test_only_the_office_registers_and_anonymous_is_refused(client):
    assert client.post("/api/v1/cases", json=case_body(), headers=auth("liaison_icbc")).status_code == 403
    assert client.post("/api/v1/cases", json=case_body()).status_code == 401
    assert client.post("/api/v1/cases", json=case_body(), headers={"Authorization": "Bearer nope"}).status_code == 401


def test_approve_once_then_a_second_decision_is_refused(client, session):
    approval_id = register(client, number="D-1", amount="2750000").json()["approval"]["id"]
    first = client.post(f"/api/v1/approvals/{approval_id}/decision", json={"decision": "approve"}, headers=auth("chief"))
    assert first.status_code == 200 and first.json()["status"] == "approved"
    second = client.post(f"/api/v1/approvals/{approval_id}/decision", json={"decision": "return", "comment": "再议"},
                         headers=auth("chief"))
    assert second.status_code == 409
    decided = session.exec(select(AuditEvent).where(AuditEvent.action.in_(["approval.approved", "approval.returned"]))).all()
    assert len(decided) == 1


def test_a_leader_of_another_tier_cannot_decide(client):
    approval_id = register(client, number="D-2", amount="280000").json()["approval"]["id"]
    for other in ("deputy", "chief"):
        response = client.post(f"/api/v1/approvals/{approval_id}/decision", json={"decision": "approve"},
                               headers=auth(other))
        assert response.status_code == 403
    assert client.post(f"/api/v1/approvals/{approval_id}/decision", json={"decision": "approve"},
                       headers=auth("office")).status_code == 403
    assert queue(client, "cid_head")[0]["status"] == "pending"


def test_returning_needs_a_comment(client):
    approval_id = register(client, number="D-3", amount="600000").json()["approval"]["id"]
    response = client.post(f"/api/v1/approvals/{approval_id}/decision", json={"decision": "return"},
                           headers=auth("deputy"))
    assert response.status_code == 422 and response.json()["detail"][0]["loc"][-1] == "comment"


def test_a_leader_sees_only_cases_that_reached_them(client):
    mine = register(client, number="V-1", amount="280000").json()["id"]
    other = register(client, number="V-2", amount="2750000").json()["id"]
    assert client.get(f"/api/v1/cases/{mine}", headers=auth("cid_head")).status_code == 200
    assert client.get(f"/api/v1/cases/{other}", headers=auth("cid_head")).status_code == 404
    listed = client.get("/api/v1/cases", headers=auth("cid_head")).json()
    assert [c["case_number"] for c in listed["items"]] == ["V-1"] and listed["total"] == 1
    assert client.get("/api/v1/cases", headers=auth("liaison_icbc")).status_code == 403


def test_amount_is_stored_exactly_in_fen(client, session):
    register(client, number="F-1", amount="123456.78")
    assert session.exec(select(Case.amount_fen)).one() == 12345678
    assert Decimal(client.get("/api/v1/cases", headers=auth("office")).json()["items"][0]["amount_cny"]) == Decimal("123456.78")
