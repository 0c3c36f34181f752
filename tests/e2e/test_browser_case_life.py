"""The office in a real browser (Playwright driving Debian's Chromium against the app served by
uvicorn): it corrects and resubmits a case its leader returned, then closes a case — first with
every mistake shown beside its field at once, then as the policy wants it — and the case reads 结."""
import os
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session

from tests.conftest import served_demo_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("/usr/bin/chromium is missing; under CI=true that is a failure (scripts/setup.sh installs it)")
        pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium (scripts/setup.sh installs it)")
    with served_demo_app(tmp_path_factory.mktemp("case-life")) as served:
        yield served


def api(url: str, username: str, method: str, path: str, **kwargs) -> dict:
    response = httpx.request(method, f"{url}{path}", headers={"Authorization": f"Bearer demo-{username}"},
                             timeout=30, **kwargs)
    assert response.status_code < 300, response.text
    return response.json()


def returned_case(url: str, env: dict) -> int:
    """A 28万 case the CID head returned, the escalation flow's follow-up done (no flow runs here)."""
    from domain.db import make_engine
    from domain.escalation import service as escalation

    case = api(url, "office", "POST", "/api/v1/cases", json={
        "case_number": "BR-RET-1", "amount_cny": "280000", "fraud_type": "冒充领导", "victim_name": "张三",
        "victim_phone": "13800001234", "area": "jiangling.haoxue", "reported_at": "2026-06-09T10:15:00+08:00"})
    api(url, "cid_head", "POST", f"/api/v1/approvals/{case['approval']['id']}/decision",
        json={"decision": "return", "comment": "经核实金额应为52万，请更正后重新呈报"})
    engine = make_engine(env["LIANBAN_DATABASE_URL"])
    with Session(engine) as s:
        escalation.apply_decision(session=s, approval_id=case["approval"]["id"])
        s.commit()
    engine.dispose()
    return case["id"]


def handed_over_case(url: str) -> int:
    """A 3万 case (below every tier) handed over by an order that was then cancelled: it may close."""
    case = api(url, "office", "POST", "/api/v1/cases", json={
        "case_number": "BR-CLOSE-1", "amount_cny": "30000", "fraud_type": "刷单返利", "victim_name": "李四",
        "victim_phone": "13900001111", "area": "jiangling.haoxue", "reported_at": "2026-06-09T10:15:00+08:00"})
    units = {u["code"]: u["id"] for u in api(url, "office", "GET", "/api/v1/units")}
    order = api(url, "office", "POST", "/api/v1/orders", json={
        "kind": "supervision", "addressee_unit_id": units["bank.icbc.jz"], "title": "核查收款账户",
        "case_id": case["id"]})
    api(url, "office", "POST", f"/api/v1/orders/{order['id']}/cancel", json={"reason": "收款账户已冻结"})
    return case["id"]


def test_the_office_resubmits_a_returned_case_and_then_closes_a_case(served):
    from playwright.sync_api import expect, sync_playwright

    url, env = served
    returned, closing = returned_case(url, env), handed_over_case(url)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{url}/login")
        page.get_by_label("用户名").fill("office")
        page.get_by_label("密码").fill("demo-office")
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(lambda u: "/login" not in u)

        # 重新呈报: the amount corrected, the case goes to the deputy; the returned approval stays listed.
        page.goto(f"{url}/cases/{returned}")
        form = page.locator("#resubmit-form")
        expect(form).to_be_visible()
        form.get_by_label("涉案金额（元）").fill("52万")
        form.get_by_role("button", name="重新呈报").click()
        expect(page.get_by_text("案件已重新呈报领导审批。")).to_be_visible()
        expect(page.locator("#resubmit-form")).to_have_count(0)
        rows = page.locator("section[aria-labelledby=approvals-title] tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_contain_text("经核实金额应为52万")

        # 结案: a solved close without its date and with a bad count shows both errors at once.
        page.goto(f"{url}/cases/{closing}")
        form = page.locator("#close-form")
        form.get_by_label("破案结案").check()
        form.locator("#close-suspects_caught").fill("-1")
        form.get_by_role("button", name="结案").click()
        expect(page.locator("#close-err-solved_on")).to_be_visible()
        expect(page.locator("#close-err-suspects_caught")).to_be_visible()
        form = page.locator("#close-form")
        expect(form.locator("#close-suspects_caught")).to_have_value("-1")  # what was typed stays
        form.get_by_label("未破结案").check()
        form.get_by_label("未破原因或结案说明").fill("受害人主动撤回报案，经核查不构成诈骗")
        form.get_by_role("button", name="结案").click()
        expect(page.get_by_text("案件已结案。")).to_be_visible()
        expect(page.locator("ol.progress li[aria-current=step]")).to_have_text("办结")
        expect(page.locator("#reopen-form")).to_be_visible()
        assert not errors, errors
        chromium.close()
