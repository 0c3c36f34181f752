"""A case's whole life in a real browser (Playwright driving Debian's Chromium against the app
served by uvicorn), each step by the person who does it in life: the office registers a 28万 case,
the CID head returns it, the office corrects and resubmits it, the CID head approves, the office
issues an order, the bank's liaison acknowledges (ticking it in the inbox) and reports, the office
accepts the report (ticking it in the list) and closes the case — and the dashboard's 结 counts it.
What the flows do between the steps (the escalation's follow-up) is done here by calling the same
domain step, as the flow would."""
import os
import re
from pathlib import Path

import pytest
from sqlmodel import Session

from tests.conftest import ROOT, served_demo_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = ROOT / "artifacts" / "screenshots"
CASE = "JZ-2026-0300"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("/usr/bin/chromium is missing; under CI=true that is a failure (scripts/setup.sh installs it)")
        pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium (scripts/setup.sh installs it)")
    with served_demo_app(tmp_path_factory.mktemp("case-journey")) as served:
        yield served


def follow_up_decisions(env: dict) -> None:
    """What the escalation flow does after a leader's decision (take the case, or return it)."""
    from domain.db import make_engine
    from domain.escalation import service as escalation

    engine = make_engine(env["LIANBAN_DATABASE_URL"])
    with Session(engine) as s:
        for approval_id in escalation.due_follow_ups(session=s):
            escalation.apply_decision(session=s, approval_id=approval_id)
        s.commit()
    engine.dispose()


class Person:
    def __init__(self, chromium, url: str, username: str):
        self.url, self.username = url, username
        self.context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                                            viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(f"{url}/login")
        self.page.get_by_label("用户名").fill(username)
        self.page.get_by_label("密码").fill(f"demo-{username}")
        self.page.get_by_role("button", name="登录").click()
        self.page.wait_for_url(lambda u: "/login" not in u)

    def open(self, path: str):
        self.page.goto(f"{self.url}{path}")
        return self.page

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"case-journey-{name}.png"), full_page=True)


def closed_count(page) -> int:
    return int(page.locator("li.stage-closed .stage-count").inner_text())


def test_a_case_from_registration_through_a_return_to_closed_in_the_browser(served):
    from playwright.sync_api import expect, sync_playwright

    url, env = served
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        office = Person(chromium, url, "office")
        closed_before = closed_count(office.open("/office"))

        # 1. 研: the office registers the case; the CID head's tier, said in words.
        page = office.open("/cases/new")
        page.get_by_label("案件编号").fill(CASE)
        page.get_by_label("涉案金额（元）").fill("28万")
        page.get_by_label("诈骗类型").fill("冒充领导")
        page.get_by_label("受害人姓名").fill("黄某")
        page.get_by_label("受害人电话").fill("13900005678")
        village = page.locator("#f-area option", has_text="熊河村").get_attribute("value")
        page.get_by_label("辖区（县、乡镇或村）").select_option(value=village)
        page.get_by_label("报案时间（北京时间）").fill("2026-11-21T09:30")
        page.get_by_role("button", name="登记", exact=True).click()
        expect(page.get_by_role("heading", name=f"案件 {CASE}")).to_be_visible()
        expect(page.locator("#why-sentence")).to_have_text("涉案金额28.00万元，在20万元（含）至50万元（不含）之间，由刑侦支队长包案")
        office.shot("01-registered")
        case_path = page.url.split(url, 1)[1].split("?")[0]

        # 2. The CID head returns it with a comment.
        leader = Person(chromium, url, "cid_head")
        row = leader.page.locator("tr", has_text=CASE)
        expect(row).to_contain_text("由刑侦支队长包案")
        row.get_by_role("textbox").fill("受害人报案材料不全，请补充后重新呈报")
        leader.shot("02-queue")
        row.get_by_role("button", name="退回").click()
        expect(row).to_contain_text("已退回")
        follow_up_decisions(env)

        # 3. The office corrects the amount and submits it again.
        page = office.open(case_path)
        expect(page.locator("#case-life")).to_contain_text("重新呈报")
        form = page.locator("#resubmit-form")
        form.get_by_label("涉案金额（元）").fill("30万")
        office.shot("03-returned")
        form.get_by_role("button", name="重新呈报").click()
        expect(page.get_by_text("案件已重新呈报领导审批。")).to_be_visible()
        expect(page.locator("#why-sentence")).to_contain_text("涉案金额30.00万元")

        # 4. The CID head approves (the queue shows it again without a reload); the flow's follow-up: 办.
        row = leader.page.locator("tr", has_text=CASE)
        expect(row.get_by_role("button", name="同意")).to_be_visible(timeout=10_000)
        row.get_by_role("button", name="同意").click()
        expect(row).to_contain_text("已同意")
        follow_up_decisions(env)
        page = office.open(case_path)
        expect(page.locator("ol.progress li[aria-current=step]")).to_have_text("办理")

        # 5. The office issues an order for the case to the bank.
        page.get_by_role("link", name="下发指令").click()
        page.get_by_label("指令类型").select_option(label="督办")
        page.get_by_label("指令标题").fill(f"核查{CASE}收款账户开户资料")
        branch = page.locator("#f-addressee_unit_id option", has_text="工商银行荆州分行").get_attribute("value")
        page.get_by_label("接收单位").select_option(value=branch)
        page.get_by_label("办理要求").fill("请核查收款账户的开户资料并反馈。")
        expect(page.get_by_label("关联案件编号（选填）")).to_have_value(CASE)
        page.get_by_role("button", name="下发", exact=True).click()
        expect(page.locator(".flash-ok")).to_contain_text("指令已下发")
        order_path = page.url.split(url, 1)[1].split("?")[0]

        # 6. The liaison ticks it in the inbox and acknowledges, then reports back on its page.
        liaison = Person(chromium, url, "liaison_icbc")
        inbox = liaison.page
        row = inbox.locator("tr", has_text=f"核查{CASE}收款账户开户资料")
        expect(row).to_be_visible()
        row.get_by_role("checkbox").check()
        liaison.shot("04-inbox-ticked")
        inbox.get_by_role("button", name="签收所勾选的指令").click()
        expect(inbox.locator("#batch-title")).to_have_text("办理成功1条，未办理0条")
        liaison.shot("05-acknowledged-together")
        inbox.get_by_role("link", name=f"核查{CASE}收款账户开户资料").click()
        inbox.get_by_label("办理情况").fill("已核查，收款账户系他人冒名开立，资料已报送。")
        inbox.get_by_role("button", name="提交反馈").click()
        expect(inbox.locator(".flash-ok")).to_contain_text("反馈已报送联办")

        # 7. The office ticks the report in the list of reported orders and accepts it.
        page = office.open("/orders?status=reported")
        row = page.locator("#order-results tr", has_text=f"核查{CASE}收款账户开户资料")
        row.get_by_role("checkbox").check()
        page.get_by_label("验收意见（选填，适用于所勾选的每条反馈）").fill("反馈属实，予以验收")
        office.shot("06-reports-ticked")
        page.get_by_role("button", name="验收通过所勾选的反馈").click()
        expect(page.locator("#batch-title")).to_have_text("办理成功1条，未办理0条")
        office.shot("07-accepted-together")
        expect(office.open(order_path).locator(".order-state")).to_contain_text("已验收")

        # 8. 结: the office closes the case, solved, with its result.
        page = office.open(case_path)
        form = page.locator("#close-form")
        form.get_by_label("破案结案").check()
        form.locator("#close-solved_on").fill("2026-11-28")
        form.locator("#close-suspects_caught").fill("2")
        form.locator("#close-recovered_cny").fill("12万")
        form.get_by_role("button", name="结案").click()
        expect(page.get_by_text("案件已结案。")).to_be_visible()
        expect(page.locator("ol.progress li[aria-current=step]")).to_have_text("办结")
        office.shot("08-closed")

        # 9. The dashboard's 结 counts it.
        page = office.open("/office")
        assert closed_count(page) == closed_before + 1
        office.shot("09-dashboard")
        # 10. The auditor reads the same sentence, with the decision record (rule, policy version) open.
        auditor = Person(chromium, url, "auditor")
        page = auditor.open(case_path)
        expect(page.locator("#why-sentence")).to_contain_text("由刑侦支队长包案")
        expect(page.locator("section[aria-labelledby=why-title] details.record")).to_have_attribute("open", "")
        expect(page.locator("section[aria-labelledby=why-title] details.record")).to_contain_text("jingzhou.cid_head")
        auditor.shot("10-auditor-decision-record")
        for person in (office, leader, liaison, auditor):
            assert not person.errors, (person.username, person.errors)
        assert not re.search(r"\bseed\b", office.open(case_path).content())
        chromium.close()
