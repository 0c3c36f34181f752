"""Official PDF documents: numbered without gaps, GB/T 9704 layout with embedded fonts, versioned,
and verifiable on the public page."""
import io
import re
import shutil
import subprocess
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest
from fontTools.pens.recordingPen import RecordingPen
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from sqlmodel import func, select

from domain.audit import service as audit
from domain.db import session_scope
from domain.documents import codes, numbering
from domain.documents import service as documents
from domain.documents.models import Document, DocumentRendition, DocumentSequence
from domain.settings import PROJECT_ROOT, get_settings
from tests.conftest import auth

ARTIFACTS = PROJECT_ROOT / "artifacts" / "documents"
RARE_NAMES = "李䶮、王堃、𠮷田喆、赵珺玥"  # outside FandolFang: Noto Serif CJK SC must draw them
ORDER = {
    "kind": "reverse_audit_order",
    "addressee": "中国工商银行荆州分行",
    "title": "关于对工商银行江陵支行开展涉诈开户倒查的通知",
    "paragraphs": ["你行江陵支行本季度新开借记卡中有27张涉及电信网络诈骗案件，请立即组织倒查。"],
    "measures": [{"measure": "暂停江陵支行新开借记卡业务", "unit": "工商银行荆州分行", "deadline": "2026年11月24日前"}],
    "cc": ["荆州市公安局", "中国人民银行荆州市分行"],
}


@pytest.fixture(autouse=True)
def document_home(tmp_path, monkeypatch):
    """PDFs go under the test's own folder, not ./var."""
    monkeypatch.setattr(get_settings(), "home", tmp_path / "home")
    return tmp_path / "home"


def doc_in(**changes) -> documents.DocumentIn:
    data = {**ORDER, **changes}
    return documents.DocumentIn(kind=data["kind"], addressee=data["addressee"], title=data["title"],
                                paragraphs=data["paragraphs"], cc=data["cc"],
                                measures=[documents.MeasureRow(**m) for m in data["measures"]])


def issue(engine, actor="office", **changes) -> Document:
    with session_scope(engine) as s:
        return documents.issue(session=s, actor=actor, document_in=doc_in(**changes))


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def pdf_text(data: bytes) -> str:
    return compact("".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


def page_one_png(data: bytes, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf = ARTIFACTS / f"{name}.pdf"
    pdf.write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(ARTIFACTS / f"{name}-page1")], check=True)
    return ARTIFACTS / f"{name}-page1.png"


# --- reading the PDF back ---------------------------------------------------------------------

def test_an_issued_order_reads_back_with_its_number_addressee_and_title(client, engine):
    created = client.post("/api/v1/documents", headers=auth("office"), json=ORDER)
    assert created.status_code == 201, created.text
    body = created.json()
    year = datetime.now(timezone.utc).astimezone(__import__("domain.timeutil").timeutil.SHANGHAI).year
    assert body["number"] == f"荆反诈联办〔{year}〕1号" and body["version"] == 1 and body["status"] == "in_force"

    pdf = client.get(body["pdf_url"], headers=auth("auditor"))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["x-content-sha256"] == body["sha256"]
    text = pdf_text(pdf.content)
    for expected in (body["number"], ORDER["addressee"], ORDER["title"], "荆州市打击治理电信网络新型违法犯罪联席会议办公室",
                     "抄送：荆州市公安局，中国人民银行荆州市分行。", "暂停江陵支行新开借记卡业务",
                     codes.display(body["verification_code"])):
        assert compact(expected) in text, expected
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日印发", text)
    assert "—1—" in text  # page number "— 1 —"

    fonts = subprocess.run(["pdffonts", "-"], input=pdf.content, capture_output=True, check=False)
    if fonts.returncode != 0:  # older poppler reads no stdin
        path = Path(get_settings().home) / "check.pdf"
        path.write_bytes(pdf.content)
        fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True)
    rows = fonts.stdout.decode().splitlines()[2:]
    assert rows, "no fonts in the PDF"
    names = [row.split()[0] for row in rows]
    assert any("FandolFang" in n for n in names) and any("FandolSong-Bold" in n for n in names)
    for row in rows:  # columns: name type… encoding emb sub uni object ID
        emb, sub, uni = row.split()[-5:-2]
        assert (emb, sub, uni) == ("yes", "yes", "yes"), row
        assert re.match(r"^[A-Z]{6}\+", row), f"not a subset: {row}"

    png = page_one_png(pdf.content, "reverse_audit_order")
    assert png.stat().st_size > 20_000


def _embedded_coverage(data: bytes) -> tuple[dict[str, set[str]], set[str]]:
    """Per embedded font: the characters it draws with a real glyph (not .notdef, not an empty
    glyph, not one of the slots WeasyPrint invents for characters a font lacks); and every
    character the PDF's text maps to any glyph at all."""
    drawn: dict[str, set[str]] = {}
    mapped: set[str] = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            name = str(font["/BaseFont"])
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            program = next(descriptor[k].get_object().get_data() for k in ("/FontFile3", "/FontFile2", "/FontFile")
                           if k in descriptor)
            tt = TTFont(io.BytesIO(program))
            order = tt.getGlyphOrder()
            glyphs = tt.getGlyphSet()
            for gid, char in _to_unicode(font["/ToUnicode"].get_object().get_data().decode("latin-1")):
                mapped.add(char)
                if 0 < gid < len(order):
                    pen = RecordingPen()
                    glyphs[order[gid]].draw(pen)
                    if pen.value:
                        drawn.setdefault(name, set()).add(char)
    return drawn, mapped


def _to_unicode(cmap: str):
    def text(hexstr: str) -> str:
        return bytes.fromhex(hexstr).decode("utf-16-be")

    for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
        for src, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            yield int(src, 16), text(dst)
    for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.S):
        for lo, hi, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            for offset, gid in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                yield gid, chr(ord(text(dst)) + offset)


def test_every_character_of_the_sample_is_drawn_by_an_embedded_font(engine, city):
    """No tofu: rare name characters fall back from FandolFang to Noto Serif CJK SC, embedded too."""
    sample = f"涉案员工{RARE_NAMES}等人违规开卡，《反电信网络诈骗法》第31条（2026年）：“暂停”。"
    doc = issue(engine, addressee=f"{RARE_NAMES}所在支行", paragraphs=[sample])
    data = (Path(get_settings().home) / doc.pdf_path).read_bytes()
    drawn, mapped = _embedded_coverage(data)
    every = set().union(*drawn.values())
    wanted = {c for c in sample + doc.addressee + doc.number + doc.title if not c.isspace()}
    missing = sorted(wanted - every)
    assert not missing, f"characters without a glyph in any embedded font: {missing}"
    assert mapped <= every | {" ", "\u00a0"}, f"mapped but not drawn (tofu): {sorted(mapped - every)}"
    noto = next(chars for name, chars in drawn.items() if "Noto" in name)
    assert {"䶮", "堃", "𠮷"} <= noto  # the fallback did the work …
    assert "䶮" not in next(chars for name, chars in drawn.items() if "FandolFang" in name)  # … not Fandol
    page_one_png(data, "rare_characters")


# --- numbering ---------------------------------------------------------------------------------

def test_verification_codes_are_random_and_forgive_typing():
    made = {codes.new_code() for _ in range(1000)}
    assert len(made) == 1000 and all(len(c) == 16 and set(c) <= set(codes.ALPHABET) for c in made)
    code = "7KQ2M9XD0AB1CDEF"
    assert codes.display(code) == "7KQ2-M9XD-0AB1-CDEF"
    assert codes.normalise(" 7kq2-m9xd-oab1-cdef ") == code and codes.normalise("7KQ2M9XD0ABLCDEF") == code
    assert codes.normalise("7KQ2M9XD0AB1CDE") is None and codes.normalise("7KQ2M9XD0AB1CDEU") is None


def test_document_numbers_follow_gb_t_9704():
    assert numbering.format_number("荆反诈联办", 2026, 12) == "荆反诈联办〔2026〕12号"
    assert numbering.parse_number("荆反诈联办〔2026〕12号") == ("荆反诈联办", 2026, 12)
    for wrong in ("荆反诈联办〔2026〕012号", "荆反诈联办〔26〕12号", "荆反诈联办[2026]12号", "荆反诈联办〔2026〕第12号"):
        assert numbering.parse_number(wrong) is None, wrong


def test_a_rolled_back_issue_leaves_no_gap(engine, city, document_home):
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with session_scope(engine) as s:
            documents.issue(session=s, actor="office", document_in=doc_in())
            raise Boom
    assert not list(document_home.rglob("*.pdf")), "the rolled-back issue's PDF must be removed"
    doc = issue(engine)
    assert doc.serial == 1 and doc.number.endswith("〕1号")


def test_the_year_in_the_number_is_the_beijing_year(engine, city):
    new_year_beijing = datetime(2026, 12, 31, 16, 30, tzinfo=timezone.utc)  # 2027-01-01 00:30 in Beijing
    with session_scope(engine) as s:
        doc = documents.issue(session=s, actor="office", document_in=doc_in(), now=new_year_beijing)
    assert doc.number == "荆反诈联办〔2027〕1号"
    assert "2027年1月1日" in pdf_text((Path(get_settings().home) / doc.pdf_path).read_bytes())


def test_parallel_issuers_get_serials_without_gaps_or_duplicates(engine, city, database_url, session, document_home):
    """20 threads × 5 issues on PostgreSQL (4 × 5 on SQLite); every 7th attempt rolls back after
    its number was allocated. The committed serials are exactly 1..N."""
    threads, per_thread = (20, 5) if database_url.startswith("postgresql") else (4, 5)
    committed, failures = [], []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    class Abandon(Exception):
        pass

    def worker(index: int) -> None:
        start.wait()
        for attempt in range(per_thread):
            try:
                with session_scope(engine) as s:
                    doc = documents.issue(session=s, actor=f"system:test-{index}",
                                          document_in=doc_in(addressee=f"测试单位{index}-{attempt}"))
                    if (index * per_thread + attempt) % 7 == 3:
                        raise Abandon
                with lock:
                    committed.append(doc.serial)
            except Abandon:
                pass
            except Exception as exc:  # pragma: no cover - reported below
                failures.append(repr(exc))

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert not failures, failures
    n = len(committed)
    assert n > threads * per_thread * 0.8
    assert sorted(committed) == list(range(1, n + 1))
    rows = session.exec(select(Document.serial, Document.number)).all()
    assert sorted(r[0] for r in rows) == list(range(1, n + 1)) and len({r[1] for r in rows}) == n
    assert session.exec(select(DocumentSequence.last_serial)).one() == n
    assert len(list(document_home.rglob("*.pdf"))) == n  # no PDFs left behind by rolled-back issues
    assert audit.verify(session=session).ok


def test_issuing_twice_with_the_same_key_takes_one_number(engine, city, session):
    """A flow retried, restarted, or nudged and swept at once: one document, one number."""
    key = "order:12:reverse_audit_order"
    with session_scope(engine) as s:
        first = documents.issue(session=s, actor="system:flow", document_in=doc_in()).id
    threads = 8
    start = threading.Barrier(threads)
    got, failures = [], []

    def worker() -> None:
        start.wait()
        try:
            with session_scope(engine) as s:
                got.append(documents.issue(session=s, actor="system:flow",
                                           document_in=documents.DocumentIn(**{**doc_in().__dict__,
                                                                               "idempotency_key": key})).id)
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(repr(exc))

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert not failures, failures
    assert len(set(got)) == 1 and first not in got
    assert session.exec(select(DocumentSequence.last_serial)).one() == 2
    assert session.exec(select(func.count()).select_from(Document)).one() == 2


# --- re-rendering and corrections -----------------------------------------------------------------

def test_rerendering_keeps_the_number_and_reproduces_the_pdf(engine, city, session, tmp_path, monkeypatch):
    doc = issue(engine)
    path = Path(get_settings().home) / doc.pdf_path
    original = path.read_bytes()
    path.unlink()
    with session_scope(engine) as s:
        again = documents.rerender(session=s, actor="office", document_id=doc.id)
    assert (again.number, again.verification_code, again.sha256) == (doc.number, doc.verification_code, doc.sha256)
    assert path.read_bytes() == original  # deterministic: the lost file is restored bit for bit

    templates = tmp_path / "templates"
    shutil.copytree(get_settings().document_templates, templates)
    base = templates / "base.html"
    base.write_text(base.read_text(encoding="utf-8").replace("特此通知。", "特此通知！"), encoding="utf-8")
    (templates / "reverse_audit_order.html").write_text(
        (templates / "reverse_audit_order.html").read_text(encoding="utf-8").replace("特此通知。", "特此通知！"),
        encoding="utf-8")
    monkeypatch.setattr(get_settings(), "document_templates", templates)
    with session_scope(engine) as s:
        changed = documents.rerender(session=s, actor="office", document_id=doc.id)
    assert changed.number == doc.number and changed.verification_code == doc.verification_code
    assert changed.sha256 != doc.sha256
    new_pdf = (Path(get_settings().home) / changed.pdf_path).read_bytes()
    assert "特此通知！" in pdf_text(new_pdf)
    with session_scope(engine, reading=True) as s:  # both the first PDF and the re-rendered one verify
        assert documents.match_pdf(session=s, data=original).id == doc.id
        assert documents.match_pdf(session=s, data=new_pdf).id == doc.id
    assert session.exec(select(func.count()).select_from(DocumentRendition)).one() == 2
    assert [e.action for e in audit.history(session=session, entity_type="document", entity_id=doc.id)] == [
        "document.issued", "document.rerendered"]


def test_a_corrected_reissue_is_version_2_and_supersedes_version_1(client, engine, session):
    first = client.post("/api/v1/documents", headers=auth("office"), json=ORDER).json()
    corrected = client.post(f"/api/v1/documents/{first['id']}/corrections", headers=auth("office"),
                            json={**ORDER, "title": ORDER["title"] + "（更正）"})
    assert corrected.status_code == 201, corrected.text
    second = corrected.json()
    assert second["number"] == first["number"] and second["version"] == 2
    assert second["supersedes_id"] == first["id"] and second["verification_code"] != first["verification_code"]
    assert client.get(f"/api/v1/documents/{first['id']}", headers=auth("office")).json()["status"] == "superseded"
    assert session.exec(select(DocumentSequence.last_serial)).one() == 1  # a correction takes no new serial

    again = client.post(f"/api/v1/documents/{first['id']}/corrections", headers=auth("office"), json=ORDER)
    assert again.status_code == 409
    other_kind = client.post(f"/api/v1/documents/{second['id']}/corrections", headers=auth("office"),
                             json={**ORDER, "kind": "circular"})
    assert other_kind.status_code == 422

    pdf = client.get(second["pdf_url"], headers=auth("office")).content
    assert "第2版" in pdf_text(pdf)
    old_page = client.get(f"/verify/{first['verification_code']}")
    assert old_page.status_code == 200 and "已被更正版本替代" in old_page.text
    actions = [e.action for e in audit.history(session=session, entity_type="document", entity_id=first["id"])]
    assert actions == ["document.issued", "document.superseded"]
    assert audit.verify(session=session).ok


def test_a_revoked_document_is_shown_as_revoked(client, engine):
    doc = client.post("/api/v1/documents", headers=auth("office"), json=ORDER).json()
    url = f"/api/v1/documents/{doc['id']}/revoke"
    assert client.post(url, headers=auth("office"), json={"reason": " "}).status_code == 422
    revoked = client.post(url, headers=auth("office"), json={"reason": "主送机关有误"})
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert client.post(f"/api/v1/documents/{doc['id']}/revoke", headers=auth("office"),
                       json={"reason": "再次"}).status_code == 409
    page = client.get(f"/verify/{doc['verification_code']}")
    assert "已撤销" in page.text and "不再作为执行依据" in page.text


def test_who_may_issue_and_read_documents(client, engine, session):
    assert client.post("/api/v1/documents", headers=auth("liaison_icbc"), json=ORDER).status_code == 403
    assert client.post("/api/v1/documents", headers=auth("auditor"), json=ORDER).status_code == 403
    assert client.post("/api/v1/documents", json=ORDER).status_code == 401
    bad = client.post("/api/v1/documents", headers=auth("office"), json={**ORDER, "paragraphs": []})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "paragraphs"
    assert session.exec(select(func.count()).select_from(Document)).one() == 0
    assert session.exec(select(func.count()).select_from(DocumentSequence)).one() == 0  # refused before numbering
    doc = client.post("/api/v1/documents", headers=auth("admin"), json=ORDER).json()
    assert doc["number"].endswith("〕1号")
    assert client.get(doc["pdf_url"], headers=auth("liaison_icbc")).status_code == 403
    assert client.get(doc["pdf_url"], headers=auth("auditor")).status_code == 200


# --- the public verification page -------------------------------------------------------------------

def _csrf(client) -> str:
    page = client.get("/verify")
    assert page.status_code == 200
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_the_verification_page_confirms_a_genuine_pdf_and_rejects_an_altered_or_invented_one(client, engine):
    doc = client.post("/api/v1/documents", headers=auth("office"), json=ORDER).json()
    pdf = client.get(doc["pdf_url"], headers=auth("office")).content

    page = client.get(f"/verify/{doc['verification_code']}")
    assert page.status_code == 200
    for shown in (doc["number"], "倒查通知", ORDER["addressee"], "有效"):
        assert shown in page.text, shown
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", page.text)
    assert ORDER["paragraphs"][0] not in page.text and doc["sha256"] not in page.text  # nothing beyond the face

    typed = codes.display(doc["verification_code"]).lower().replace("0", "o")  # as someone might type it
    assert doc["number"] in client.get("/verify", params={"code": typed}).text
    assert client.get("/verify/INVENTED-code-123").status_code == 404
    assert client.get("/api/v1/verify/INVENTED-code-123").json() == {"found": False}

    token = _csrf(client)
    genuine = client.post("/verify", data={"csrf_token": token}, files={"file": ("doc.pdf", pdf, "application/pdf")})
    assert genuine.status_code == 200 and "核验通过" in genuine.text and doc["number"] in genuine.text
    altered = bytearray(pdf)
    altered[len(altered) // 2] ^= 0x01  # one bit in the middle of the file
    forged = client.post("/verify", data={"csrf_token": token},
                         files={"file": ("doc.pdf", bytes(altered), "application/pdf")})
    assert forged.status_code == 200 and "核验未通过" in forged.text and doc["number"] not in forged.text
    invented = client.post("/verify", data={"csrf_token": token},
                           files={"file": ("x.pdf", b"%PDF-1.7\n% invented\n%%EOF", "application/pdf")})
    assert "核验未通过" in invented.text

    as_json = client.post("/api/v1/verify", files={"file": ("doc.pdf", pdf, "application/pdf")}).json()
    assert as_json["genuine"] is True and as_json["number"] == doc["number"] and as_json["in_force"] is True
    assert client.post("/api/v1/verify", files={"file": ("doc.pdf", bytes(altered), "application/pdf")}).json() == {
        "genuine": False}
    big = b"%PDF-" + b"0" * (6 * 2**20)
    too_big = client.post("/api/v1/verify", files={"file": ("big.pdf", big, "application/pdf")})
    assert too_big.status_code == 413


def test_the_verification_page_is_rate_limited(client, engine):
    from domain.documents.verification import LIMITS

    limit = LIMITS["lookup"][0]
    answers = [client.get(f"/api/v1/verify/guess{i}").status_code for i in range(limit)]
    assert set(answers) == {404}
    blocked = client.get("/verify/guess-after-limit")
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
    assert "过于频繁" in blocked.text


def test_every_kind_renders(engine, city):
    from domain.documents.models import KINDS

    for kind in KINDS:
        doc = issue(engine, kind=kind, title=f"测试{kind}")
        assert doc.number.endswith(f"〕{doc.serial}号")
        assert compact(doc.title) in pdf_text((Path(get_settings().home) / doc.pdf_path).read_bytes())


def test_the_documents_policy_names_the_issuing_body_and_refuses_a_bad_code(tmp_path):
    from policies.loader import PolicyError, load_policy_dir
    from tests.conftest import DEFAULT_POLICY

    policy = load_policy_dir(DEFAULT_POLICY)
    assert policy.documents.issuing_code == "荆反诈联办"
    assert policy.documents.issuing_body == "荆州市打击治理电信网络新型违法犯罪联席会议办公室"
    folder = tmp_path / "policy"
    shutil.copytree(DEFAULT_POLICY, folder)
    path = folder / "documents.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("issuing_code: 荆反诈联办", "issuing_code: 荆反诈联办〔"),
                    encoding="utf-8")
    with pytest.raises(PolicyError) as refused:
        load_policy_dir(folder)
    line = next(i for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if text.startswith("issuing_code"))
    assert refused.value.line == line and "bare code" in refused.value.reason


def test_the_qr_code_on_the_page_links_to_the_verification_page(engine, city):
    """Decodes the QR code from page 1 rendered at 150 dpi (needs the optional zxing-cpp package)."""
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    doc = issue(engine)
    png = page_one_png((Path(get_settings().home) / doc.pdf_path).read_bytes(), "qr_check")
    codes = [r.text for r in zxingcpp.read_barcodes(Image.open(png))]
    assert codes == [f"{get_settings().public_base_url}/verify/{doc.verification_code}"]
