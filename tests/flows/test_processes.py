"""The cross-department processes end to end through the API, advanced by their real Prefect
flows: reverse audit (倒查), stop-payment (止付) and freeze (冻结)."""
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update
from sqlmodel import Session, func, select

from domain.audit import service as audit
from domain.orders.models import Order
from domain.processes.models import Process
from tests.conftest import auth, unit_id
from tests.domain.statistics.test_statistics import figures, this_month

pytestmark = pytest.mark.prefect


@pytest.fixture(autouse=True)
def _prefect(prefect_server):
    return prefect_server


def advance():
    """What the watch does on each pass, through the processes' Prefect flows."""
    from flows.processes import advance_due_processes

    return advance_due_processes()


def orders_of(client, user, process_id):
    return {o["kind"]: o for o in client.get(f"/api/v1/processes/{process_id}", headers=auth(user)).json()["orders"]}


def handle(client, liaison, order_id, text="已办理", amount=None):
    assert client.post(f"/api/v1/orders/{order_id}/acknowledge", headers=auth(liaison)).status_code == 200
    body = {"text": text} | ({"amount_cny": amount} if amount is not None else {})
    response = client.post(f"/api/v1/orders/{order_id}/report", headers=auth(liaison), json=body)
    assert response.status_code == 200, response.text


def accept(client, order_id):
    assert client.post(f"/api/v1/orders/{order_id}/accept", headers=auth("office"), json={}).status_code == 200


def record_accounts(client, engine, count, start=0, opened_on="2026-08-10T10:00:00+08:00"):
    branch = unit_id(engine, "bank.icbc.jz.jiangling")
    last = None
    for n in range(start, start + count):
        last = client.post("/api/v1/fraud-accounts", headers=auth("office"), json={
            "account_number": f"6222020{n:012d}", "opening_unit_id": branch, "opened_on": opened_on,
            "clerk_name": ["柜员甲", "柜员乙"][n % 2]})
        assert last.status_code == 201, last.text
    return last.json()


def test_reverse_audit_starts_at_27_accounts_and_runs_to_the_lifted_suspension(client, engine, session):
    assert record_accounts(client, engine, 26)["reverse_audit"] is None
    started = record_accounts(client, engine, 1, start=26)["reverse_audit"]
    assert started and started["data"]["accounts"] == 27 and started["data"]["clerks"] == ["柜员乙", "柜员甲"]
    # The 28th account in the same quarter starts no second audit.
    assert record_accounts(client, engine, 1, start=27)["reverse_audit"]["id"] == started["id"]
    assert advance() == 1
    measures = orders_of(client, "office", started["id"])
    assert set(measures) == {"card_issuance_suspension", "interview_notice", "circulated_criticism", "rectification_report"}
    city_branch, sub_branch = unit_id(engine, "bank.icbc.jz"), unit_id(engine, "bank.icbc.jz.jiangling")
    assert measures["card_issuance_suspension"]["addressee_unit_id"] == city_branch
    assert measures["rectification_report"]["addressee_unit_id"] == sub_branch
    # Another bank's liaison sees none of it.
    assert client.get(f"/api/v1/processes/{started['id']}", headers=auth("liaison_ccb")).status_code == 404
    # The rectification report is returned once, then accepted: the suspension is lifted.
    report = measures["rectification_report"]["id"]
    handle(client, "liaison_icbc_jiangling", report, "整改报告（初稿）")
    client.post(f"/api/v1/orders/{report}/return", headers=auth("office"), json={"comment": "未落实柜员问责"})
    advance()
    assert "lift_measure" not in orders_of(client, "office", started["id"])
    client.post(f"/api/v1/orders/{report}/report", headers=auth("liaison_icbc_jiangling"), json={"text": "已问责两名柜员"})
    accept(client, report)
    advance()
    lift = orders_of(client, "office", started["id"])["lift_measure"]
    assert lift["addressee_unit_id"] == city_branch
    handle(client, "liaison_icbc", lift["id"], "已恢复开卡业务")
    accept(client, lift["id"])
    advance()
    process = client.get(f"/api/v1/processes/{started['id']}", headers=auth("office")).json()
    assert process["stage"] == "closed" and process["closed_at"] and process["data"]["outcome"] == "rectified"
    assert advance() == 0  # nothing left; running again issues nothing
    assert session.exec(select(func.count()).select_from(Order).where(Order.process_id == started["id"])).one() == 5
    assert audit.verify(session=session).ok


def test_the_office_can_start_a_reverse_audit_by_hand(client, engine):
    response = client.post("/api/v1/processes/reverse-audit", headers=auth("office"), json={
        "branch_unit_id": unit_id(engine, "bank.icbc.jz.jiangling"), "reason": "群众举报违规开户", "clerks": ["柜员丙"]})
    assert response.status_code == 201
    advance()
    assert len(orders_of(client, "office", response.json()["id"])) == 4
    assert client.post("/api/v1/processes/reverse-audit", headers=auth("office"), json={
        "branch_unit_id": unit_id(engine, "jiangling"), "reason": "x"}).status_code == 422


def stop(client, engine, account="6222021234567890123", amount="280000"):
    return client.post("/api/v1/processes/stop-payment", headers=auth("office"), json={
        "bank_unit_id": unit_id(engine, "bank.icbc.jz"), "account_number": account, "amount_cny": amount})


def test_stop_payment_holds_48_hours_and_a_third_is_refused(client, engine, session):
    first = stop(client, engine).json()
    advance()
    order = orders_of(client, "liaison_icbc", first["id"])["stop_payment"]
    assert (datetime.fromisoformat(order["acknowledge_by"]) - datetime.fromisoformat(order["issued_at"])) == timedelta(minutes=5)
    # The bank must say how much it actually stopped.
    client.post(f"/api/v1/orders/{order['id']}/acknowledge", headers=auth("liaison_icbc"))
    missing = client.post(f"/api/v1/orders/{order['id']}/report", headers=auth("liaison_icbc"), json={"text": "已止付"})
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"][-1] == "amount_cny"
    client.post(f"/api/v1/orders/{order['id']}/report", headers=auth("liaison_icbc"),
                json={"text": "已止付", "amount_cny": "275000.00"})
    advance()
    held = client.get(f"/api/v1/processes/{first['id']}", headers=auth("office")).json()
    reported_at = datetime.fromisoformat(held["orders"][0]["reported_at"])
    assert held["stage"] == "held" and held["data"]["stopped_fen"] == 27500000
    assert datetime.fromisoformat(held["data"]["held_until"]) == reported_at + timedelta(hours=48)
    # The amount the bank reported is what the statistics count, for the bank and the whole city.
    assert figures(client, unit="bank.icbc", **this_month())["stopped_fen"][0] == 27500000
    assert figures(client, **this_month())["stopped_accounts"][0] == 1
    assert figures(client, unit="bank.ccb", **this_month())["stopped_accounts"][0] == 0
    assert stop(client, engine).status_code == 201
    third = stop(client, engine)
    assert third.status_code == 422
    assert "最多止付 2 次" in third.json()["detail"][0]["msg"] and third.json()["detail"][0]["loc"][-1] == "account_number"
    # 48 hours later the hold ends on its own.
    with Session(engine) as s:
        past = (datetime.now(timezone.utc) - timedelta(seconds=1)).isoformat()
        process = s.get(Process, first["id"])
        process.data = json.dumps({**json.loads(process.data), "held_until": past})
        s.execute(update(Process).where(Process.id == first["id"]).values(data=process.data,
                                                                          wake_at=datetime.now(timezone.utc)))
        s.commit()
    advance()
    assert client.get(f"/api/v1/processes/{first['id']}", headers=auth("office")).json()["data"]["outcome"] == "hold_expired"


def test_freeze_lasts_six_months_and_renews_from_its_expiry(client, engine):
    response = client.post("/api/v1/processes/freeze", headers=auth("office"), json={
        "bank_unit_id": unit_id(engine, "bank.ccb.jz"), "account_number": "6217001234567890", "amount_cny": "49490000"})
    process_id = response.json()["id"]
    advance()
    order = orders_of(client, "liaison_ccb", process_id)["freeze"]
    handle(client, "liaison_ccb", order["id"], "已冻结", amount="49490000")
    advance()
    frozen = client.get(f"/api/v1/processes/{process_id}", headers=auth("office")).json()
    reported = datetime.fromisoformat(frozen["orders"][0]["reported_at"])
    expires = datetime.fromisoformat(frozen["data"]["expires_at"])
    assert frozen["stage"] == "frozen" and (expires - reported).days in (181, 182, 183, 184)
    assert client.post(f"/api/v1/processes/{process_id}/renew", headers=auth("liaison_ccb")).status_code == 403
    assert client.post(f"/api/v1/processes/{process_id}/renew", headers=auth("office")).status_code == 200
    advance()
    renewal = [o for o in client.get(f"/api/v1/processes/{process_id}", headers=auth("office")).json()["orders"]
               if o["status"] == "issued"][0]
    handle(client, "liaison_ccb", renewal["id"], "已续冻", amount="49490000")
    advance()
    renewed = client.get(f"/api/v1/processes/{process_id}", headers=auth("office")).json()
    new_expiry = datetime.fromisoformat(renewed["data"]["expires_at"])
    assert (new_expiry - expires).days in (181, 182, 183, 184)  # from the old expiry, not from today
    # Renewing freezes the same account again: the statistics count one account frozen.
    frozen_figures = figures(client, unit="bank.ccb", **this_month())
    assert (frozen_figures["frozen_accounts"][0], frozen_figures["frozen_fen"][0]) == (1, 4_949_000_000)


def test_orders_go_out_as_numbered_documents_their_unit_can_download(client, engine, session):
    """The reverse audit's orders are carried by official documents (GB/T 9704) that the watch
    numbers and renders; the addressee's liaison downloads theirs, another bank gets not found."""
    import io

    from pypdf import PdfReader

    from flows.processes import issue_due_documents

    started = client.post("/api/v1/processes/reverse-audit", headers=auth("office"), json={
        "branch_unit_id": unit_id(engine, "bank.icbc.jz.jiangling"), "reason": "群众举报", "clerks": ["柜员丙"]}).json()
    advance()
    assert issue_due_documents() == 4
    assert issue_due_documents() == 0  # once
    measures = orders_of(client, "liaison_icbc", started["id"])
    interview = measures["interview_notice"]
    assert interview["document_id"] is not None
    pdf = client.get(f"/api/v1/orders/{interview['id']}/pdf", headers=auth("liaison_icbc_jiangling"))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "工商银行江陵支行" in text and "约谈" in text and "荆反诈联办〔" in text
    assert client.get(f"/api/v1/orders/{interview['id']}/pdf", headers=auth("liaison_ccb")).status_code == 404
    numbers = {o["document_id"] for o in measures.values()}
    assert len(numbers) == 4


def test_a_cancelled_rectification_ends_the_reverse_audit(client, engine):
    started = client.post("/api/v1/processes/reverse-audit", headers=auth("office"), json={
        "branch_unit_id": unit_id(engine, "bank.icbc.jz.jiangling"), "reason": "核查"}).json()
    advance()
    report = orders_of(client, "office", started["id"])["rectification_report"]
    client.post(f"/api/v1/orders/{report['id']}/cancel", headers=auth("office"), json={"reason": "并入全行整改"})
    advance()
    process = client.get(f"/api/v1/processes/{started['id']}", headers=auth("office")).json()
    assert process["stage"] == "closed" and process["data"]["outcome"] == "cancelled_by_office"
