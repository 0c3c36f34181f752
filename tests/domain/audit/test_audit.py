"""The audit trail: every change is recorded, and tampering is detected and located."""
from sqlalchemy import text
from sqlmodel import select

from domain.audit import service as audit
from domain.audit.models import AuditEvent
from tests.conftest import auth, case_body


def fill(client) -> None:
    for number, amount in (("A-1", "280000"), ("A-2", "2750000"), ("A-3", "36000")):
        assert client.post("/api/v1/cases", json=case_body(number=number, amount=amount),
                           headers=auth("office")).status_code == 201


def test_every_change_is_recorded_with_who_what_and_rule(client, session):
    fill(client)
    events = session.exec(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [e.action for e in events] == ["case.registered", "approval.requested", "case.registered",
                                          "approval.requested", "case.registered"]
    assert {e.actor for e in events} == {"office"}
    assert events[1].rule == "jingzhou.cid_head" and events[4].rule == "below_all_tiers"
    assert "13800001234" not in (events[0].after or "")  # no victim phone in the trail


def test_intact_chain_verifies(client, engine):
    fill(client)
    report = client.get("/api/v1/audit/verify", headers=auth("auditor")).json()
    assert report == {"ok": True, "checked": 5, "broken_seq": None, "reason": None}
    assert client.get("/api/v1/audit/verify", headers=auth("liaison_icbc")).status_code == 403


def test_an_edited_row_is_named(client, engine, session):
    fill(client)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'someone_else' WHERE seq = 3"))
    report = audit.verify(session=session)
    assert not report.ok and report.broken_seq == 3 and "changed" in report.reason


def test_a_deleted_row_is_named(client, engine, session):
    fill(client)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 2"))
    report = audit.verify(session=session)
    assert report.broken_seq == 2 and "missing" in report.reason


def test_a_removed_tail_is_detected(client, engine, session):
    fill(client)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 5"))
    report = audit.verify(session=session)
    assert report.broken_seq == 5 and "removed" in report.reason


def test_a_rehashed_row_still_breaks_the_next_link(client, engine, session):
    """A forger who recomputes the edited row's own hash still breaks the link after it."""
    fill(client)
    row = session.exec(select(AuditEvent).where(AuditEvent.seq == 2)).one()
    forged = audit._link_hash(seq=row.seq, at=row.at, actor="forger", action=row.action,
                              entity_type=row.entity_type, entity_id=row.entity_id, before=row.before,
                              after=row.after, rule=row.rule, prev_hash=row.prev_hash)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor='forger', hash=:h WHERE seq=2"), {"h": forged})
    report = audit.verify(session=session)
    assert report.broken_seq == 3 and "link" in report.reason


def test_cli_verify_names_the_broken_entry(client, engine, database_url, monkeypatch):
    from typer.testing import CliRunner

    from cli.main import app

    fill(client)
    runner = CliRunner()
    assert "intact: 5 entries" in runner.invoke(app, ["audit", "verify"]).output
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET rule = 'x' WHERE seq = 4"))
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1 and "BROKEN at entry 4" in result.output


def test_an_entry_is_refused_inside_a_savepoint_so_none_outlives_its_rollback(engine, city):
    """Entries are linked at the outer commit: one recorded in a savepoint that rolls back would
    still be written. Recording there is refused; the outer transaction's entries still commit."""
    import pytest
    from sqlmodel import Session, func

    with Session(engine) as s:
        before = s.exec(select(func.count()).select_from(AuditEvent)).one()
        with pytest.raises(RuntimeError, match="savepoint"):
            with s.begin_nested():
                audit.record(session=s, actor="office", action="test.inside", entity_type="case", entity_id=1)
        audit.record(session=s, actor="office", action="test.outside", entity_type="case", entity_id=1)
        s.commit()
        actions = s.exec(select(AuditEvent.action).where(AuditEvent.action.like("test.%"))).all()
        assert actions == ["test.outside"]
        assert s.exec(select(func.count()).select_from(AuditEvent)).one() == before + 1
        assert audit.verify(session=s).ok
