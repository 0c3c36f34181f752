"""Bad input: generated policy files, hostile upload names, amounts in every odd format, and names
in every corner of Unicode. Never a crash; a refusal always says where and why, in Chinese for people;
what is accepted is stored exactly and printed with real glyphs.

(tests/policies/test_policy.py holds hand-written policy mistakes, tests/domain/orders/test_orders.py
the basic upload checks, tests/domain/documents/test_documents.py the rare-character rendering of a
sample; this file generates.)"""
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session, func, select

from domain.cases.models import Case
from domain.orders.models import Evidence
from domain.settings import get_settings
from policies.loader import PolicyError, PolicyStore
from policies.schema import POLICY_FILES
from tests.conftest import DEFAULT_POLICY, auth, case_body, unit_id
from tests.domain.documents.test_documents import _embedded_coverage
from tests import samples

STEMS = sorted(POLICY_FILES)
# The loaded profile (tests/support/hypothesis_profiles.py): 60 examples in CI, more by hand.
FAST = settings()


# --- policy files -------------------------------------------------------------------------------

@pytest.fixture
def policy_folder(tmp_path):
    folder = tmp_path / "policy"
    shutil.copytree(DEFAULT_POLICY, folder)
    return folder


@pytest.fixture
def store(policy_folder):
    return PolicyStore(policy_folder)


def assert_refused_well_or_loaded(store: PolicyStore, folder: Path, stem: str, text: bytes) -> None:
    """Write one file, reload: either the policy loads, or it is refused naming this file, a line
    inside it and a reason — and the policy that was running is still the one running."""
    running = store.current
    (folder / f"{stem}.yaml").write_bytes(text)
    try:
        loaded = store.reload()
    except PolicyError as refused:
        assert refused.file.endswith(f"{stem}.yaml"), refused
        lines = text.count(b"\n") + 1
        assert isinstance(refused.line, int) and 1 <= refused.line <= lines, (refused.line, lines, str(refused))
        assert refused.reason.strip() and f"{stem}.yaml:{refused.line}: " in str(refused)
        assert store.current is running
    else:
        assert loaded is store.current
        shutil.copy(DEFAULT_POLICY / f"{stem}.yaml", folder / f"{stem}.yaml")
        store.reload()
    finally:
        shutil.copy(DEFAULT_POLICY / f"{stem}.yaml", folder / f"{stem}.yaml")


YAML_BITS = st.sampled_from([
    "&a [1, 2]", "*a", "!!int abc", "!!timestamp 2026-13-45", "!!python/object:os.system x", "!!binary 'x'",
    "? [a, b]\n: 1", "{", "[", "]", "'", '"', "\t", ":", "- ", "-", "#", "%YAML 1.1", "---", "...",
    "\x00", "\ufeff", "\u202e", "𠀋", "1e400", ".nan", "-.inf", "0x1F", "0o17", "~", "null", "yes", "NO",
    "99999999999999999999999d", '"99999999999999999999h"', '"-1d"', '"0wd"', '"9999wd"', '"1e5"', '"NaN"',
    '"-0.00"', '"1,000"', "[" * 80, "{a: " * 60,
])


def mutated_text(original: str, data) -> str:
    lines = original.splitlines()
    where = data.draw(st.integers(0, len(lines)), label="line")
    kind = data.draw(st.sampled_from(["replace_value", "insert_line", "replace_line", "delete_line", "truncate"]))
    if kind == "truncate":
        return original[:data.draw(st.integers(0, len(original)))]
    if kind == "delete_line" and where < len(lines):
        return "\n".join(lines[:where] + lines[where + 1:])
    junk = data.draw(st.one_of(YAML_BITS, st.text(max_size=30)), label="junk")
    if kind == "insert_line":
        indent = data.draw(st.sampled_from(["", "  ", "    "]))
        return "\n".join(lines[:where] + [f"{indent}{junk}"] + lines[where:])
    if kind == "replace_line" or where >= len(lines) or ":" not in lines[where]:
        return "\n".join(lines[:where] + [junk] + lines[where + 1:])
    key = lines[where].split(":", 1)[0]
    return "\n".join(lines[:where] + [f"{key}: {junk}"] + lines[where + 1:])


@FAST
@given(data=st.data())
def test_a_mangled_policy_file_is_refused_with_its_line_and_the_running_policy_stays(store, policy_folder, data):
    stem = data.draw(st.sampled_from(STEMS), label="file")
    original = (DEFAULT_POLICY / f"{stem}.yaml").read_text(encoding="utf-8")
    text = mutated_text(original, data)
    encoding = data.draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-16", "gbk"]), label="encoding")
    try:
        raw = text.encode(encoding)
    except UnicodeEncodeError:
        raw = text.encode("utf-8")
    assert_refused_well_or_loaded(store, policy_folder, stem, raw)


def _leaves(value, path=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, path + (index,))
    yield path


ANY_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers(-10**25, 10**25) | st.floats() | st.text(max_size=12)
    | st.sampled_from(["12h", "0s", "-3d", "3wd", "500000.00", "-1", "1e3", "NaN", "Infinity", "cid_head",
                       "mayor", "", "１２h", "２８万"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=6)


@FAST
@given(data=st.data())
def test_any_value_in_any_place_of_a_policy_is_refused_with_its_line_or_accepted(store, policy_folder, data):
    stem = data.draw(st.sampled_from(STEMS), label="file")
    tree = yaml.safe_load((DEFAULT_POLICY / f"{stem}.yaml").read_text(encoding="utf-8"))
    path = data.draw(st.sampled_from(list(_leaves(tree))), label="path")
    action = data.draw(st.sampled_from(["set", "delete", "add_key"]), label="action")
    if not path:
        tree = data.draw(ANY_VALUE) if action == "set" else tree
    else:
        parent = tree
        for part in path[:-1]:
            parent = parent[part]
        if action == "delete":
            del parent[path[-1]]
        elif action == "add_key" and isinstance(parent, dict):
            parent[data.draw(st.text(min_size=1, max_size=8), label="new key")] = data.draw(ANY_VALUE)
        else:
            parent[path[-1]] = data.draw(ANY_VALUE, label="value")
    text = yaml.safe_dump(tree, allow_unicode=True, sort_keys=False)
    assert_refused_well_or_loaded(store, policy_folder, stem, text.encode("utf-8"))


def test_a_refused_reload_through_the_api_keeps_serving_on_the_running_policy(client, policy_folder):
    from domain.policy import current_policy, use_policy_folder

    use_policy_folder(policy_folder)
    try:
        running = current_policy().version
        tiers_version = current_policy().file_version("escalation")
        path = policy_folder / "escalation.yaml"
        path.write_text(path.read_text(encoding="utf-8") + "\nextra: !!python/object:os.system rm\n", encoding="utf-8")
        refused = client.post("/api/v1/policy/reload", headers=auth("admin"))
        assert refused.status_code == 422
        line = len(path.read_text(encoding="utf-8").splitlines())
        assert refused.json()["detail"][0]["loc"][-1].endswith(f"escalation.yaml:{line}")
        assert "未生效" in refused.json()["detail"][0]["msg"]
        assert current_policy().version == running
        created = client.post("/api/v1/cases", headers=auth("office"), json=case_body(amount="280000"))
        assert created.status_code == 201 and created.json()["tier_policy_version"] == tiers_version
    finally:
        use_policy_folder(None)


# --- uploads ------------------------------------------------------------------------------------

PDF = samples.PDF
TRICKY_NAMES = [
    "../../etc/passwd", "../../../../../../etc/passwd.pdf", "/etc/passwd", "/tmp/x.pdf", "C:\\Windows\\win.ini",
    "..\\..\\boot.ini", "\\\\server\\share\\x.pdf", "./.././x.pdf", "....//....//x.pdf", "x.pdf/..", "..", ".",
    "%2e%2e%2fetc%2fpasswd", "x" * 5000 + ".pdf", "回执" * 300 + ".pdf", "a\u202etxt.exe.pdf", "CON", "nul.pdf",
    ".htaccess", "x.pdf;.exe", "x\r\nContent-Type: text/html.pdf", "",
]


@pytest.fixture
def upload_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setattr(get_settings(), "home", home)
    return home


def _tree(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


def test_upload_names_with_path_tricks_write_only_inside_the_evidence_folder(client, engine, session, tmp_path,
                                                                             upload_home):
    order = client.post("/api/v1/orders", headers=auth("office"), json={
        "kind": "supervision", "addressee_unit_id": unit_id(engine, "bank.icbc.jz"), "title": "核查"}).json()
    before = _tree(tmp_path) - _tree(upload_home)
    for index, name in enumerate(TRICKY_NAMES):
        content = PDF + str(index).encode()  # distinct bytes: each is stored, none deduplicated away
        response = client.post(f"/api/v1/orders/{order['id']}/evidence", headers=auth("liaison_icbc"),
                               files={"file": (name, content, "application/pdf")})
        assert response.status_code in (201, 400, 422), (name, response.status_code)  # 400: multipart header too long
        if response.status_code == 201:
            shown = response.json()["filename"]
            assert not any(c in shown for c in "/\\\0\r\n") and shown not in ("", ".", "..") and len(shown) <= 200, shown
            download = client.get(f"/api/v1/evidence/{response.json()['id']}", headers=auth("liaison_icbc"))
            assert download.content == content and "content-type: text/html" not in str(download.headers).lower()
    root = upload_home / "evidence"
    written = _tree(tmp_path) - before
    assert all(p == upload_home or root in p.parents or p == root for p in written), sorted(map(str, written))
    files = [p for p in root.rglob("*") if p.is_file()]
    assert all(p.parent == root / str(order["id"]) and p.name[:64].isalnum() for p in files)
    stored = session.exec(select(func.count()).select_from(Evidence)).one()
    assert stored == len(files) and stored >= len(TRICKY_NAMES) - 2
    assert not Path("/etc/passwd.pdf").exists() and not Path("/tmp/x.pdf").exists()


def test_a_nul_or_newline_in_a_name_never_reaches_the_disk_or_the_header(engine, city, session, upload_home):
    from domain.orders import evidence
    from domain.orders import service as orders

    with Session(engine) as s:
        order = orders.issue(session=s, issued_by="office", kind="supervision",
                             addressee_unit_id=unit_id(engine, "bank.icbc.jz"), title="核查")
        liaison = s.get(type(city["liaison_icbc"]), city["liaison_icbc"].id)
        stored = [evidence.attach(session=s, actor=liaison, order_id=order.id, filename=name,
                                  content_type="application/pdf", data=PDF + name.encode("utf-8", "surrogatepass"))
                  for name in ("a\x00../../x.pdf", "\x00", "b\r\nSet-Cookie: x.pdf", "c\u2028d.pdf")]
        s.commit()
        names = [e.filename for e in stored]
    assert all("\x00" not in n and "\r" not in n and "\n" not in n and "/" not in n for n in names), names
    assert names[1] == "evidence.pdf"  # the server adds the parsed type's extension


def test_sizes_and_types_at_the_boundary(client, engine, session, upload_home, short_order_deadlines):
    """The policy here allows 2048 bytes: exactly 2048 is taken, 2049 refused; types are sniffed."""
    order = client.post("/api/v1/orders", headers=auth("office"), json={
        "kind": "supervision", "addressee_unit_id": unit_id(engine, "bank.icbc.jz"), "title": "核查"}).json()
    url = f"/api/v1/orders/{order['id']}/evidence"

    def send(name, data, content_type):
        return client.post(url, headers=auth("liaison_icbc"), files={"file": (name, data, content_type)})

    exact = send("a.pdf", samples.pdf(2048), "application/pdf")
    assert exact.status_code == 201, exact.text
    over = send("b.pdf", samples.pdf(2049), "application/pdf")
    assert over.status_code == 422 and "文件过大" in over.json()["detail"][0]["msg"]
    refused = {
        "html as pdf": ("x.pdf", b"<html><script>alert(1)</script>", "application/pdf"),
        "svg": ("x.svg", b"<svg onload=alert(1)>", "image/svg+xml"),
        "html": ("x.html", b"<html></html>", "text/html"),
        "zip": ("x.zip", b"PK\x03\x04", "application/zip"),
        "pdf declared png": ("x.png", b"%PDF-1.4", "image/png"),
        "png declared jpeg": ("x.jpg", b"\x89PNG\r\n\x1a\n", "image/jpeg"),
        "no type": ("x", b"%PDF-1.4", ""),
        "type with params": ("x.pdf", b"MZ", "application/pdf; charset=binary"),
    }
    for label, (name, data, content_type) in refused.items():
        response = send(name, data, content_type)
        assert response.status_code == 422, label
        assert "只接受" in response.json()["detail"][0]["msg"], label
    assert send("p.png", samples.PNG, "image/png").status_code == 201
    assert session.exec(select(func.count()).select_from(Evidence)).one() == 2
    assert len([p for p in (upload_home / "evidence").rglob("*") if p.is_file()]) == 2


# --- amounts ------------------------------------------------------------------------------------

ACCEPTED = {
    "280000": "280000.00", "280000.5": "280000.50", "280,000.00": "280000.00", "２８００００": "280000.00",
    "２８０，０００．００": "280000.00", "28万": "280000.00", "28万元": "280000.00", "２８万元": "280000.00",
    "2.8万": "28000.00", "28.12万": "281200.00", "28萬": "280000.00", "0.01亿": "1000000.00", "¥280000": "280000.00",
    "￥280,000元": "280000.00", " 280000 ": "280000.00", "280 000": "280000.00", "+280000": "280000.00",
    "10000000000.00": "10000000000.00",
}
REFUSED = {
    "-280000": "必须大于零", "0": "必须大于零", "-28万": "必须大于零", "NaN": "不是数字", "nan": "不是数字",
    "inf": "不是数字", "-Infinity": "不是数字", "1e5": "不是数字", "2.8E5": "不是数字", "0x10": "不是数字",
    "1_000": "不是数字", "二十八万": "不是数字", "28万5千": "不是数字", "٢٨٠٠٠٠": "不是数字", "28万万": "不是数字",
    "": "不能为空", "  ": "不能为空",
    "28.000,50": "分隔符有歧义", "2,80,000": "分隔符有歧义", "280,50": "分隔符有歧义",
    "280000.001": "最多 2 位小数", "28.1234567万": "最多 2 位小数",
    "10000000000.01": "超过", "9" * 40: "超过", "1" + "0" * 400: "超过",
}


def test_amounts_in_every_odd_format(client, session):
    for index, (raw, expected) in enumerate(ACCEPTED.items()):
        response = client.post("/api/v1/cases", headers=auth("office"), json=case_body(number=f"AM-{index}", amount=raw))
        assert response.status_code == 201, (raw, response.text)
        assert response.json()["amount_cny"] == expected, raw
    for raw, reason in REFUSED.items():
        response = client.post("/api/v1/cases", headers=auth("office"), json=case_body(number="AM-X", amount=raw))
        assert response.status_code == 422, (raw, response.status_code)
        detail = response.json()["detail"][0]
        assert detail["loc"] == ["body", "amount_cny"] and reason in detail["msg"], (raw, detail["msg"])
    # JSON numbers, including the ones JSON itself cannot say exactly.
    for number, status in ((280000, 201), (280000.5, 201), (10**30, 422), (1e300, 422), (-1, 422), (True, 422)):
        response = client.post("/api/v1/cases", headers=auth("office"),
                               json=case_body(number=f"AM-J{number!r}", amount=number))
        assert response.status_code == status, (number, response.text)
    assert session.exec(select(func.count()).select_from(Case)).one() == len(ACCEPTED) + 2


def test_an_absurd_amount_held_is_refused_not_a_server_error(client, engine, session):
    """The amount a bank reports as stopped has no policy ceiling: 10^20 yuan once overflowed the
    64-bit fen column (a 500 on PostgreSQL)."""
    bank = unit_id(engine, "bank.icbc.jz")
    for amount in ("1" + "0" * 20, "9" * 30, "1e30"):
        started = client.post("/api/v1/processes/stop-payment", headers=auth("office"), json={
            "bank_unit_id": bank, "account_number": "6222020200112233445", "amount_cny": amount})
        assert started.status_code == 422 and started.json()["detail"][0]["loc"][-1] == "amount_cny", started.text
    order = client.post("/api/v1/orders", headers=auth("office"), json={
        "kind": "stop_payment", "addressee_unit_id": bank, "title": "紧急止付"}).json()
    assert client.post(f"/api/v1/orders/{order['id']}/acknowledge", headers=auth("liaison_icbc")).status_code == 200
    for amount in ("1" + "0" * 20, "NaN", "28.000,50"):
        report = client.post(f"/api/v1/orders/{order['id']}/report", headers=auth("liaison_icbc"),
                             json={"text": "已止付", "amount_cny": amount})
        assert report.status_code == 422 and "金额" in report.json()["detail"][0]["msg"], report.text
    done = client.post(f"/api/v1/orders/{order['id']}/report", headers=auth("liaison_icbc"),
                       json={"text": "已止付", "amount_cny": "２８万元"})
    assert done.status_code == 200 and done.json()["reported_amount_cny"] == "280000.00"


# --- Unicode names --------------------------------------------------------------------------------

NAMES = {
    "extension B": "𠀋𠮷𡈼",
    "extension A": "李䶮",
    "combining marks": "Zoe\u0308 Jose\u0301",
    "decomposed hangul": "\u1112\u1161\u11ab",
    "right-to-left": "محمد عبد الله",
    "mixed direction": "王 محمد 3",
    "bidi override": "张\u202e三丰",
    "zero-width": "张\u200b三\u200d丰\ufeff",
    "emoji with joiner": "李👨\u200d👩\u200d👧",
    "variation selector": "葛\U000E0100",
    "very long": "欧阳" * 50,
}


def test_unicode_names_are_stored_exactly(client, engine):
    for index, (label, name) in enumerate(NAMES.items()):
        response = client.post("/api/v1/cases", headers=auth("office"),
                               json=case_body(number=f"U-{index}", victim_name=name))
        assert response.status_code == 201, (label, response.text)
        with Session(engine) as s:
            assert s.get(Case, response.json()["id"]).victim_name == name, label
        assert response.json()["victim_name"].startswith(name[0]) and name[1:] not in response.json()["victim_name"]


def _pdftotext(data: bytes, tmp_path: Path) -> str:
    pdf = tmp_path / "names.pdf"
    pdf.write_bytes(data)
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True,
                          text=True).stdout


def test_rare_characters_in_names_are_drawn_in_the_pdf(client, engine, upload_home, tmp_path):
    people = "涉案人员：𠀋田一郎、𡈼二、𠝹三、李䶮、王堃、陶喆。"
    doc = client.post("/api/v1/documents", headers=auth("office"), json={
        "kind": "referral_letter", "addressee": "荆州市公安局𠀋田派出所", "title": "关于移送𠀋田一郎等人线索的函",
        "paragraphs": [people, "姓名含组合附加符：Zoe\u0308；从右向左：محمد。"], "measures": [], "cc": []})
    assert doc.status_code == 201, doc.text
    data = client.get(doc.json()["pdf_url"], headers=auth("office")).content
    drawn, mapped = _embedded_coverage(data)
    every = set().union(*drawn.values())
    rare = set("𠀋𡈼𠝹䶮堃喆")
    assert rare <= every, f"no glyph (tofu) for {sorted(rare - every)}"
    assert mapped - {" ", "\u00a0"} <= every | {"\u0308"}, f"mapped but not drawn: {sorted(mapped - every)}"
    text = _pdftotext(data, tmp_path)
    for chars in ("𠀋田一郎", "𡈼二", "𠝹三", "李䶮", "王堃", "陶喆"):
        assert chars in text, chars
    assert "محمد" in text or "دمحم" in text  # pdftotext may give visual order


def test_extension_b_characters_beyond_the_fonts_are_drawn(client, engine, upload_home):
    doc = client.post("/api/v1/documents", headers=auth("office"), json={
        "kind": "referral_letter", "addressee": "荆州市公安局", "title": "关于移送线索的函",
        "paragraphs": ["涉案人员：张𪚥、李𤭢。"], "measures": [], "cc": []}).json()
    drawn, _ = _embedded_coverage(client.get(doc["pdf_url"], headers=auth("office")).content)
    assert {"𪚥", "𤭢"} <= set().union(*drawn.values())
