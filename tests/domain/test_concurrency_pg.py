"""Concurrency on PostgreSQL: many people (or sweeps) doing the same thing at the same instant, each
on its own connection in its own thread. Whatever the interleaving, one acknowledgement, one decision,
gap-free document numbers and one reminder per order — and the audit trail says so once."""
import threading
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlmodel import Session, func, select

from domain.audit import service as audit
from domain.audit.models import AuditEvent
from domain.documents import numbering
from domain.documents.models import Document, DocumentSequence
from domain.escalation.models import Approval
from domain.orders.models import Notice, Order
from domain.settings import get_settings
from domain.timeutil import SHANGHAI
from tests import factories
from tests.conftest import auth, case_body, unit_id


@pytest.fixture
def pg(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("concurrency proofs run on PostgreSQL (SQLite serialises every writer)")
    return database_url


@pytest.fixture
def files_home(tmp_path, monkeypatch):
    monkeypatch.setattr(get_settings(), "home", tmp_path / "home")
    return tmp_path / "home"


def at_once(count: int, work) -> list:
    """Run `work(i)` in `count` threads released together; return each outcome (or exception name)."""
    outcomes: list = [None] * count
    barrier = threading.Barrier(count)

    def run(index: int) -> None:
        barrier.wait()
        try:
            outcomes[index] = work(index)
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test inspects
            outcomes[index] = type(exc).__name__

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return outcomes


def events(session, action: str, entity_id: int | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action == action)
    if entity_id is not None:
        query = query.where(AuditEvent.entity_id == entity_id)
    return list(session.exec(query).all())


def test_fifty_simultaneous_acknowledgements_of_one_order_record_one(pg, client, engine, session):
    order = client.post("/api/v1/orders", headers=auth("office"), json={
        "kind": "stop_payment", "addressee_unit_id": unit_id(engine, "bank.icbc.jz.jiangling"),
        "title": "紧急止付涉案账户", "instructions": "立即止付"}).json()
    # The sub-branch's liaison and the city branch's (who sees its sub-branch's orders) click together.
    who = ["liaison_icbc", "liaison_icbc_jiangling"]
    answers = at_once(50, lambda i: client.post(f"/api/v1/orders/{order['id']}/acknowledge",
                                                headers=auth(who[i % 2])).status_code)
    assert Counter(answers) == {200: 1, 409: 49}, Counter(answers)
    stored = session.get(Order, order["id"])
    assert stored.status == "acknowledged" and stored.acknowledged_by_id is not None
    assert len(events(session, "order.acknowledged", order["id"])) == 1
    assert audit.verify(session=session).ok


def test_twenty_simultaneous_approvals_by_the_same_leader_make_one_decision(pg, client, engine, session):
    created = client.post("/api/v1/cases", headers=auth("office"), json=case_body(number="PG-1", amount="280000")).json()
    approval_id = created["approval"]["id"]
    answers = at_once(20, lambda i: client.post(f"/api/v1/approvals/{approval_id}/decision", headers=auth("cid_head"),
                                                json={"decision": "approve" if i % 2 else "return",
                                                      "comment": f"意见{i}"}).status_code)
    assert Counter(answers) == {200: 1, 409: 19}, Counter(answers)
    approval = session.get(Approval, approval_id)
    assert approval.status in ("approved", "returned") and approval.follow_up_pending
    decided = events(session, "approval.approved", approval_id) + events(session, "approval.returned", approval_id)
    assert len(decided) == 1 and decided[0].action == f"approval.{approval.status}"
    assert audit.verify(session=session).ok


def test_a_hundred_parallel_document_issues_get_gap_free_unique_numbers(pg, client, engine, session, files_home):
    body = {"kind": "supervision_order", "addressee": "中国工商银行荆州分行", "title": "关于核查涉案账户的督办通知",
            "paragraphs": ["请于三个工作日内反馈核查结果。"], "measures": [], "cc": []}

    def issue(i: int):
        response = client.post("/api/v1/documents", headers=auth("office"), json={**body, "addressee": f"测试单位{i}"})
        if response.status_code != 201:
            return response.status_code
        return numbering.parse_number(response.json()["number"])[2]

    serials = at_once(100, issue)
    assert sorted(serials) == list(range(1, 101)), Counter(s for s in serials if not isinstance(s, int) or s > 100)
    rows = session.exec(select(Document.serial, Document.number, Document.pdf_path)).all()
    assert sorted(r[0] for r in rows) == list(range(1, 101))
    assert len({r[1] for r in rows}) == 100 and len({r[2] for r in rows}) == 100
    assert session.exec(select(DocumentSequence.last_serial)).one() == 100
    assert len(list(files_home.rglob("*.pdf"))) == 100
    assert len(events(session, "document.issued")) == 100
    assert audit.verify(session=session).ok


def test_two_deadline_sweeps_at_once_send_each_reminder_once(pg, engine, session, clock):
    """Made with tests/factories.py: one bank, the office, the CID head and a town, no demo city."""
    from flows.escalation import advance_due_steps
    from flows.orders import check_due_orders

    # Issued on a Monday morning, swept on the Thursday: past the one-working-day deadline whatever
    # day the suite runs on.
    long_ago = datetime(2026, 12, 7, 9, 0, tzinfo=SHANGHAI)
    clock.set(long_ago + timedelta(days=3))
    with Session(engine) as s:
        bank = factories.unit(s, "bank.icbc.jz", kind="bank_branch")
        ids = [factories.order(s, addressee=bank, title=f"逾期未签收的指令{i}", now=long_ago).id for i in range(60)]
        # Approvals whose reminder time has passed: the leaders' sweep runs beside the orders' sweep.
        factories.user(s, "cid_head", role="leader", leader_tier="cid_head")
        town = factories.unit(s, "jiangling.haoxue", kind="town", population=60_000)
        cases = [factories.case(s, f"SW-{i}", amount="280000", area=town) for i in range(10)]
        s.flush()
        approvals = [a.id for a in s.exec(select(Approval).where(Approval.case_id.in_([c.id for c in cases])))]
        for approval in s.exec(select(Approval).where(Approval.id.in_(approvals))).all():
            approval.remind_at = long_ago
            s.add(approval)
        s.commit()

    outcomes = at_once(4, lambda i: check_due_orders() if i % 2 == 0 else advance_due_steps(via_prefect=False))
    assert all(isinstance(o, dict) for o in outcomes), outcomes
    order_sweeps, leader_sweeps = outcomes[0::2], outcomes[1::2]
    assert sum(o["reminded"] for o in order_sweeps) == 60 and sum(o["reminded"] for o in leader_sweeps) == 10
    for order in session.exec(select(Order).where(Order.id.in_(ids))).all():
        assert order.reminders == 1 and order.overdue_acknowledge, order.id
    reminded = Counter(e.entity_id for e in events(session, "order.reminded"))
    assert reminded == {i: 1 for i in ids}
    notices = session.exec(select(Notice.order_id, func.count()).where(Notice.kind == "reminder")
                           .group_by(Notice.order_id)).all()
    assert dict(notices) == {i: 1 for i in ids}
    assert Counter(e.entity_id for e in events(session, "approval.reminded")) == {a: 1 for a in approvals}
    assert audit.verify(session=session).ok
