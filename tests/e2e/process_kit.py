"""What the process journeys in the browser share: the app served by uvicorn on its own SQLite
database with the demo city (its clock started at the `clock` fixture's day), a person at their own
Chromium page, the steps people repeat (open an order from the inbox, acknowledge, report back,
accept), the flows' work done in this process (the watch's due query and each kind's advance,
then the documents due), and a downloaded PDF checked on the public verification page."""
import contextlib
import os
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests import samples
from tests.conftest import ORDINARY_WORKDAY, ROOT, served_demo_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = ROOT / "artifacts" / "screenshots"
EVIDENCE_PDF = samples.PDF  # a real, well-formed PDF: uploads are checked by their content


@contextlib.contextmanager
def served_at_the_test_day(folder: Path):
    """The app in its own process whose clock starts at ORDINARY_WORKDAY (the `clock` fixture's)."""
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("/usr/bin/chromium is missing; under CI=true that is a failure (scripts/setup.sh installs it)")
        pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium (scripts/setup.sh installs it)")
    os.environ["LIANBAN_CLOCK_AT"] = ORDINARY_WORKDAY
    try:
        with served_demo_app(folder) as (url, env):
            yield Served(url, env, started=time.monotonic())
    finally:
        os.environ.pop("LIANBAN_CLOCK_AT", None)


class Served:
    """The served app, and the flows' work on its database done here, between people's steps."""

    def __init__(self, url: str, env: dict, started: float):
        from domain.db import make_engine

        self.url, self.env, self.started = url, env, started
        self.engine = make_engine(env["LIANBAN_DATABASE_URL"])
        self.ahead = timedelta(0)  # how far the test moved time past the app's clock

    def now(self) -> datetime:
        """The app's clock: the test day plus the seconds it has been running (plus any jump)."""
        running = timedelta(seconds=time.monotonic() - self.started)
        return datetime.fromisoformat(ORDINARY_WORKDAY) + running + self.ahead

    def run_flows(self, clock) -> None:
        """What the watch and the process flows would do now: advance every due process, then number
        and render every document due, until nothing moves."""
        from domain.db import session_scope, use_engine
        from domain.orders import documents
        from domain.processes import service as processes
        from domain.settings import get_settings

        use_engine(self.engine)
        home = os.environ.get("LIANBAN_HOME")
        os.environ["LIANBAN_HOME"] = self.env["LIANBAN_HOME"]  # the PDFs go where the app reads them
        get_settings.cache_clear()
        try:
            for _ in range(6):
                clock.set(self.now())
                with session_scope(reading=True) as session:
                    due = processes.due(session=session, now=clock.now())
                moved = 0
                for process_id in due:
                    with session_scope() as session:
                        moved += processes.advance(session=session, process_id=process_id) is not None
                with session_scope() as session:
                    for order_id in documents.due(session=session):
                        documents.issue_for(session=session, order_id=order_id)
                if not moved:
                    return
        finally:
            use_engine(None)
            os.environ.pop("LIANBAN_HOME") if home is None else os.environ.__setitem__("LIANBAN_HOME", home)
            get_settings.cache_clear()

    def close(self) -> None:
        self.engine.dispose()


class Person:
    """One person at their own browser page, collecting page errors (CSP violations included)."""

    def __init__(self, browser, served: Served, username: str):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                           timezone_id="Asia/Shanghai", accept_downloads=True)
        self.page = self.context.new_page()
        self.url, self.username, self.errors = served.url, username, []
        # Console errors but the status lines of a form sent back with its errors (422), which are meant.
        self.page.on("console", lambda m: m.type == "error" and "Failed to load resource" not in m.text
                     and self.errors.append(m.text))
        self.page.on("response", lambda r: r.status == 404 and self.errors.append(f"404 {r.url}"))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.sign_in()

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

    # ---- a member unit's side of an order ----

    def open_order_from_inbox(self, title_part: str) -> None:
        from playwright.sync_api import expect

        self.open("/inbox")
        link = self.page.locator("#inbox a", has_text=title_part).first
        expect(link).to_be_visible()
        link.click()
        expect(self.page.locator("#order-panel")).to_be_visible()

    def acknowledge_and_report(self, title_part: str, text: str, *, amount: str | None = None,
                               outcome: str | None = None, evidence: str | None = None) -> None:
        """签收 then 反馈 (with the amount, the outcome and an evidence file when given)."""
        from playwright.sync_api import expect

        self.open_order_from_inbox(title_part)
        page = self.page
        page.locator("#order-actions").get_by_role("button", name="签收").click()
        expect(page.locator("#order-panel")).to_contain_text("已签收。")
        page.get_by_label("办理情况").fill(text)
        if amount is not None:
            page.get_by_label("实际止付/冻结金额（元）").fill(amount)
        if outcome is not None:
            page.get_by_label("处理结果").select_option(label=outcome)
        if evidence is not None:
            page.locator("#f-file").set_input_files(files=[{"name": evidence, "mimeType": "application/pdf",
                                                            "buffer": EVIDENCE_PDF}])
        page.get_by_role("button", name="提交反馈").click()
        expect(page.locator(".flash-ok")).to_contain_text("反馈已报送联办")

    # ---- the office's side ----

    def open_process(self, process_id: int) -> None:
        self.open(f"/processes/{process_id}")

    def accept_report(self, process_id: int, title_part: str) -> None:
        """From the process page: open the order, 验收通过."""
        from playwright.sync_api import expect

        self.open_process(process_id)
        self.page.locator("#process-orders a", has_text=title_part).first.click()
        self.page.get_by_role("button", name="验收通过").click()
        expect(self.page.locator("#order-panel")).to_contain_text("反馈已验收")

    def download_and_verify_a_document(self, process_id: int) -> bytes:
        """The first document of the process's orders, downloaded from its page, checked as genuine on
        the public verification page."""
        from playwright.sync_api import expect

        self.open_process(process_id)
        href = self.page.locator("#process-orders a", has_text="下载公文").first.get_attribute("href")
        response = self.page.request.get(f"{self.url}{href}")  # the link, with this person's cookies
        assert response.status == 200, (response.status, response.text()[:500])
        assert response.headers["content-type"] == "application/pdf"
        data = response.body()
        assert data.startswith(b"%PDF")
        self.open("/verify")
        self.page.locator("#file").set_input_files(files=[{"name": "公文.pdf", "mimeType": "application/pdf",
                                                           "buffer": data}])
        self.page.get_by_role("button", name="核验", exact=True).click()
        expect(self.page.get_by_text("核验通过")).to_be_visible()
        return data


def process_id_of(page) -> int:
    """The process id in the page's address (/processes/<id>)."""
    return int(page.url.split("/processes/", 1)[1].split("?")[0].split("#")[0])
