"""The auditor's trail picks entries by who, what, unit, case and days: a case's entries include
its approvals and orders; a unit's include its people's acts and the orders addressed to it;
"refused" picks every refused attempt, whatever it was about."""
from datetime import date

import pytest
from sqlmodel import Session, select

from domain.audit import trail
from domain.errors import DomainError, InvalidFields
from domain.users.models import User
from tests.conftest import auth, case_body, unit_id


def world(client, engine):
    first = client.post("/api/v1/cases", headers=auth("office"), json=case_body(number="AT-1")).json()
    client.post("/api/v1/cases", headers=auth("office"), json=case_body(number="AT-2", amount="30000"))
    order = client.post("/api/v1/orders", headers=auth("office"), json={
        "kind": "supervision", "addressee_unit_id": unit_id(engine, "bank.icbc.jz"), "title": "核查开户资料",
        "case_id": first["id"]}).json()
    client.post(f"/api/v1/orders/{order['id']}/acknowledge", headers=auth("liaison_icbc"))
    refused = client.post(f"/api/v1/orders/{order['id']}/accept", headers=auth("office"), json={})
    assert refused.status_code == 409  # not reported yet: refused, and audited
    return first, order


def picked(engine, **typed) -> list[str]:
    with Session(engine) as s:
        auditor = s.exec(select(User).where(User.username == "auditor")).one()
        rows, total = trail.search(session=s, actor=auditor, chosen=trail.parse_filter(session=s, **typed), limit=500)
        assert total == len(rows)
        return [f"{e.actor} {e.action}" for e in rows]


def test_filters_pick_by_case_unit_actor_action_and_days(client, engine, clock):
    world(client, engine)
    everything = picked(engine)
    assert "office case.registered" in everything and "office order.refused" in everything
    case_entries = picked(engine, case_number="AT-1")  # newest first: its approval, stage and order too
    assert case_entries == ["office order.refused", "liaison_icbc order.acknowledged", "office case.stage_changed",
                            "office order.issued", "office approval.requested", "office case.registered"]
    assert picked(engine, case_number="AT-2") == ["office case.registered"]
    assert picked(engine, action="refused") == ["office order.refused"]
    assert set(picked(engine, actor="liaison_icbc")) == {"liaison_icbc order.acknowledged"}
    bank = picked(engine, unit="bank.icbc.jz")
    assert "liaison_icbc order.acknowledged" in bank and "office order.issued" in bank
    assert "office case.registered" not in bank
    assert picked(engine, start="2026年12月9日", end="2026-12-09") == everything  # the clock's day
    assert picked(engine, start="2026-12-10") == []


def test_a_bad_filter_names_every_field_at_fault(engine, city):
    with Session(engine) as s:
        with pytest.raises(InvalidFields) as raised:
            trail.parse_filter(session=s, start="2026-13-01", end="昨天", unit="no.such.unit", case_number="NOPE")
        assert {e.field for e in raised.value.errors} == {"start", "end", "unit", "case_number"}
        with pytest.raises(DomainError) as backwards:
            trail.parse_filter(session=s, start="2026-12-09", end="2026-12-01")
        assert backwards.value.field == "end"
        assert trail.parse_filter(session=s, start="2026/12/1").start == date(2026, 12, 1)


def test_only_the_auditor_and_the_admin_read_the_trail(engine, city):
    with Session(engine) as s:
        for username in ("office", "cid_head", "liaison_icbc"):
            user = s.exec(select(User).where(User.username == username)).one()
            with pytest.raises(DomainError) as refused:
                trail.search(session=s, actor=user, chosen=trail.TrailFilter())
            assert refused.value.status == 403
