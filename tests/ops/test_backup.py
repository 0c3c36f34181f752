"""Backup and restore: `lianban backup` writes the database, the documents and the evidence into one
archive with checksums; `lianban restore` puts them into a fresh folder and an empty database on
another machine, where the audit chain verifies and a document handed out before still verifies."""
import io
import shutil
import tarfile
import uuid

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect
from typer.testing import CliRunner

from cli.main import app as cli
from domain.db import make_engine, use_engine
from domain.settings import get_settings
from server.app import create_app
from tests.conftest import PG_ADMIN_URL, auth, case_body, unit_id
from tests import samples

PDF = samples.PDF


@pytest.fixture
def live(database_url, tmp_path, monkeypatch):
    """The running office: its database is the test's, its files under tmp/home."""
    settings = get_settings()
    monkeypatch.setattr(settings, "home", tmp_path / "home")
    monkeypatch.setattr(settings, "database_url", database_url)
    return settings


@pytest.fixture
def fresh_database(database_url, tmp_path):
    """An empty database of the same kind, as on a new machine."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'new-machine' / 'lianban.db'}"
        return
    name = f"lianban_restore_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{PG_ADMIN_URL.rsplit('/', 1)[0].replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def some_work(client, engine) -> dict:
    client.post("/api/v1/cases", headers=auth("office"), json=case_body(number="BK-1", amount="2750000"))
    doc = client.post("/api/v1/documents", headers=auth("office"), json={
        "kind": "supervision_order", "addressee": "中国工商银行荆州分行", "title": "关于核查涉案账户的督办通知",
        "paragraphs": ["请于三个工作日内反馈。"], "measures": [], "cc": []}).json()
    order = client.post("/api/v1/orders", headers=auth("office"), json={
        "kind": "supervision", "addressee_unit_id": unit_id(engine, "bank.icbc.jz"), "title": "核查"}).json()
    evidence = client.post(f"/api/v1/orders/{order['id']}/evidence", headers=auth("liaison_icbc"),
                           files={"file": ("回执.pdf", PDF, "application/pdf")}).json()
    pdf = client.get(doc["pdf_url"], headers=auth("office")).content
    audit = client.get("/api/v1/audit/verify", headers=auth("auditor")).json()
    assert audit["ok"] and audit["checked"] >= 5
    return {"doc": doc, "pdf": pdf, "evidence": evidence, "audit_entries": audit["checked"]}


def test_a_backup_restores_on_a_fresh_machine_and_verifies(live, client, engine, tmp_path, fresh_database):
    before = some_work(client, engine)
    runner = CliRunner()
    made = runner.invoke(cli, ["backup", str(tmp_path / "backups")])
    assert made.exit_code == 0, made.output
    archive = next((tmp_path / "backups").glob("lianban-backup-*.tar.gz"))
    assert f"{before['audit_entries']} audit entries" in made.output and "2 files" in made.output

    new_home = tmp_path / "new-machine" / "var"
    # The audit checkpoint key travels apart from the archive (the operator copies it).
    shutil.copytree(live.home / "keys", new_home / "keys")
    restored = runner.invoke(cli, ["restore", str(archive), "--database-url", fresh_database, "--home", str(new_home)])
    assert restored.exit_code == 0, restored.output
    assert f"audit chain: intact, {before['audit_entries']} entries verified" in restored.output

    # The new machine serves what the old one did: the PDF verifies, the evidence reads back.
    engine2 = make_engine(fresh_database)
    use_engine(engine2)
    live.home = new_home
    try:
        with TestClient(create_app(engine2)) as new:
            genuine = new.post("/api/v1/verify", files={"file": ("d.pdf", before["pdf"], "application/pdf")}).json()
            assert genuine["genuine"] is True and genuine["number"] == before["doc"]["number"]
            assert new.get(f"/verify/{before['doc']['verification_code']}").status_code == 200
            assert new.get(before["doc"]["pdf_url"], headers=auth("office")).content == before["pdf"]
            assert new.get(f"/api/v1/evidence/{before['evidence']['id']}", headers=auth("office")).content == PDF
            assert new.get("/api/v1/audit/verify", headers=auth("auditor")).json()["checked"] == before["audit_entries"]
            # … and carries on numbering where the old one stopped.
            nxt = new.post("/api/v1/documents", headers=auth("office"), json={
                "kind": "supervision_order", "addressee": "建设银行荆州分行", "title": "督办", "paragraphs": ["请反馈。"],
                "measures": [], "cc": []}).json()
            assert nxt["number"].endswith("〕2号")
    finally:
        use_engine(engine)
        engine2.dispose()

    # Restoring again over the now-used database is refused, and says why.
    again = runner.invoke(cli, ["restore", str(archive), "--database-url", fresh_database,
                                "--home", str(tmp_path / "third")])
    assert again.exit_code == 1 and "already has tables" in again.output


def test_a_damaged_archive_is_refused_before_anything_is_written(live, client, engine, tmp_path, fresh_database):
    some_work(client, engine)
    runner = CliRunner()
    archive = tmp_path / "one.tar.gz"
    assert runner.invoke(cli, ["backup", str(archive)]).exit_code == 0
    # Re-pack with one byte of the issued PDF changed.
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive, "r:gz") as src, tarfile.open(damaged, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name.startswith("files/documents/"):
                data = data[:100] + bytes([data[100] ^ 1]) + data[101:]
                victim = member.name
            dst.addfile(member, io.BytesIO(data))
    new_home = tmp_path / "new-machine" / "var"
    refused = runner.invoke(cli, ["restore", str(damaged), "--database-url", fresh_database, "--home", str(new_home)])
    assert refused.exit_code == 1 and "checksum mismatch" in refused.output and victim in refused.output
    assert not new_home.exists()
    if fresh_database.startswith("sqlite"):
        assert not (tmp_path / "new-machine").exists()
        return
    probe = make_engine(fresh_database)
    try:
        assert inspect(probe).get_table_names() == []
    finally:
        probe.dispose()
