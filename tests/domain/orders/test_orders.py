"""Orders from the office to member units: who sees them, acknowledging once, reporting back with
evidence, review, working-day deadlines, and the deadline watch's reminders and escalation."""
import threading
from datetime import datetime, timezone

from sqlalchemy import text, update
from sqlmodel import Session, func, select

from domain.audit import service as audit
from domain.audit.models import AuditEvent
from domain.cases.models import Case
from domain.orders.models import Evidence, Notice, Order
from tests import factories
from tests.conftest import auth, case_body, unit_id
from tests import samples

PDF = samples.PDF


def issue(client, engine, code="bank.icbc.jz", kind="supervision", title="核查涉案账户开户资料"):
    response = client.post("/api/v1/orders", headers=auth("office"), json={
        "kind": kind, "addressee_unit_id": unit_id(engine, code), "title": title, "instructions": "请核查并反馈"})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_liaison_sees_only_their_units_orders(client, engine):
    icbc = issue(client, engine, "bank.icbc.jz")
    jiangling = issue(client, engine, "bank.icbc.jz.jiangling", title="支行自查")
    ccb = issue(client, engine, "bank.ccb.jz", title="建行核查")
    listed = client.get("/api/v1/orders", headers=auth("liaison_icbc")).json()
    # The city branch sees its own and its sub-branch's orders, never another bank's.
    assert {o["id"] for o in listed["items"]} == {icbc["id"], jiangling["id"]} and listed["total"] == 2
    assert client.get(f"/api/v1/orders/{ccb['id']}", headers=auth("liaison_icbc")).status_code == 404
    assert client.get(f"/api/v1/orders/{icbc['id']}", headers=auth("liaison_ccb")).status_code == 404
    # The sub-branch does not see its city branch's order.
    below = client.get("/api/v1/orders", headers=auth("liaison_icbc_jiangling")).json()
    assert [o["id"] for o in below["items"]] == [jiangling["id"]]
    assert client.post(f"/api/v1/orders/{ccb['id']}/acknowledge", headers=auth("liaison_icbc")).status_code == 404


def test_acknowledging_twice_records_one_acknowledgement(client, engine, session):
    order = issue(client, engine)
    first = client.post(f"/api/v1/orders/{order['id']}/acknowledge", headers=auth("liaison_icbc"))
    assert first.status_code == 200 and first.json()["status"] == "acknowledged"
    second = client.post(f"/api/v1/orders/{order['id']}/acknowledge", headers=auth("liaison_icbc"))
    assert second.status_code == 409
    assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "order.acknowledged")).all()) == 1


def test_two_liaisons_acknowledging_at_once_record_one(client, engine, session, city):
    from domain.orders import service as orders

    order = issue(client, engine, "bank.icbc.jz.jiangling")
    outcomes, barrier = [], threading.Barrier(8)

    def ack(username):
        with Session(engine) as s:
            barrier.wait()
            try:
                orders.acknowledge(session=s, actor=s.get(type(city[username]), city[username].id), order_id=order["id"])
                s.commit()
                outcomes.append("ok")
            except Exception as exc:  # noqa: BLE001
                s.rollback()
                outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=ack, args=(name,)) for name in ["liaison_icbc", "liaison_icbc_jiangling"] * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert outcomes.count("ok") == 1 and outcomes.count("Conflict") == 7
    assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "order.acknowledged")).all()) == 1
    assert audit.verify(session=session).ok


def test_report_return_rework_accept(client, engine, session):
    order = issue(client, engine)
    oid = order["id"]
    client.post(f"/api/v1/orders/{oid}/acknowledge", headers=auth("liaison_icbc"))
    assert client.post(f"/api/v1/orders/{oid}/report", headers=auth("liaison_icbc"), json={"text": "  "}).status_code == 422
    assert client.post(f"/api/v1/orders/{oid}/report", headers=auth("liaison_icbc"),
                       json={"text": "已核查"}).json()["status"] == "reported"
    assert client.post(f"/api/v1/orders/{oid}/accept", headers=auth("liaison_icbc"), json={}).status_code == 403
    assert client.post(f"/api/v1/orders/{oid}/return", headers=auth("office"), json={}).status_code == 422
    returned = client.post(f"/api/v1/orders/{oid}/return", headers=auth("office"), json={"comment": "缺开户影像资料"})
    assert returned.json()["status"] == "returned" and returned.json()["review_comment"] == "缺开户影像资料"
    notices = client.get("/api/v1/notices", headers=auth("liaison_icbc")).json()
    assert any("缺开户影像资料" in n["message"] for n in notices)
    client.post(f"/api/v1/orders/{oid}/report", headers=auth("liaison_icbc"), json={"text": "已补充影像资料"})
    accepted = client.post(f"/api/v1/orders/{oid}/accept", headers=auth("office"), json={"comment": "验收通过"})
    assert accepted.json()["status"] == "accepted"
    actions = [e.action for e in audit.history(session=session, entity_type="order", entity_id=oid)]
    assert actions == ["order.issued", "order.acknowledged", "order.reported", "order.returned", "order.reported",
                       "order.accepted"]


def test_cancel_needs_a_reason_and_ends_the_order(client, engine):
    order = issue(client, engine)
    assert client.post(f"/api/v1/orders/{order['id']}/cancel", headers=auth("office"), json={"reason": ""}).status_code == 422
    cancelled = client.post(f"/api/v1/orders/{order['id']}/cancel", headers=auth("office"), json={"reason": "重复下发"})
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["cancelled_reason"] == "重复下发"
    assert client.post(f"/api/v1/orders/{order['id']}/acknowledge", headers=auth("liaison_icbc")).status_code == 409


def test_unknown_kind_or_unit_is_refused(client, engine, session):
    bad = client.post("/api/v1/orders", headers=auth("office"), json={"kind": "teleport", "addressee_unit_id": 1, "title": "x"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "kind"
    bad = client.post("/api/v1/orders", headers=auth("office"), json={"kind": "supervision", "addressee_unit_id": 99999, "title": "x"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "addressee_unit_id"
    assert client.post("/api/v1/orders", headers=auth("liaison_icbc"), json={
        "kind": "supervision", "addressee_unit_id": 1, "title": "x"}).status_code == 403
    assert session.exec(select(func.count()).select_from(Order)).one() == 0


def test_evidence_upload_is_checked_and_stored_by_hash(client, engine, session, tmp_path, monkeypatch):
    from domain.orders import evidence

    monkeypatch.setattr(evidence, "evidence_root", lambda: tmp_path / "evidence")
    order = issue(client, engine)
    oid = order["id"]
    url = f"/api/v1/orders/{oid}/evidence"
    ok = client.post(url, headers=auth("liaison_icbc"), files={"file": ("../../etc/回执.pdf", PDF, "application/pdf")})
    assert ok.status_code == 201, ok.text
    body = ok.json()
    assert body["filename"] == "回执.pdf" and len(body["sha256"]) == 64 and body["size_bytes"] == len(PDF)
    stored = list((tmp_path / "evidence").rglob("*.pdf"))
    assert len(stored) == 1 and stored[0].read_bytes() == PDF
    refused = [
        ("wrong type", {"file": ("x.exe", b"MZ\x90\x00", "application/octet-stream")}),
        ("disguised", {"file": ("x.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")}),
        ("empty", {"file": ("x.pdf", b"", "application/pdf")}),
        ("too large", {"file": ("big.pdf", b"%PDF-" + b"0" * (11 * 1024 * 1024), "application/pdf")}),
    ]
    for label, files in refused:
        response = client.post(url, headers=auth("liaison_icbc"), files=files)
        assert response.status_code == 422, label
        assert response.json()["detail"][0]["loc"][-1] == "file"
    assert client.post(url, headers=auth("liaison_ccb"), files={"file": ("a.pdf", PDF, "application/pdf")}).status_code == 404
    assert session.exec(select(func.count()).select_from(Evidence)).one() == 1
    assert len(list((tmp_path / "evidence").rglob("*"))) == 2  # the order's folder and the one file
    download = client.get(f"/api/v1/evidence/{body['id']}", headers=auth("office"))
    assert download.content == PDF
    assert client.get(f"/api/v1/evidence/{body['id']}", headers=auth("liaison_ccb")).status_code == 404


def test_working_day_deadlines_skip_the_national_day_holiday(engine):
    """Issued on 30 September 2026, a "1wd" acknowledgement is due on 8 October, not during the holiday.
    (Made with tests/factories.py: one bank and the office, not the demo city.)"""
    issued = datetime(2026, 9, 30, 2, 0, tzinfo=timezone.utc)  # 10:00 Beijing time
    with Session(engine) as s:
        bank = factories.unit(s, "bank.icbc.jz", kind="bank_branch")
        order = factories.order(s, addressee=bank, kind="interview_notice", title="约谈", now=issued)
        s.commit()
        assert order.acknowledge_by == datetime(2026, 10, 8, 10, 0, tzinfo=timezone.utc)  # 18:00 Beijing
        stop = factories.order(s, addressee=bank, kind="stop_payment", title="止付", now=issued)
        assert (stop.acknowledge_by - issued).total_seconds() == 300  # minutes stay minutes


def test_deadline_watch_reminds_then_escalates_once(client, engine, session, short_order_deadlines, awkward_day):
    """Acknowledge within 1 s, remind every 1 s, escalate after 2 reminders: the clock is moved past
    each deadline (on a weekend, before a holiday, on New Year's Eve), the checks run in-process."""
    from flows.orders import check_due_orders

    order = issue(client, engine, "bank.icbc.jz.jiangling")
    awkward_day.advance(seconds=1.1)
    runs = []
    threads = [threading.Thread(target=lambda: runs.append(check_due_orders())) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    stored = session.get(Order, order["id"])
    assert stored.reminders == 1 and stored.overdue_acknowledge and not stored.overdue_report
    assert sum(r["reminded"] for r in runs) == 1
    awkward_day.advance(seconds=1.1)
    check_due_orders()
    stored = session.get(Order, order["id"])
    assert stored.reminders == 2 and stored.escalated
    told = {n.unit_id for n in session.exec(select(Notice).where(Notice.kind == "escalation")).all()}
    assert told == {unit_id(engine, "bank.icbc.jz"), unit_id(engine, "office")}
    flagged = client.get("/api/v1/orders?escalated=true", headers=auth("office")).json()
    assert [o["id"] for o in flagged["items"]] == [order["id"]]
    # Acknowledged late, then the report deadline passes: tracked separately.
    client.post(f"/api/v1/orders/{order['id']}/acknowledge", headers=auth("liaison_icbc_jiangling"))
    awkward_day.advance(seconds=2.1)
    check_due_orders()
    stored = session.get(Order, order["id"])
    assert stored.overdue_acknowledge and stored.overdue_report and stored.escalations == 1
    assert audit.verify(session=session).ok


def test_deadline_query_uses_its_index(engine, database_url, awkward_day):
    from domain.orders import service as orders
    from domain.timeutil import utcnow

    with Session(engine) as s:
        query = orders.due_query(now=utcnow(), limit=1000)
        compiled = str(query.compile(dialect=s.get_bind().dialect, compile_kwargs={"literal_binds": True}))
        if database_url.startswith("sqlite"):
            plan = " ".join(str(row) for row in s.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all())
        else:
            s.execute(text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(row[0] for row in s.execute(text(f"EXPLAIN {compiled}")).all())
    assert "ix_orders_next_check_at" in plan, plan


def test_the_first_order_for_a_case_hands_it_over_and_later_stages_stay(client, engine):
    """研→交: a case being researched moves to handover when the office issues its first order; a
    case a leader already took (办) is not moved back. Both are in the case's timeline."""
    small = client.post("/api/v1/cases", headers=auth("office"), json=case_body("T-STAGE-1", amount="30000")).json()
    assert small["stage"] == "research"
    order = {"kind": "supervision", "addressee_unit_id": unit_id(engine, "bank.icbc.jz"), "title": "核查开户资料",
             "case_id": small["id"]}
    assert client.post("/api/v1/orders", headers=auth("office"), json=order).status_code == 201
    assert client.get(f"/api/v1/cases/{small['id']}", headers=auth("office")).json()["stage"] == "handover"
    assert client.post("/api/v1/orders", headers=auth("office"), json={**order, "title": "补充核查"}).status_code == 201
    events = [e["action"] for e in client.get(f"/api/v1/cases/{small['id']}/events", headers=auth("office")).json()]
    assert events.count("case.stage_changed") == 1

    big = client.post("/api/v1/cases", headers=auth("office"), json=case_body("T-STAGE-2", amount="300000")).json()
    with Session(engine) as s:  # a leader took it (包案, done by the escalation flow): 办
        s.execute(update(Case).where(Case.id == big["id"]).values(stage="handling"))
        s.commit()
    assert client.post("/api/v1/orders", headers=auth("office"), json={**order, "case_id": big["id"]}).status_code == 201
    assert client.get(f"/api/v1/cases/{big['id']}", headers=auth("office")).json()["stage"] == "handling"
