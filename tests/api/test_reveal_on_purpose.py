"""The office sees a victim's masked phone — or the ID number or phone an order keeps masked — in
full, on purpose: one call with a reason. Each viewing is in the audit trail with who, what and
why, never with the value; no one else may ask."""
from sqlmodel import select

from domain.audit.models import AuditEvent
from tests.conftest import auth, case_body

OFFICE = auth("office")
PHONE = "13912345678"


def registered(client) -> int:
    response = client.post("/api/v1/cases", headers=OFFICE, json=case_body(number="RV-1", victim_phone=PHONE))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_the_office_sees_the_victims_phone_with_a_reason_and_the_trail_keeps_the_reason_only(client, session):
    case_id = registered(client)
    assert PHONE not in client.get(f"/api/v1/cases/{case_id}", headers=OFFICE).text  # masked as ever
    shown = client.post(f"/api/v1/cases/{case_id}/reveal", headers=OFFICE, json={"reason": "电话联系受害人核实案情"})
    assert shown.status_code == 200 and shown.json() == {"field": "victim_phone", "label_zh": "受害人电话",
                                                         "label_en": "victim's phone", "value": PHONE}
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "case.identity_revealed")).one()
    assert (event.actor, event.entity_id) == ("office", case_id)
    assert "电话联系受害人核实案情" in event.after and PHONE not in event.after
    assert not session.exec(select(AuditEvent).where(AuditEvent.after.contains(PHONE))).all()


def test_a_reveal_without_a_reason_is_refused_beside_the_reason(client, session):
    case_id = registered(client)
    for body in ({}, {"reason": ""}, {"reason": " "}):
        refused = client.post(f"/api/v1/cases/{case_id}/reveal", headers=OFFICE, json=body)
        assert refused.status_code == 422 and PHONE not in refused.text
    assert not session.exec(select(AuditEvent).where(AuditEvent.action == "case.identity_revealed")).all()


def test_leaders_liaisons_and_the_auditor_may_not_reveal_a_victims_phone(client, session):
    case_id = registered(client)
    for user in ("cid_head", "liaison_icbc", "auditor"):
        refused = client.post(f"/api/v1/cases/{case_id}/reveal", headers=auth(user), json={"reason": "想看看"})
        assert refused.status_code in (403, 404) and PHONE not in refused.text, user
    assert not session.exec(select(AuditEvent).where(AuditEvent.action == "case.identity_revealed")).all()


def test_the_office_sees_a_dissuasion_orders_phone_with_a_reason(client, session):
    from flows.processes import advance_due_processes

    started = client.post("/api/v1/processes/dissuasion", headers=OFFICE, json={
        "area": "jiangling.haoxue", "risk_level": "low", "victim_name": "王五", "victim_phone": "13900002222"})
    assert started.status_code == 201, started.text
    advance_due_processes(via_prefect=False)
    order = client.get(f"/api/v1/processes/{started.json()['id']}", headers=OFFICE).json()["orders"][0]
    no_reason = client.post(f"/api/v1/orders/{order['id']}/reveal", headers=OFFICE)
    assert no_reason.status_code == 422 and "事由" in no_reason.text
    shown = client.post(f"/api/v1/orders/{order['id']}/reveal", headers=OFFICE, json={"reason": "回访劝阻对象"})
    assert shown.status_code == 200 and shown.json()["value"] == "13900002222"
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "order.identity_revealed")).one()
    assert event.actor == "office" and "回访劝阻对象" in event.after and "13900002222" not in event.after
