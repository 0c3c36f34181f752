"""In a real browser (Playwright driving Debian's Chromium against the app served by uvicorn):
the office reveals a victim's phone on the case page with a reason — the number appears in place,
masked again on the next visit — and the auditor filters the trail down to that viewing, sees its
reason (never the number), refused attempts, the chain's status, and downloads the CSV.
Screenshots of the pages go to artifacts/screenshots/ (people-…)."""
import os
import re
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

from tests.conftest import ROOT, served_demo_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = ROOT / "artifacts" / "screenshots"
PHONE = "13912340000"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("/usr/bin/chromium is missing; under CI=true that is a failure (scripts/setup.sh installs it)")
        pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium (scripts/setup.sh installs it)")
    with served_demo_app(tmp_path_factory.mktemp("people")) as served:
        yield served


@pytest.fixture(scope="module")
def case_id(served) -> int:
    url, _ = served
    response = httpx.post(f"{url}/api/v1/cases", headers={"Authorization": "Bearer demo-office"}, timeout=30, json={
        "case_number": "BR-RV-1", "amount_cny": "30000", "fraud_type": "冒充客服", "victim_name": "赵六",
        "victim_phone": PHONE, "area": "jiangling.haoxue", "reported_at": "2026-06-09T10:15:00+08:00"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.fixture
def browser_page(served):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", accept_downloads=True)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        yield page
        assert not errors, errors
        chromium.close()


def sign_in(page, url: str, username: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(f"demo-{username}")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda u: "/login" not in u)


def test_the_office_reveals_a_victims_phone_with_a_reason(served, case_id, browser_page):
    from playwright.sync_api import expect

    url, _ = served
    page = browser_page
    sign_in(page, url, "office")
    page.goto(f"{url}/cases/{case_id}")
    victim = page.locator("#revealed")
    expect(victim).to_contain_text("139****0000")
    page.get_by_text("显示完整信息").click()
    page.get_by_role("button", name="查看完整受害人电话").click()  # no reason yet: said beside the field
    expect(page.locator("#err-reveal-reason")).to_be_visible()
    page.get_by_label("查看事由").fill("电话联系受害人核实转账经过")
    page.get_by_role("button", name="查看完整受害人电话").click()
    expect(victim).to_contain_text(PHONE)
    expect(victim).to_contain_text("审计日志")
    page.screenshot(path=str(SHOTS / "people-case-reveal.png"), full_page=True)
    page.reload()
    expect(page.locator("#revealed")).not_to_contain_text(PHONE)


def test_the_auditor_filters_the_trail_and_exports_it(served, case_id, browser_page):
    from playwright.sync_api import expect

    url, _ = served
    httpx.post(f"{url}/api/v1/cases/{case_id}/reveal", headers={"Authorization": "Bearer demo-office"}, timeout=30,
               json={"reason": "电话联系受害人核实转账经过"})
    page = browser_page
    sign_in(page, url, "auditor")
    page.get_by_role("link", name="审计日志").click()
    expect(page.locator("#chain-ok")).to_contain_text("日志链完整")
    expect(page.locator("#trail-results")).to_contain_text("案件登记")
    page.get_by_label("案件编号").fill("BR-RV-1")
    page.get_by_label("操作", exact=True).select_option("case.identity_revealed")
    results = page.locator("#trail-results")
    expect(page).to_have_url(re.compile(r"case_number=BR-RV-1.*action=case\.identity_revealed|action=case\.identity_revealed.*case_number=BR-RV-1"))
    expect(results).not_to_contain_text("案件登记")  # only the viewings of that case are left
    expect(results).to_contain_text("查看受害人完整电话")
    expect(results).to_contain_text("电话联系受害人核实转账经过")
    expect(results).not_to_contain_text(PHONE)
    page.screenshot(path=str(SHOTS / "people-audit-trail.png"), full_page=True)
    # The link sits in the results htmx swaps on every filter change: read where it points once the
    # results have settled, and fetch it as the signed-in browser would (a click could land on the
    # link being replaced and never start a download).
    export = results.get_by_role("link", name="导出CSV")
    expect(export).to_have_attribute("href", re.compile(r"case_number=BR-RV-1"))
    answer = page.request.get(urljoin(page.url, export.get_attribute("href")))
    assert answer.ok and answer.headers["content-type"].startswith("text/csv")
    data = answer.body()
    assert data.startswith("\ufeff".encode()) and "电话联系受害人核实转账经过" in data.decode("utf-8-sig")
    assert PHONE not in data.decode("utf-8-sig")
    page.get_by_label("案件编号").fill("")
    page.get_by_label("操作", exact=True).select_option("refused")
    expect(page).to_have_url(re.compile(r"action=refused"))
    expect(results).not_to_contain_text("查看受害人完整电话")


def test_the_circulation_page_shows_the_ranking_with_cards_and_listing(served, browser_page):
    from playwright.sync_api import expect

    url, _ = served
    page = browser_page
    sign_in(page, url, "office")
    page.goto(f"{url}/circulation")
    page.get_by_role("button", name="排名并通报").click()
    table = page.locator("section[aria-labelledby=rank-county] table")
    expect(table).to_be_visible()
    expect(table.locator("thead")).to_contain_text("历次黄红牌")
    expect(table.locator("thead")).to_contain_text("挂牌整治")
    expect(table.locator("tbody tr").first).to_be_visible()
    page.screenshot(path=str(SHOTS / "people-circulation-ranking.png"), full_page=True)
