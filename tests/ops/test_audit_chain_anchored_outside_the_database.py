"""Finding 3 of issue 16: someone who can write the database changes an entry's actor, re-hashes
every later entry and moves the head — the chain alone looks intact; the signed checkpoint (key
and file outside the database) catches it, in `lianban audit verify` and in the API."""
import json
import os
import stat

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from cli.main import app as cli
from domain.audit import checkpoints
from domain.audit import service as audit
from domain.audit.models import AuditEvent, AuditHead
from domain.settings import Settings
from tests.conftest import auth, case_body


@pytest.fixture
def anchored(client, engine, tmp_path, monkeypatch):
    """Three cases of 28万 (six entries), and a checkpoint signed under a home of the test's own."""
    settings = Settings(home=tmp_path / "home")
    monkeypatch.setattr(checkpoints, "get_settings", lambda: settings)
    for i in range(3):
        assert client.post("/api/v1/cases", headers=auth("office"), json=case_body(number=f"ANCHOR-{i}")).status_code == 201
    with Session(engine) as session:
        mark = checkpoints.write(session=session, settings=settings)
    assert mark.seq == 6
    return settings


def reforge(engine, seq: int, actor: str) -> None:
    """The attack: change one entry, recompute every later hash and the head, as the scheme says."""
    with Session(engine) as session:
        entries = session.exec(select(AuditEvent).where(AuditEvent.seq >= seq).order_by(AuditEvent.seq)).all()
        prev = entries[0].prev_hash
        entries[0].actor = actor
        for entry in entries:
            entry.prev_hash = prev
            entry.hash = prev = audit._link_hash(seq=entry.seq, at=entry.at, actor=entry.actor, action=entry.action,
                                                 entity_type=entry.entity_type, entity_id=entry.entity_id,
                                                 before=entry.before, after=entry.after, rule=entry.rule,
                                                 prev_hash=entry.prev_hash)
            session.add(entry)
        head = session.get(AuditHead, 1)
        head.last_hash = prev
        session.add(head)
        session.flush()
        session.info.pop("lianban.audit.pending", None)
        session.commit()


def test_a_rehashed_chain_is_caught_by_the_signed_checkpoint(anchored, engine, client):
    reforge(engine, 3, actor="chief")
    with Session(engine) as session:
        assert audit.verify(session=session).ok  # the unkeyed chain alone is fooled
    result = CliRunner().invoke(cli, ["audit", "verify"])
    assert result.exit_code == 1 and "BROKEN at entry 1: entries 1–6 were rewritten" in result.output
    report = client.get("/api/v1/audit/verify", headers=auth("auditor")).json()
    assert report["ok"] is False and "rewritten" in report["reason"]


def test_entries_after_the_checkpoint_are_still_checked_and_signed_later(anchored, engine, client):
    assert client.post("/api/v1/cases", headers=auth("office"), json=case_body(number="ANCHOR-9")).status_code == 201
    assert CliRunner().invoke(cli, ["audit", "checkpoint"]).output.startswith("checkpoint: entry 8 signed")
    assert "intact: 8 entries" in CliRunner().invoke(cli, ["audit", "verify"]).output


def test_a_forged_checkpoint_line_is_refused(anchored, engine):
    with Session(engine) as session:
        path = checkpoints.checkpoint_file(anchored, session)
    line = json.loads(path.read_text().splitlines()[-1])
    with path.open("a") as out:  # the attacker appends a checkpoint for their forged chain
        out.write(json.dumps({**line, "hash": "f" * 64}) + "\n")
    result = CliRunner().invoke(cli, ["audit", "verify"])
    assert result.exit_code == 1 and "not signed by this installation's key" in result.output


def test_the_key_is_created_once_readable_by_the_owner_only(anchored):
    key = checkpoints.key_file(anchored)
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert checkpoints.load_key(anchored, create=True) == checkpoints.load_key(anchored, create=False)
