"""The escalation process driven by real Prefect flows (one Prefect server for the session):
approved → taken (包案) and listed for supervision (挂牌督办); returned → back to the office;
unanswered → reminded, then one tier up. Every step happens once, however often it is run."""
import threading
import time

import pytest
from sqlmodel import select

from domain.audit import service as audit
from domain.audit.models import AuditEvent
from domain.cases.models import Case
from domain.escalation.models import Approval
from tests.conftest import auth, case_body

pytestmark = pytest.mark.prefect


@pytest.fixture(autouse=True)
def _prefect(prefect_server):
    return prefect_server


def register(client, number, amount):
    response = client.post("/api/v1/cases", json=case_body(number=number, amount=amount), headers=auth("office"))
    assert response.status_code == 201, response.text
    return response.json()


def decide(client, approval_id, leader, decision="approve", comment=None):
    response = client.post(f"/api/v1/approvals/{approval_id}/decision", headers=auth(leader),
                           json={"decision": decision, "comment": comment})
    assert response.status_code == 200, response.text


def actions(session, action):
    return session.exec(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_approved_chief_case_is_taken_and_listed_for_supervision(client, session):
    from flows.escalation import escalation_sweep

    case = register(client, "F-275", "2750000")
    decide(client, case["approval"]["id"], "chief")
    assert escalation_sweep(note="test")["followed_up"] == 1
    stored = session.get(Case, case["id"])
    assert stored.escalation_state == "taken" and stored.leader_id is not None
    assert stored.supervised and stored.stage == "supervision"
    assert len(actions(session, "case.taken")) == 1 and len(actions(session, "case.listed_for_supervision")) == 1
    # Run again: nothing left to do, nothing recorded twice.
    assert escalation_sweep(note="again") == {"followed_up": 0, "reminded": 0, "escalated": 0}
    assert len(actions(session, "case.taken")) == 1
    assert audit.verify(session=session).ok


def test_approved_cid_head_case_is_taken_without_supervision(client, session):
    from flows.escalation import escalation_sweep

    case = register(client, "F-28", "280000")
    decide(client, case["approval"]["id"], "cid_head")
    escalation_sweep(note="test")
    stored = session.get(Case, case["id"])
    assert stored.escalation_state == "taken" and not stored.supervised and stored.stage == "handling"


def test_returned_case_goes_back_to_the_office_with_the_comment(client, session):
    from flows.escalation import escalation_sweep

    case = register(client, "F-60", "600000")
    decide(client, case["approval"]["id"], "deputy", "return", "证据不足，请补充银行流水")
    escalation_sweep(note="test")
    shown = client.get(f"/api/v1/cases/{case['id']}", headers=auth("office")).json()
    assert shown["escalation_state"] == "returned" and shown["stage"] == "research"
    assert shown["return_comment"] == "证据不足，请补充银行流水"
    assert shown["leader_id"] is None


def test_unanswered_approval_is_reminded_then_escalated_one_tier_up(client, session, short_deadlines, awkward_day):
    """Remind after 1 s, escalate after 2 s: the clock is moved past each deadline (on a weekend,
    before a holiday, on New Year's Eve) and the sweep, run in-process, sees it."""
    from flows.escalation import escalation_sweep

    case = register(client, "F-T", "280000")
    first = case["approval"]
    awkward_day.advance(seconds=1.1)
    assert escalation_sweep(note="remind")["reminded"] == 1
    assert session.get(Approval, first["id"]).reminded_at is not None
    awkward_day.advance(seconds=1.0)
    assert escalation_sweep(note="escalate")["escalated"] == 1
    assert session.get(Approval, first["id"]).status == "escalated"
    deputy_queue = client.get("/api/v1/approvals", headers=auth("deputy")).json()
    assert [a["case_number"] for a in deputy_queue] == ["F-T"]
    assert deputy_queue[0]["escalated_from_id"] == first["id"]
    # The CID head can no longer decide the escalated approval.
    assert client.post(f"/api/v1/approvals/{first['id']}/decision", json={"decision": "approve"},
                       headers=auth("cid_head")).status_code == 409
    awkward_day.advance(seconds=2.1)
    assert escalation_sweep(note="escalate again")["escalated"] == 1
    chain = session.exec(select(Approval.leader_tier, Approval.status).where(Approval.case_id == case["id"])
                         .order_by(Approval.id)).all()
    assert chain == [("cid_head", "escalated"), ("deputy", "escalated"), ("chief", "pending")]
    awkward_day.advance(seconds=2.1)
    # Nobody above the chief: the approval stays with the chief.
    assert escalation_sweep(note="top")["escalated"] == 0
    assert len(actions(session, "approval.escalated")) == 2
    assert audit.verify(session=session).ok


def test_a_nudge_racing_a_sweep_follows_up_once(client, session):
    from flows.escalation import escalation_sweep, follow_up_decision

    case = register(client, "F-R", "2750000")
    decide(client, case["approval"]["id"], "chief")
    results = []
    runners = [threading.Thread(target=lambda: results.append(follow_up_decision(case["approval"]["id"], "F-R")))
               for _ in range(3)]
    runners.append(threading.Thread(target=lambda: results.append(escalation_sweep(note="race"))))
    for t in runners:
        t.start()
    for t in runners:
        t.join(60)
    assert len(actions(session, "case.taken")) == 1
    assert len(actions(session, "case.listed_for_supervision")) == 1
    assert audit.verify(session=session).ok


def test_the_watch_follows_up_a_decision_while_it_runs(client, session, monkeypatch):
    """The subject is the real watch flow: the decision is made once its first pass has begun, then
    the test polls (with a deadline) for the follow-up the watch records."""
    import flows.watch
    from flows.watch import watch as escalation_watch

    passing, advance = threading.Event(), flows.watch.advance_due_steps
    monkeypatch.setattr(flows.watch, "advance_due_steps", lambda **kw: (passing.set(), advance(**kw))[1])
    outcome = {}
    watch = threading.Thread(target=lambda: outcome.update(escalation_watch(window_seconds=8, poll_seconds=0.5)))
    watch.start()
    assert passing.wait(60), "the watch made no pass within 60 s"
    case = register(client, "F-W", "600000")
    decide(client, case["approval"]["id"], "deputy")
    decided = time.monotonic()
    while time.monotonic() - decided < 6 and session.get(Case, case["id"]).escalation_state != "taken":
        time.sleep(0.1)
    print(f"decision → 包案 recorded after {time.monotonic() - decided:.2f} s")
    watch.join(30)
    assert session.get(Case, case["id"]).escalation_state == "taken"
    assert outcome["followed_up"] == 1


def test_a_burst_of_decisions_is_followed_up_in_one_batch_once(client, session):
    """More decisions than BATCH_ABOVE at once: one Prefect task does them all (a task run per
    case would outrun the orchestrator in a burst), each case taken once, the chain intact."""
    from flows.escalation import BATCH_ABOVE, escalation_sweep

    cases = [register(client, f"F-B{i}", "280000") for i in range(BATCH_ABOVE + 2)]
    for case in cases:
        decide(client, case["approval"]["id"], "cid_head")
    assert escalation_sweep(note="burst")["followed_up"] == len(cases)
    assert all(session.get(Case, c["id"]).escalation_state == "taken" for c in cases)
    assert escalation_sweep(note="again")["followed_up"] == 0
    assert len(actions(session, "case.taken")) == len(cases)
    assert audit.verify(session=session).ok
