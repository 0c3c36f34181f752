"""The orders journey in a real browser (Playwright driving Debian's Chromium against the app served
by uvicorn, with a migrated SQLite database and the demo city), as issue 4 tells it:

the office registers a case; the right leader (the CID head, for 35万) approves it; the office
issues a stop-payment order to ICBC's city branch (after a form error that keeps everything
typed); ICBC's liaison, whose inbox is open, sees it appear without reloading, acknowledges it in
one click, and reports back with the amount held and an evidence file (after a refused file that
keeps the text); the office accepts the report. Plus: CCB's liaison opening ICBC's order by URL gets
the not-found page. Screenshots of the new pages go to artifacts/screenshots/ (2x-…).
"""
import os
import subprocess
import sys
import time

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import ROOT, served_demo_app
from tests.e2e.test_browser import CHROMIUM, TABLET, Person, browser  # noqa: F401 — the module's Chromium
from tests import samples

PDF = samples.PDF
# What the orders flow does for a new order whose kind has a document: number and render its PDF.
RENDER_DOCUMENTS = """
from domain.db import session_scope
from domain.orders import documents
with session_scope() as session:
    for order_id in documents.due(session=session):
        documents.issue_for(session=session, order_id=order_id)
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The app in its own process; also its environment, for what the flows would do meanwhile."""
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("/usr/bin/chromium is missing; under CI=true that is a failure (scripts/setup.sh installs it)")
        pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium (scripts/setup.sh installs it)")
    with served_demo_app(tmp_path_factory.mktemp("browser-orders")) as (url, env):
        yield url, env


def issue_by_api(url: str, unit_code: str, title: str, kind: str = "supervision") -> int:
    units = httpx.get(f"{url}/api/v1/units", headers={"Authorization": "Bearer demo-office"}).json()
    unit = next(u["id"] for u in (units["items"] if isinstance(units, dict) else units) if u["code"] == unit_code)
    response = httpx.post(f"{url}/api/v1/orders", headers={"Authorization": "Bearer demo-office"},
                          json={"kind": kind, "addressee_unit_id": unit, "title": title})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_case_to_order_to_report_to_acceptance(served, browser):  # noqa: F811
    from playwright.sync_api import expect

    url, env = served
    office = Person(browser, url, "office")
    office.sign_in()
    page = office.page

    # 1. The office registers a case of 35万: the CID head's tier.
    page.get_by_role("link", name="登记案件").first.click()
    page.get_by_label("案件编号").fill("JZ-2026-0200")
    page.get_by_label("涉案金额（元）").fill("350000")
    page.get_by_label("诈骗类型").fill("虚假投资理财")
    page.get_by_label("受害人姓名").fill("钱某某")
    page.get_by_label("受害人电话").fill("13512345678")
    village = page.locator("#f-area option", has_text="熊河村").get_attribute("value")
    page.get_by_label("辖区（县、乡镇或村）").select_option(value=village)
    page.get_by_label("报案时间（北京时间）").fill("2026-11-21T09:30")
    page.get_by_role("button", name="登记", exact=True).click()
    expect(page.get_by_role("heading", name="案件 JZ-2026-0200")).to_be_visible()

    # 2. The right leader approves it from the queue.
    leader = Person(browser, url, "cid_head")
    leader.sign_in()
    row = leader.page.locator("tr", has_text="JZ-2026-0200")
    expect(row).to_contain_text("35.00万元")
    row.get_by_role("button", name="同意").click()
    expect(row).to_contain_text("已同意")

    # 3. ICBC's liaison has the inbox open.
    liaison = Person(browser, url, "liaison_icbc")
    liaison.sign_in()
    inbox = liaison.page
    expect(inbox.get_by_role("heading", name="指令收件箱")).to_be_visible()
    expect(inbox.locator("#inbox")).to_contain_text("本单位暂无未办结的指令")
    inbox.evaluate("window.__notReloaded = true")
    liaison.shot("20-liaison-inbox-empty")

    # 4. The office issues a stop-payment order for the case: first without a unit (the error shows
    #    next to the unit picker, nothing typed is lost), then to ICBC's city branch.
    page.get_by_role("link", name="指令", exact=True).click()
    expect(page.get_by_role("heading", name="指令", exact=True)).to_be_visible()
    page.get_by_role("link", name="下发指令").click()
    page.get_by_label("指令类型").select_option(label="紧急止付")
    page.get_by_label("指令标题").fill("紧急止付 工商银行 6222****8848")
    page.get_by_label("关联案件编号（选填）").fill("JZ-2026-0200")
    page.get_by_label("办理要求").fill("请立即对该账户止付，并于30分钟内反馈实际止付金额。")
    page.get_by_role("button", name="下发", exact=True).click()
    expect(page.locator("#err-addressee_unit_id")).to_contain_text("请选择接收单位")
    expect(page.get_by_label("指令标题")).to_have_value("紧急止付 工商银行 6222****8848")
    expect(page.get_by_label("办理要求")).to_have_value("请立即对该账户止付，并于30分钟内反馈实际止付金额。")
    expect(page.get_by_label("关联案件编号（选填）")).to_have_value("JZ-2026-0200")
    office.shot("21-order-form-error")
    branch = page.locator("#f-addressee_unit_id option", has_text="工商银行荆州分行").get_attribute("value")
    page.get_by_label("接收单位").select_option(value=branch)
    page.get_by_role("button", name="下发", exact=True).click()
    issued = time.monotonic()
    expect(page.locator(".flash-ok")).to_contain_text("指令已下发")
    expect(page.locator(".order-state")).to_contain_text("待签收")
    order_path = page.url.split(url, 1)[1].split("?")[0]
    office.shot("22-order-issued")

    # 5. It appears in the liaison's open inbox without a reload, marked new.
    new_row = inbox.locator("tr", has_text="紧急止付 工商银行 6222****8848")
    expect(new_row).to_be_visible(timeout=6000)
    print(f"\nnew order visible in the open inbox {time.monotonic() - issued:.2f} s after it was issued")
    assert inbox.evaluate("window.__notReloaded") is True
    expect(new_row.locator(".tag-new")).to_have_text("新")
    expect(inbox.locator("#inbox-count")).to_contain_text("共 1 件未办结指令")
    liaison.shot("23-liaison-inbox-live")

    # 6. One click acknowledges it; the row says so at once.
    new_row.get_by_role("button", name="签收").click()
    expect(new_row).to_contain_text("已签收")
    expect(new_row.get_by_role("link", name="去反馈")).to_be_visible()
    liaison.shot("24-liaison-acknowledged")

    # 7. The official document (rendered by the flow in production) can be downloaded.
    subprocess.run([sys.executable, "-c", RENDER_DOCUMENTS], env=env, cwd=ROOT, check=True, capture_output=True)
    new_row.get_by_role("link", name="去反馈").click()
    expect(inbox.get_by_role("heading", name="紧急止付 工商银行 6222****8848")).to_be_visible()
    with inbox.expect_download() as download:
        inbox.get_by_role("link", name="下载正式文书（PDF）").click()
    with open(download.value.path(), "rb") as f:
        assert f.read(5) == b"%PDF-"
    assert download.value.suggested_filename.endswith(".pdf")

    # 8. Report back: a refused file shows next to the file field and keeps the text and amount.
    inbox.get_by_label("办理情况").fill("已对尾号8848账户止付，止付金额15万元。")
    inbox.get_by_label("实际止付/冻结金额（元）").fill("150000")
    inbox.get_by_label("上传佐证材料").set_input_files({"name": "说明.txt", "mimeType": "text/plain",
                                                  "buffer": "止付说明".encode()})
    inbox.get_by_role("button", name="提交反馈").click()
    expect(inbox.locator("#err-file")).to_contain_text("只接受以下类型的文件")
    expect(inbox.get_by_label("办理情况")).to_have_value("已对尾号8848账户止付，止付金额15万元。")
    expect(inbox.get_by_label("实际止付/冻结金额（元）")).to_have_value("150000")
    liaison.shot("25-report-file-refused")
    inbox.get_by_label("上传佐证材料").set_input_files({"name": "止付回执.pdf", "mimeType": "application/pdf",
                                                  "buffer": PDF})
    inbox.get_by_role("button", name="提交反馈").click()
    expect(inbox.locator(".flash-ok")).to_contain_text("反馈已报送联办")
    expect(inbox.locator("#order-panel")).to_contain_text("15.00万元")
    expect(inbox.get_by_role("link", name="止付回执.pdf")).to_be_visible()
    liaison.shot("26-liaison-reported")

    # 9. The office reviews and accepts, in one click (the panel is swapped in place).
    office.open(order_path)
    expect(page.locator(".order-state")).to_contain_text("已反馈")
    expect(page.get_by_role("link", name="止付回执.pdf")).to_be_visible()
    office.shot("27-office-review")
    page.get_by_role("button", name="验收通过").click()
    expect(page.locator(".order-state")).to_contain_text("已验收")
    expect(page.locator("#order-panel .flash-ok")).to_contain_text("反馈已验收")
    expect(page.locator(".timeline")).to_contain_text("已验收")
    office.shot("28-office-accepted")

    # 10. Other pages: the office's list and dashboard (with a few late orders), the inbox on a tablet.
    late = [issue_by_api(url, code, f"督办核查 {i}") for i, code in enumerate(
        ["bank.icbc.jz.jiangling", "bank.icbc.jz.jiangling", "carrier.cmcc.jz.shashi", "bank.ccb.jz", "bank.ccb.jz",
         "bank.ccb.jz"])]
    database = create_engine(env["LIANBAN_DATABASE_URL"])
    with database.begin() as connection:  # what the deadline watch would have marked by now
        connection.execute(text("UPDATE orders SET overdue_acknowledge = 1, reminders = 1 "
                                "WHERE id IN (:a, :b, :c, :d)"), {"a": late[0], "b": late[2], "c": late[3], "d": late[4]})
        connection.execute(text("UPDATE orders SET status = 'acknowledged', overdue_report = 1, escalated = 1, "
                                "reminders = 3 WHERE id IN (:a, :b)"), {"a": late[1], "b": late[5]})
    database.dispose()
    office.open("/orders")
    expect(page.locator("#order-results")).to_contain_text("共 7 件指令")
    office.shot("29-office-orders-list")
    page.get_by_label("仅看挂牌督办").check()
    expect(page.locator("#order-results")).to_contain_text("共 2 件指令")  # live filter, no reload
    office.open("/office")
    card = page.locator("section", has=page.locator("#overdue-orders-title"))
    expect(card.locator(".figure")).to_have_text(["4", "2", "2"])
    expect(page.locator("figure.chart svg").nth(1)).to_contain_text("建设银行荆州分行")
    office.shot("30-office-dashboard-overdue-orders")
    office.open(f"/orders/{late[1]}")
    office.shot("31-office-order-escalated")

    tablet = Person(browser, url, "liaison_icbc_jiangling", viewport=TABLET)
    tablet.sign_in()
    expect(tablet.page.locator("#inbox")).to_contain_text("督办核查 0")
    expect(tablet.page.locator("#inbox")).to_contain_text("签收超时")
    tablet.shot("32-liaison-inbox-tablet")

    # 11. Another bank's liaison opening ICBC's order by URL: the not-found page, nothing of the order.
    other = Person(browser, url, "liaison_ccb")
    other.sign_in()
    response = other.page.goto(f"{url}{order_path}")
    assert response.status == 404
    expect(other.page.get_by_role("heading", name="未找到")).to_be_visible()
    expect(other.page.locator("main")).not_to_contain_text("6222")
    expect(other.page.locator("#inbox-count")).to_have_count(0)
    other.shot("33-other-bank-not-found")
    other.open("/inbox")
    expect(other.page.locator("#inbox")).not_to_contain_text("工商银行")
    expect(other.page.locator("#inbox")).to_contain_text("督办核查 3")

    for person in (office, leader, liaison, tablet, other):
        assert [e for e in person.errors if "Content Security Policy" in e or "Refused" in e] == [], person.errors
        person.context.close()
