"""Tampering: someone with write access to the database edits, deletes or inserts audit rows by
hand, or someone alters an issued PDF. `lianban audit verify` names the row; the verification page
and its JSON twin reject every altered PDF. (tests/domain/audit/test_audit.py covers the basic edit, delete and
re-hash cases; this file goes column by column and adds insertions and PDF alterations.)"""
import io
import re

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, TextStringObject
from sqlalchemy import text
from sqlmodel import Session, select
from typer.testing import CliRunner

from cli.main import app as cli
from domain.audit import service as audit
from domain.audit.models import AuditEvent
from domain.settings import get_settings
from tests.conftest import auth, case_body

ROWS = 6  # three cases of 28万: each is registered and asks for an approval


@pytest.fixture
def trail(client, engine):
    for i in range(ROWS // 2):
        assert client.post("/api/v1/cases", headers=auth("office"),
                           json=case_body(number=f"TAMPER-{i}", amount="280000")).status_code == 201
    assert verify_cli().exit_code == 0
    return engine


def verify_cli():
    return CliRunner().invoke(cli, ["audit", "verify"])


def broken_at(result, seq: int) -> None:
    assert result.exit_code == 1, result.output
    assert f"BROKEN at entry {seq}:" in result.output, result.output


def row(engine, seq: int) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT * FROM audit_events WHERE seq = :s"), {"s": seq}).mappings().one())


# Every column of a middle row, changed to a plausible other value.
EDITS = {
    "at": "at = at + INTERVAL '1 second'",
    "actor": "actor = 'chief'",
    "action": "action = 'case.closed'",
    "entity_type": "entity_type = 'order'",
    "entity_id": "entity_id = entity_id + 1",
    "before": "before = '{\"stage\":\"closed\"}'",
    "after": "after = replace(after, '28000000', '2800000')",
    "rule": "rule = 'jingzhou.chief'",
    "prev_hash": f"prev_hash = '{'0' * 64}'",
    "hash": f"hash = '{'a' * 64}'",
}


@pytest.mark.parametrize("column", sorted(EDITS))
def test_an_update_of_any_column_is_named(trail, database_url, column):
    edit = EDITS[column]
    if column == "at" and database_url.startswith("sqlite"):
        edit = "at = strftime('%Y-%m-%d %H:%M:%f', at, '+1 second')"
    with trail.begin() as conn:
        changed = conn.execute(text(f"UPDATE audit_events SET {edit} WHERE seq = 3")).rowcount
    assert changed == 1
    broken_at(verify_cli(), 3)


def test_renumbering_a_row_is_named(trail):
    with trail.begin() as conn:
        conn.execute(text("UPDATE audit_events SET seq = 1000 WHERE seq = 3"))
    result = verify_cli()
    broken_at(result, 3)
    assert "missing" in result.output


def test_deleting_a_middle_row_is_named(trail):
    with trail.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 4"))
    broken_at(verify_cli(), 4)


def test_deleting_the_newest_row_is_named(trail):
    with trail.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = :s"), {"s": ROWS})
    broken_at(verify_cli(), ROWS)


def forged(engine, *, seq: int, prev_hash: str) -> dict:
    """A row as a forger who knows the hashing scheme would write it: correctly hashed and linked."""
    with Session(engine) as session:
        at = session.exec(select(AuditEvent.at).where(AuditEvent.seq == 2)).one()
    fields = dict(seq=seq, at=at, actor="forger", action="case.closed", entity_type="case", entity_id=1,
                  before=None, after='{"stage":"closed"}', rule=None, prev_hash=prev_hash)
    return {**fields, "hash": audit._link_hash(**fields)}


def insert(engine, values: dict) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO audit_events (seq, at, actor, action, entity_type, entity_id, before, after, "
                          "rule, prev_hash, hash) VALUES (:seq, :at, :actor, :action, :entity_type, :entity_id, "
                          ":before, :after, :rule, :prev_hash, :hash)"),
                     {**values, "at": values["at"].replace(tzinfo=None)})


def test_a_row_inserted_in_the_middle_is_named(trail):
    """Shift rows 4.. up by one and slip a correctly hashed row in as 4, linked to row 3."""
    with trail.begin() as conn:
        for seq in range(ROWS, 3, -1):
            conn.execute(text("UPDATE audit_events SET seq = :n WHERE seq = :s"), {"n": seq + 1, "s": seq})
    insert(trail, forged(trail, seq=4, prev_hash=row(trail, 3)["hash"]))
    broken_at(verify_cli(), 5)  # the forged row links; the genuine row after it no longer does


def test_a_forged_row_appended_at_the_end_is_named(trail):
    insert(trail, forged(trail, seq=ROWS + 1, prev_hash=row(trail, ROWS)["hash"]))
    result = verify_cli()
    broken_at(result, ROWS + 1)
    assert "added" in result.output


def test_a_row_inserted_beyond_the_end_is_named(trail):
    insert(trail, forged(trail, seq=ROWS + 5, prev_hash=row(trail, ROWS)["hash"]))
    broken_at(verify_cli(), ROWS + 1)


# --- altered PDFs -------------------------------------------------------------------------------

ORDER = {"kind": "supervision_order", "addressee": "中国工商银行荆州分行", "title": "关于核查涉案账户的督办通知",
         "paragraphs": ["请于三个工作日内冻结涉案账户并反馈。"], "measures": [], "cc": []}


def _resaved(pdf: bytes) -> bytes:
    out = io.BytesIO()
    PdfWriter(clone_from=PdfReader(io.BytesIO(pdf))).write(out)
    return out.getvalue()


def _text_changed(pdf: bytes) -> bytes:
    """Change one drawn glyph in the first page's content stream: the text reads differently."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    page = writer.pages[0]
    stream = page.get_contents()
    data = stream.get_data()
    match = re.search(rb"<([0-9a-fA-F]{4,})>\s*Tj|\[<([0-9a-fA-F]{4,})>", data)
    assert match, "no hex text in the content stream"
    start = match.start(1) if match.group(1) else match.start(2)
    first = data[start:start + 4]
    swapped = b"%04x" % ((int(first, 16) + 1) % 0xFFFF)
    stream.set_data(data[:start] + swapped + data[start + 4:])
    page.replace_contents(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _metadata_changed(pdf: bytes) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.add_metadata({"/Title": "荆反诈联办〔2026〕99号"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _incremental_update(pdf: bytes) -> bytes:
    """Every original byte kept, a revision appended after %%EOF (how signed PDFs get 'edited')."""
    writer = PdfWriter(io.BytesIO(pdf), incremental=True)
    writer.pages[0][NameObject("/Forged")] = TextStringObject("yes")
    out = io.BytesIO()
    writer.write(out)
    assert out.getvalue().startswith(pdf)
    return out.getvalue()


ALTERATIONS = {
    "one byte flipped": lambda pdf: pdf[:len(pdf) // 3] + bytes([pdf[len(pdf) // 3] ^ 0x20]) + pdf[len(pdf) // 3 + 1:],
    "re-saved unchanged": _resaved,
    "text changed": _text_changed,
    "metadata changed": _metadata_changed,
    "revision appended": _incremental_update,
    "truncated": lambda pdf: pdf[:-100],
    "trailing byte": lambda pdf: pdf + b"\n",
}


def _csrf(client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/verify").text).group(1)


def test_every_altered_pdf_is_rejected_by_the_page_and_the_api(client, engine, tmp_path, monkeypatch):
    monkeypatch.setattr(get_settings(), "home", tmp_path / "home")
    doc = client.post("/api/v1/documents", headers=auth("office"), json=ORDER).json()
    pdf = client.get(doc["pdf_url"], headers=auth("office")).content
    token = _csrf(client)
    genuine = client.post("/api/v1/verify", files={"file": ("d.pdf", pdf, "application/pdf")}).json()
    assert genuine["genuine"] is True and genuine["number"] == doc["number"]
    for label, alter in ALTERATIONS.items():
        client.app.state.verify_limiter = None  # 14 uploads here; the rate limit has its own test
        altered = alter(pdf)
        assert altered != pdf, label
        if label != "truncated":
            PdfReader(io.BytesIO(altered)).pages[0].extract_text()  # still a readable PDF: a plausible forgery
        answer = client.post("/api/v1/verify", files={"file": ("d.pdf", altered, "application/pdf")})
        assert answer.status_code == 200 and answer.json() == {"genuine": False}, label
        page = client.post("/verify", data={"csrf_token": token},
                           files={"file": ("d.pdf", altered, "application/pdf")})
        assert page.status_code == 200 and "核验未通过" in page.text and doc["number"] not in page.text, label
