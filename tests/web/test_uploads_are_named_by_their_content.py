"""Findings 6 and 7 of issue 16: evidence is stored and served under a name the server chooses,
with the extension of the type found by parsing the content; a refused web report leaves no file."""
from urllib.parse import quote

import pytest
from sqlmodel import select

from domain.orders.models import Evidence
from domain.settings import get_settings
from tests import samples
from tests.conftest import auth, unit_id
from tests.web_helpers import csrf_token, signed_in


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setattr(get_settings(), "home", tmp_path / "home")
    return tmp_path / "home"


@pytest.fixture
def order_id(client, engine, home):
    order = client.post("/api/v1/orders", headers=auth("office"), json={
        "kind": "supervision", "addressee_unit_id": unit_id(engine, "bank.icbc.jz"), "title": "核查"}).json()
    assert client.post(f"/api/v1/orders/{order['id']}/acknowledge", headers=auth("liaison_icbc")).status_code == 200
    return order["id"]


def upload(client, order_id, name, data, content_type="application/pdf"):
    return client.post(f"/api/v1/orders/{order_id}/evidence", headers=auth("liaison_icbc"),
                       files={"file": (name, data, content_type)})


@pytest.mark.parametrize("name, served", [("回执.hta", "回执.pdf"), ("setup.exe", "setup.pdf"),
                                          ("回执.pdf.lnk", "回执_pdf.pdf"), ("回执.pdf", "回执.pdf")])
def test_a_stored_file_carries_the_extension_of_its_parsed_type(client, order_id, home, session, name, served):
    response = upload(client, order_id, name, samples.PDF)
    assert response.status_code == 201, response.text
    evidence = session.exec(select(Evidence)).one()
    assert evidence.filename == served and evidence.stored_path.endswith(".pdf")
    download = client.get(f"/api/v1/evidence/{evidence.id}", headers=auth("office"))
    assert download.headers["content-disposition"] == f"attachment; filename*=UTF-8''{quote(served, safe='')}"
    assert download.headers["content-type"].startswith("application/pdf")


@pytest.mark.parametrize("name, data, content_type", [
    ("回执.pdf", b"%PDF-1.4\n<script>not really a pdf</script>", "application/pdf"),
    ("照片.png", b"\x89PNG\r\n\x1a\n" + b"0" * 50, "image/png"),
    ("照片.jpg", b"\xff\xd8\xff\xe0" + b"MZ" * 50, "image/jpeg"),
])
def test_magic_bytes_alone_no_longer_pass_for_a_file_type(client, order_id, home, name, data, content_type):
    response = upload(client, order_id, name, data, content_type)
    assert response.status_code == 422 and "只接受" in response.json()["detail"][0]["msg"]
    assert not (home / "evidence").exists() or not any(p.is_file() for p in (home / "evidence").rglob("*"))


def test_a_refused_web_report_leaves_no_file_behind(engine, city, client, order_id, home, session):
    icbc = signed_in(engine, "liaison_icbc")
    for attempt in range(3):  # the report text is missing: refused after the files were attached
        response = icbc.post(f"/orders/{order_id}/report", data={"text": " ", "csrf_token": csrf_token(icbc, "/inbox")},
                             files=[("file", (f"回执{attempt}.pdf", samples.pdf(1000 + attempt), "application/pdf")),
                                    ("file", ("照片.png", samples.PNG, "image/png"))],
                             follow_redirects=False)
        assert response.status_code == 422
    assert session.exec(select(Evidence)).all() == []
    assert [p for p in (home / "evidence").rglob("*") if p.is_file()] == []
