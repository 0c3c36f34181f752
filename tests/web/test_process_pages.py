"""The process pages, derived from the registry: every kind's start form draws its own declared
fields (a tests-only kind too), a form shows every field error at once and keeps what was typed, the
list filters by kind, stage, unit and deadline, the page offers what this person may record now,
and the bank's liaison reaches the process from its order. Through the pages as a browser posts
them (tests/web_helpers.py), on SQLite."""
import io
import re

import pytest
import yaml

from domain.processes import registry
from tests.conftest import unit_id, write_policy
from tests.domain.processes import revisit_kind
from tests.web_helpers import csrf_token, field_error, signed_in

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
ENGLISH_WORD = re.compile(r"\b[A-Za-z]{3,}\b")


def visible_text(html: str) -> str:
    """What a person reads: no tags, scripts, attributes or the language switch."""
    body = html.split("<main", 1)[1].split(">", 1)[1].split("</main>", 1)[0]
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", body, flags=re.S)
    return re.sub(r"<[^>]+>", " ", body)


def post(browser, path: str, data: dict | list, page: str):
    form: dict[str, list[str]] = {}
    for key, value in (data.items() if isinstance(data, dict) else data):
        form.setdefault(key, []).append(value)
    form["csrf_token"] = [csrf_token(browser, page)]
    return browser.post(path, data=form, follow_redirects=False)


@pytest.fixture
def revisit(tmp_path):
    from domain.policy import use_policy_folder

    declared = revisit_kind.register()
    folder = write_policy(tmp_path / "policy")
    for stem in ("processes", "orders"):
        path = folder / f"{stem}.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if stem == "orders":
            data["kinds"][revisit_kind.NAME] = {"acknowledge_within": "1d", "complete_within": "2d",
                                                "remind_every": "1d", "basis": "测试"}
        else:
            data[revisit_kind.NAME] = {"instructions": "请电话回访并反馈。", "basis": "测试"}
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    use_policy_folder(folder)
    yield declared
    use_policy_folder(None)
    revisit_kind.unregister()


def test_every_kind_gets_a_start_page_with_its_own_fields_in_chinese(engine, city):
    office = signed_in(engine, "office")
    chooser = office.get("/processes/new")
    assert chooser.status_code == 200
    for kind in registry.kinds():
        assert f'href="/processes/new/{kind.slug}"' in chooser.text
        page = office.get(f"/processes/new/{kind.slug}")
        assert page.status_code == 200, kind.name
        for f in kind.start_fields:
            assert f'name="{f.name}"' in page.text and f.label_zh in page.text, (kind.name, f.name)
        text = visible_text(page.text)
        english = ENGLISH_WORD.findall(text.replace("Excel", "").replace("CSV", ""))  # the file formats' names
        assert not english, (kind.name, english)
        assert "seed" not in page.text


def test_a_kind_declared_in_a_test_module_gets_its_start_page(revisit, engine, city):
    office = signed_in(engine, "office")
    assert 'href="/processes/new/test-revisit"' in office.get("/processes/new").text
    page = office.get("/processes/new/test-revisit")
    assert page.status_code == 200
    assert "回访单位" in page.text and 'name="unit_id"' in page.text and 'name="note"' in page.text
    started = post(office, "/processes/new/test-revisit", {"unit_id": str(city["liaison_icbc"].unit_id),
                                                          "note": "核实回执"}, "/processes/new/test-revisit")
    assert started.status_code == 303 and started.headers["location"].startswith("/processes/")
    shown = office.get(started.headers["location"]).text
    assert "回访" in shown and "已启动" in shown and "流程已启动" in shown


def test_a_start_form_shows_every_error_at_once_and_keeps_what_was_typed(engine, city):
    office = signed_in(engine, "office")
    response = post(office, "/processes/new/stop-payment", {"bank_unit_id": "", "account_number": "62220212345",
                                                           "amount_cny": "", "case_id": "JZ-NONE"},
                    "/processes/new/stop-payment")
    assert response.status_code == 422
    html = response.text
    assert field_error(html, "f-bank_unit_id-err") is None  # ids are f-<name>-err: look them up directly
    for name in ("bank_unit_id", "amount_cny", "case_id"):
        assert f'id="f-{name}-err"' in html, name
    assert 'value="62220212345"' in html and 'value="JZ-NONE"' in html
    # The kind's own rule, once the form reads: an account number of letters.
    bad = post(office, "/processes/new/stop-payment", {"bank_unit_id": str(unit_id(engine, "bank.icbc.jz")),
                                                      "account_number": "abc", "amount_cny": "28万"},
               "/processes/new/stop-payment")
    assert bad.status_code == 422 and 'id="f-account_number-err"' in bad.text and "10至30位数字" in bad.text
    assert 'value="28万"' in bad.text


def test_the_disciplinary_form_and_page_mask_the_id_number(engine, city):
    office = signed_in(engine, "office")
    form = [("person_name", "赵某某"), ("id_number", "11010519491231002X"), ("ground", "card_dealing"),
            ("measures", "suspend_non_counter"), ("measures", "limit_calls"),
            ("addressee_unit_ids", str(unit_id(engine, "bank.icbc.jz"))),
            ("addressee_unit_ids", str(unit_id(engine, "carrier.cmcc.jz")))]
    started = post(office, "/processes/new/disciplinary", form, "/processes/new/disciplinary")
    assert started.status_code == 303, started.text
    page = office.get(started.headers["location"]).text
    assert "110105****002X" in page and "11010519491231002X" not in page
    facts = page.split("process-facts-title", 1)[1].split("</section>", 1)[0]
    assert "暂停非柜面业务" in facts and "限制通话" in facts and "买卖、出租、出借" in facts, facts
    words = visible_text(page)
    assert not ENGLISH_WORD.findall(words) and "seed" not in page and "processes." not in page, words


def test_the_list_filters_and_a_liaison_sees_only_what_reaches_their_unit(engine, city):
    office = signed_in(engine, "office")
    for slug, data in (("stop-payment", {"bank_unit_id": str(unit_id(engine, "bank.icbc.jz")),
                                         "account_number": "6222021234567890123", "amount_cny": "28万"}),
                       ("outlet-suspension", {"outlet_unit_id": str(unit_id(engine, "carrier.cmcc.jz.shashi")),
                                              "reason": "涉两卡"})):
        assert post(office, f"/processes/new/{slug}", data, f"/processes/new/{slug}").status_code == 303
    stop, outlet = "6222****0123", "中国移动沙市中山营业厅 停业整顿"
    listed = office.get("/processes").text
    assert stop in listed and outlet in listed
    by_kind = office.get("/processes?kind=stop_payment").text
    assert stop in by_kind and outlet not in by_kind
    by_unit = office.get(f"/processes?unit={unit_id(engine, 'carrier.cmcc')}").text
    assert outlet in by_unit and stop not in by_unit
    by_stage = office.get("/processes?stage=started&open_only=1").text
    assert stop in by_stage and outlet in by_stage
    assert "没有符合条件的流程" in office.get("/processes?overdue=1").text
    assert not ENGLISH_WORD.findall(visible_text(listed)), ENGLISH_WORD.findall(visible_text(listed))
    icbc = signed_in(engine, "liaison_icbc")
    assert stop not in icbc.get("/processes").text  # no order reached the bank yet
    assert icbc.get("/processes/new").status_code == 200  # a liaison may report an insider
    assert icbc.get("/processes/new/stop-payment").status_code == 403


def test_fraud_accounts_from_an_excel_file_and_a_reverse_audit_by_hand(engine, city):
    from openpyxl import Workbook

    office = signed_in(engine, "office")
    branch = unit_id(engine, "bank.icbc.jz.jiangling")
    book = Workbook()
    sheet = book.active
    sheet.append(["涉案账号", "开户网点", "开户日期", "经办柜员"])
    sheet.append(["6222020000000000101", branch, "2026-11-10", "李某"])
    sheet.append(["62220200", branch, "2026-11-10", ""])
    sheet.append(["6222020000000000102", unit_id(engine, "bank.icbc"), "2026-11-10", ""])
    data = io.BytesIO()
    book.save(data)
    response = office.post("/processes/new/reverse-audit/fraud-account/upload", files={"file": (
        "涉案账户.xlsx", data.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")},
        data={"csrf_token": csrf_token(office, "/processes/new/reverse-audit")})
    assert response.status_code == 200
    results = response.text.split("entry-fraud-account-results", 1)[-1]
    assert "共 3 行，已登记 1 行" in results, results
    assert "账号须为10至30位数字" in response.text and "开户网点须为银行支行或网点" in response.text
    no_reason = post(office, "/processes/new/reverse-audit", {"branch_unit_id": str(branch), "reason": "",
                                                             "clerks": "李某\n王某"}, "/processes/new/reverse-audit")
    assert no_reason.status_code == 422 and 'id="f-reason-err"' in no_reason.text and "李某\n王某" in no_reason.text
    started = post(office, "/processes/new/reverse-audit", {"branch_unit_id": str(branch), "reason": "群众举报违规开卡",
                                                           "clerks": "李某\n王某"}, "/processes/new/reverse-audit")
    page = office.get(started.headers["location"]).text
    assert "人工启动" in page and "群众举报违规开卡" in page and "李某、王某" in page


def test_the_bank_reaches_the_process_from_its_order_and_asks_for_a_renewal(engine, city):
    from domain.db import session_scope
    from domain.processes import service as processes
    from domain.timeutil import utcnow

    office = signed_in(engine, "office")
    started = post(office, "/processes/new/freeze", {"bank_unit_id": str(unit_id(engine, "bank.ccb.jz")),
                                                    "account_number": "6217001234567890", "amount_cny": "100万"},
                   "/processes/new/freeze")
    process_id = int(started.headers["location"].split("/")[2].split("?")[0])

    def advance():
        with session_scope() as s:
            for due in processes.due(session=s, now=utcnow()):
                processes.advance(session=s, process_id=due)

    advance()
    bank = signed_in(engine, "liaison_ccb")
    page = office.get(f"/processes/{process_id}").text
    order_id = int(re.search(r'href="/orders/(\d+)"', page).group(1))
    assert f'href="/processes/{process_id}"' in bank.get(f"/orders/{order_id}").text
    assert f'href="/processes/{process_id}"' not in signed_in(engine, "liaison_icbc").get("/inbox").text
    post(bank, f"/orders/{order_id}/acknowledge", {}, f"/orders/{order_id}")
    post(bank, f"/orders/{order_id}/report", {"text": "已冻结", "amount_cny": "100万"}, f"/orders/{order_id}")
    post(office, f"/orders/{order_id}/review", {"decision": "accept"}, f"/orders/{order_id}")
    advance()
    shown = bank.get(f"/processes/{process_id}").text
    assert "申请续冻" in shown and 'id="action-renew"' not in shown  # the office renews, the bank asks
    refused = post(bank, f"/processes/{process_id}/renewal-request", {"reason": ""}, f"/processes/{process_id}")
    assert refused.status_code == 422 and 'id="f-renewal-request-reason-err"' in refused.text
    asked = post(bank, f"/processes/{process_id}/renewal-request", {"reason": "案件仍在侦办"}, f"/processes/{process_id}")
    assert asked.status_code == 303
    office_page = office.get(f"/processes/{process_id}").text
    assert "案件仍在侦办" in office_page and 'id="action-renew"' in office_page
    assert "银行申请续冻" in office_page  # the timeline names it in the office's words
    assert signed_in(engine, "liaison_icbc").get(f"/processes/{process_id}").status_code == 404
