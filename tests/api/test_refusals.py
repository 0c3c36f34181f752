"""Refused attempts are in the audit trail — who tried what on which object, and why — while the
caller sees exactly what it saw before (a 404 stays a 404), and the object's own history and state
are untouched."""
import json

from sqlmodel import select

from domain.audit import service as audit
from domain.audit.models import AuditEvent
from tests.conftest import auth, case_body, unit_id


def refusals(session, entity: str) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == f"{entity}.refused")
                             .order_by(AuditEvent.seq)).all())


def issue(client, engine, code: str = "bank.icbc.jz") -> dict:
    response = client.post("/api/v1/orders", headers=auth("office"), json={
        "kind": "supervision", "addressee_unit_id": unit_id(engine, code), "title": "核查涉案账户开户资料"})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_refused_acknowledgement_appears_in_the_audit_trail(client, engine, session):
    order = issue(client, engine)
    response = client.post(f"/api/v1/orders/{order['id']}/acknowledge", headers=auth("liaison_ccb"))
    assert response.status_code == 404 and response.json()["detail"][0]["type"] == "order_not_found"
    [entry] = refusals(session, "order")
    assert (entry.actor, entry.entity_type, entry.entity_id) == ("liaison_ccb", "order", order["id"])
    assert json.loads(entry.after) == {"action": "acknowledge", "reason": "order_not_found", "state": "issued"}
    assert client.get(f"/api/v1/orders/{order['id']}", headers=auth("office")).json()["status"] == "issued"
    assert [e.action for e in audit.history(session=session, entity_type="order", entity_id=order["id"])] == [
        "order.issued"]
    assert audit.verify(session=session).ok


def test_a_wrong_role_and_a_wrong_state_are_recorded_with_their_reason(client, engine, session):
    order = issue(client, engine)
    assert client.post(f"/api/v1/orders/{order['id']}/acknowledge", headers=auth("chief")).status_code == 403
    assert client.post(f"/api/v1/orders/{order['id']}/acknowledge", headers=auth("liaison_icbc")).status_code == 200
    again = client.post(f"/api/v1/orders/{order['id']}/acknowledge", headers=auth("liaison_icbc"))
    assert again.status_code == 409 and again.json()["detail"][0]["type"] == "bad_transition"
    assert [(e.actor, json.loads(e.after)["reason"]) for e in refusals(session, "order")] == [
        ("chief", "role_forbidden"), ("liaison_icbc", "bad_transition")]


def test_a_leader_deciding_another_leaders_approval_is_refused_and_recorded(client, session):
    created = client.post("/api/v1/cases", headers=auth("office"), json=case_body(number="R-1", amount="280000")).json()
    approval_id = created["approval"]["id"]
    response = client.post(f"/api/v1/approvals/{approval_id}/decision", headers=auth("chief"),
                           json={"decision": "approve"})
    assert response.status_code == 403 and response.json()["detail"][0]["type"] == "not_your_approval"
    [entry] = refusals(session, "approval")
    assert (entry.actor, entry.entity_id, json.loads(entry.after)["reason"]) == ("chief", approval_id,
                                                                                "not_your_approval")
    assert client.get(f"/api/v1/cases/{created['id']}/approvals",
                      headers=auth("office")).json()[0]["status"] == "pending"


def test_a_revoked_document_revoked_again_is_refused_and_recorded(client, session):
    doc = client.post("/api/v1/documents", headers=auth("office"), json={
        "kind": "supervision_order", "addressee": "中国工商银行荆州分行", "title": "关于核查的督办通知",
        "paragraphs": ["请按时反馈。"]}).json()
    url = f"/api/v1/documents/{doc['id']}/revoke"
    assert client.post(url, headers=auth("office"), json={"reason": "主送机关有误"}).status_code == 200
    assert client.post(url, headers=auth("liaison_icbc"), json={"reason": "试试"}).status_code == 403
    again = client.post(url, headers=auth("office"), json={"reason": "再次"})
    assert again.status_code == 409 and again.json()["detail"][0]["type"] == "document_transition_forbidden"
    assert [(e.actor, json.loads(e.after)["reason"]) for e in refusals(session, "document")] == [
        ("liaison_icbc", "documents_forbidden"), ("office", "document_transition_forbidden")]
    assert audit.verify(session=session).ok
