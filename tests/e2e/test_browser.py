"""The office and leader journeys in a real browser: Playwright driving Debian's Chromium against
the app served by uvicorn (its own process, a migrated SQLite database with the demo city).

The office registers a case (after a typing error the form keeps everything); the CID head, whose
queue is open, sees it appear without reloading and approves it in one click. Screenshots of the
main pages go to artifacts/screenshots/ for a reviewer to look at.
"""
import os
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, served_demo_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = ROOT / "artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
TABLET = {"width": 820, "height": 1180}


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("/usr/bin/chromium is missing; under CI=true that is a failure (scripts/setup.sh installs it)")
        pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium (scripts/setup.sh installs it)")
    with served_demo_app(tmp_path_factory.mktemp("browser")) as (url, _env):
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Person:
    """One person at their own browser (own cookies), collecting console errors (CSP violations)."""

    def __init__(self, browser, url: str, username: str, *, viewport=DESKTOP):
        self.context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
        self.page = self.context.new_page()
        self.url, self.username, self.errors = url, username, []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def sign_in(self) -> None:
        self.page.goto(f"{self.url}/login")
        self.page.get_by_label("用户名").fill(self.username)
        self.page.get_by_label("密码").fill(f"demo-{self.username}")
        self.page.get_by_role("button", name="登录").click()
        self.page.wait_for_url(lambda u: "/login" not in u)

    def open(self, path: str) -> None:
        self.page.goto(f"{self.url}{path}")

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_office_registers_and_the_cid_head_approves_live(app_url, browser):
    from playwright.sync_api import expect

    office = Person(browser, app_url, "office")
    office.open("/login")
    office.shot("01-login")
    office.sign_in()
    expect(office.page.get_by_role("heading", name="工作台")).to_be_visible()
    office.shot("02-office-dashboard")

    leader = Person(browser, app_url, "cid_head")
    leader.sign_in()
    expect(leader.page.get_by_role("heading", name="审批队列")).to_be_visible()
    expect(leader.page.locator("#queue")).to_contain_text("JZ-2026-0002")  # the demo's 28万 case
    leader.page.evaluate("window.__notReloaded = true")
    leader.shot("03-leader-queue-before")

    # The office registers a case of 35万 (the CID head's tier) — first with a typing error.
    page = office.page
    page.get_by_role("link", name="登记案件").first.click()
    page.get_by_label("案件编号").fill("JZ-2026-0100")
    page.get_by_label("涉案金额（元）").fill("35万元整")
    page.get_by_label("诈骗类型").fill("虚假投资理财")
    page.get_by_label("受害人姓名").fill("钱某某")
    page.get_by_label("受害人电话").fill("13512345678")
    village = page.locator("#f-area option", has_text="熊河村").get_attribute("value")
    page.get_by_label("辖区（县、乡镇或村）").select_option(value=village)
    page.get_by_label("报案时间（北京时间）").fill("2026-11-21T09:30")
    page.get_by_role("button", name="登记", exact=True).click()
    amount_error = page.locator("#err-amount_cny")
    expect(amount_error).to_contain_text("不是数字")
    expect(page.get_by_label("涉案金额（元）")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("案件编号")).to_have_value("JZ-2026-0100")     # nothing typed is lost
    expect(page.get_by_label("受害人姓名")).to_have_value("钱某某")
    expect(page.get_by_label("报案时间（北京时间）")).to_have_value("2026-11-21T09:30")
    office.shot("04-register-form-error")
    page.get_by_label("涉案金额（元）").fill("350000")
    page.get_by_role("button", name="登记", exact=True).click()
    registered = time.monotonic()
    expect(page.get_by_role("heading", name="案件 JZ-2026-0100")).to_be_visible()
    expect(page.locator(".flash-ok")).to_contain_text("案件已登记")
    expect(page.locator("#why-sentence")).to_have_text("涉案金额35.00万元，在20万元（含）至50万元（不含）之间，由刑侦支队长包案")
    office.shot("05-case-page-registered")

    # The CID head's open queue shows it without a reload, within the 2 s poll (plus rendering).
    row = leader.page.locator("tr", has_text="JZ-2026-0100")
    expect(row).to_be_visible(timeout=6000)
    appeared = time.monotonic() - registered
    print(f"\nnew approval visible in the open queue {appeared:.2f} s after registration")
    assert leader.page.evaluate("window.__notReloaded") is True
    expect(row).to_contain_text("35.00万元")
    leader.shot("06-leader-queue-live")

    # A comment typed in another row survives the next poll (hx-preserve).
    other = leader.page.locator("tr", has_text="JZ-2026-0002").get_by_role("textbox")
    other.fill("正在核实")

    row.get_by_role("button", name="同意").click()
    expect(row).to_contain_text("已同意")
    expect(row).to_contain_text("由您包案")
    leader.shot("07-leader-approved")
    leader.page.wait_for_timeout(2500)  # a poll or two: the decided case leaves the queue
    expect(leader.page.locator("#queue")).not_to_contain_text("JZ-2026-0100")
    expect(other).to_have_value("正在核实")

    # The office sees the decision in the case's timeline.
    page.reload()
    expect(page.locator(".timeline")).to_contain_text("已同意")
    office.shot("08-case-page-approved")
    office.open("/cases")
    expect(page.locator("#case-results")).to_contain_text("JZ-2026-0100")
    page.get_by_label("案件编号或诈骗类型").fill("0100")
    expect(page.locator("#case-results")).to_contain_text("共 1 件案件")   # live search, no reload
    office.open("/cases")
    office.shot("09-case-list")

    leader.open("/leader/cases")
    leader.shot("10-leader-my-cases")

    admin = Person(browser, app_url, "admin")
    admin.sign_in()
    admin.open("/admin/users")
    expect(admin.page.get_by_role("link", name="cid_head")).to_be_visible()
    admin.shot("11-admin-users")
    admin.page.get_by_role("link", name="cid_head").click()
    admin.shot("12-admin-user-edit")

    office.open("/account/password")
    office.shot("13-password-change")
    office.page.get_by_role("button", name="English").click()
    expect(office.page.get_by_role("heading", name="Change password")).to_be_visible()
    office.open("/office")
    office.shot("14-office-dashboard-english")
    office.page.get_by_role("button", name="中文").click()

    tablet = Person(browser, app_url, "deputy", viewport=TABLET)
    tablet.sign_in()
    expect(tablet.page.locator("#queue")).to_contain_text("JZ-2026-0003")
    tablet.shot("15-leader-queue-tablet")

    for person in (office, leader, admin, tablet):
        assert [e for e in person.errors if "Content Security Policy" in e or "Refused" in e] == [], person.errors
        person.context.close()
