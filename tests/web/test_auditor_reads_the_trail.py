"""The auditor's page: the trail with each entry's before and after in Chinese, refused attempts
marked and filterable, the chain's status, pages, and the same selection as CSV (UTF-8 with BOM)
that Excel opens in Chinese. Others do not see it."""
import csv
import io

from tests.conftest import auth, case_body, unit_id
from tests.web_helpers import signed_in


def some_work(client, engine) -> dict:
    case = client.post("/api/v1/cases", headers=auth("office"), json=case_body(number="AW-1")).json()
    order = client.post("/api/v1/orders", headers=auth("office"), json={
        "kind": "supervision", "addressee_unit_id": unit_id(engine, "bank.icbc.jz"), "title": "核查开户资料",
        "case_id": case["id"]}).json()
    assert client.post(f"/api/v1/orders/{order['id']}/accept", headers=auth("office"), json={}).status_code == 409
    return case


def test_the_auditor_filters_the_trail_and_sees_before_and_after(client, engine, clock):
    some_work(client, engine)
    auditor = signed_in(engine, "auditor")
    page = auditor.get("/audit").text
    assert "审计日志" in page and "案件登记" in page and "下发指令" in page and "操作被拒绝" in page
    assert "13800001234" not in page and "138****1234" in page  # the victim's phone stays masked
    assert 'href="/audit"' in page  # in the auditor's menu
    assert "<form method=\"post\"" not in page.split("<main", 1)[1].split("</main>")[0]  # reads, changes nothing
    refused = auditor.get("/audit?action=refused").text
    assert "共 1 条记录" in refused and "操作被拒绝" in refused
    stage = auditor.get("/audit?action=case.stage_changed").text
    assert "<del>研判</del> → <ins>交办</ins>" in stage  # before and after in the office's words
    bad = auditor.get("/audit?start=2026-12-10&end=2026-12-01&case_number=NOPE")
    assert bad.status_code == 200 and 'id="err-end"' in bad.text and 'id="err-case_number"' in bad.text
    chain = auditor.get("/audit/chain", headers={"HX-Request": "true"}).text
    assert 'id="chain-ok"' in chain and "日志链完整" in chain


def test_the_csv_export_is_the_selection_in_utf8_with_bom(client, engine, clock):
    some_work(client, engine)
    auditor = signed_in(engine, "auditor")
    exported = auditor.get("/audit/export.csv?case_number=AW-1")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert exported.content.startswith("\ufeff".encode()) and "attachment" in exported.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["序号", "时间（北京时间）", "操作人", "操作"]
    assert {"案件登记", "下发指令", "操作被拒绝"} <= {row[3] for row in rows[1:]}
    assert "13800001234" not in exported.content.decode("utf-8-sig")


def test_only_the_auditor_and_the_admin_open_the_trail(client, engine):
    for username in ("office", "cid_head", "liaison_icbc"):
        assert signed_in(engine, username).get("/audit").status_code == 403, username
    assert signed_in(engine, "admin").get("/audit").status_code == 200
