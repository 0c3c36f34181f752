"""Every procedure, start to finish, in a real browser (Playwright driving Debian's Chromium against
the app served by uvicorn), one journey per process kind, each step by the person who does it in
life: the office starts it on the kind's start page; the member unit's liaison (or the police unit)
acknowledges and reports — amounts, outcomes, evidence files; the office accepts, inspects, records
an appeal and decides it; what the flows do between those steps is done here by the watch's due
query and the kind's advance (no flow runs, no sleeping: the `clock` fixture moves time past a hold
or a freeze). Each journey ends with the process closed, and one of its documents downloaded from
the process page and found genuine on the public verification page. Screenshots of the new pages:
artifacts/screenshots/40-…"""
import re
from datetime import timedelta

import pytest

from tests.e2e.process_kit import CHROMIUM, CHROMIUM_ARGS, Person, process_id_of, served_at_the_test_day


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with served_at_the_test_day(tmp_path_factory.mktemp("browser-processes")) as app:
        yield app
        app.close()


@pytest.fixture(autouse=True)
def on_the_apps_clock(served):
    """Each journey starts on the app's own clock (a journey before may have moved time on)."""
    served.ahead = timedelta(0)


@pytest.fixture(scope="module")
def browser(served):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def start(office: Person, slug: str) -> None:
    office.open("/processes/new")
    office.page.locator(f'a[href="/processes/new/{slug}"]').first.click()
    office.page.wait_for_url(f"**/processes/new/{slug}")


def pick(page, label: str, option: str) -> None:
    """Choose a unit in a unit picker by its name."""
    select = page.get_by_label(label)
    select.select_option(value=select.locator("option", has_text=option).first.get_attribute("value"))


def closed_with(office: Person, process_id: int, outcome: str) -> None:
    from playwright.sync_api import expect

    office.open_process(process_id)
    expect(office.page.locator("ol.progress li[aria-current=step]")).to_have_text("已办结")
    expect(office.page.locator("#process-outcome")).to_have_text(outcome)
    words = office.page.locator("main").inner_text()  # no developer words: no English, no rule ids
    assert not re.findall(r"[A-Za-z]{3,}", words), re.findall(r"[A-Za-z_.]{3,}", words)


def test_stop_payment_from_the_office_to_the_bank_and_the_end_of_the_hold(served, browser, clock):
    from playwright.sync_api import expect

    office = Person(browser, served, "office")
    office.open("/office")
    office.page.get_by_role("link", name="发起流程").first.click()
    expect(office.page.get_by_role("heading", name="发起流程")).to_be_visible()
    office.shot("39-process-kinds")
    start(office, "stop-payment")
    page = office.page
    office.shot("40-start-stop-payment")
    # Every error at once, beside its field; what was typed stays.
    page.get_by_label("账号").fill("6222abc")
    page.get_by_role("button", name="发起紧急止付").click()
    for name in ("bank_unit_id", "amount_cny"):
        expect(page.locator(f"#f-{name}-err")).to_be_visible()
    expect(page.get_by_label("账号")).to_have_value("6222abc")
    office.shot("41-start-stop-payment-errors")
    pick(page, "银行", "工商银行荆州分行")
    page.get_by_label("账号").fill("6222021234567890123")
    page.get_by_label("户名").fill("王某")
    page.get_by_label("金额").fill("28万")
    page.get_by_role("button", name="发起紧急止付").click()
    expect(page.locator(".flash-ok")).to_contain_text("流程已启动")
    process_id = process_id_of(page)

    served.run_flows(clock)  # the order goes to the bank, its document numbered and rendered
    bank = Person(browser, served, "liaison_icbc")
    bank.acknowledge_and_report("紧急止付", "已于接令后3分钟内止付", amount="275000", evidence="止付回执.pdf")
    bank.page.locator("#order-process-link").click()  # from the order to its process
    expect(bank.page.locator("h1")).to_contain_text("紧急止付")
    office.accept_report(process_id, "紧急止付")
    served.run_flows(clock)
    office.open_process(process_id)
    expect(page.locator("ol.progress li[aria-current=step]")).to_have_text("止付中")
    expect(page.locator("dl.facts")).to_contain_text("27.50万元")
    office.shot("42-process-stop-payment-held")

    served.ahead += timedelta(hours=49)  # past the 48-hour hold
    served.run_flows(clock)
    closed_with(office, process_id, "止付期满")
    office.download_and_verify_a_document(process_id)
    assert not office.errors + bank.errors, office.errors + bank.errors


def test_freeze_reported_by_the_bank_renewed_on_its_request_and_expired(served, browser, clock):
    from playwright.sync_api import expect

    office = Person(browser, served, "office")
    start(office, "freeze")
    page = office.page
    pick(page, "银行", "建设银行荆州分行")
    page.get_by_label("账号").fill("6217001234567890")
    page.get_by_label("金额").fill("4949万")
    page.get_by_role("button", name="发起冻结").click()
    process_id = process_id_of(page)
    served.run_flows(clock)
    bank = Person(browser, served, "liaison_ccb")
    bank.acknowledge_and_report("冻结", "已冻结", amount="49490000", evidence="冻结回执.pdf")
    office.accept_report(process_id, "冻结")
    served.run_flows(clock)

    # The bank asks for a renewal on the process page; the office renews; the renewal order goes out.
    bank.open_process(process_id)
    form = bank.page.locator("#action-renewal-request")
    form.get_by_role("button", name="申请续冻").click()
    expect(form.locator("#f-renewal-request-reason-err")).to_be_visible()
    form.get_by_label("续冻理由").fill("案件尚在侦办，资金需继续冻结")
    form.get_by_role("button", name="申请续冻").click()
    expect(bank.page.locator(".flash-ok")).to_contain_text("已登记")
    bank.shot("43-process-freeze-renewal-asked")
    office.open_process(process_id)
    expect(page.locator("dl.facts")).to_contain_text("案件尚在侦办")
    page.locator("#action-renew").get_by_role("button", name="续冻").click()
    served.run_flows(clock)
    bank.acknowledge_and_report("续冻", "已续冻", amount="49490000")
    office.accept_report(process_id, "续冻")
    served.run_flows(clock)
    office.open_process(process_id)
    expect(page.locator("dl.facts")).to_contain_text("4,949.00万元")
    office.shot("44-process-freeze-renewed")

    served.ahead += timedelta(days=400)  # past both periods
    served.run_flows(clock)
    closed_with(office, process_id, "冻结期满")
    office.download_and_verify_a_document(process_id)


def test_reverse_audit_from_fraud_accounts_by_form_and_file_to_the_lifted_suspension(served, browser, clock):
    from playwright.sync_api import expect

    office = Person(browser, served, "office")
    start(office, "reverse-audit")
    page = office.page
    entry = page.locator("#entry-fraud-account-form")
    pick(page, "开户网点", "工商银行江陵支行")
    entry.get_by_label("涉案账号").fill("6222020000000000001")
    entry.get_by_label("开户日期").fill("2026-11-10")
    entry.get_by_label("经办柜员").fill("李某")
    entry.get_by_role("button", name="登记涉案账户").click()
    expect(page.locator(".flash-ok")).to_contain_text("已登记")
    branch = page.locator("#f-fraud-account-opening_unit_id option", has_text="工商银行江陵支行").get_attribute("value")
    rows = ["涉案账号,开户网点,开户日期,经办柜员"] + [f"62220200000000{n:05d},{branch},2026-11-1{n % 9},李某" for n in
                                                    range(2, 29)] + ["123,{},2026-11-11,".format(branch)]
    page.locator("#f-fraud-account-file").set_input_files(files=[{
        "name": "涉案账户.csv", "mimeType": "text/csv", "buffer": "\n".join(rows).encode("utf-8")}])
    page.get_by_role("button", name="上传", exact=True).click()
    results = page.locator("#entry-fraud-account-results")
    expect(results).to_contain_text("共 28 行，已登记 27 行")
    expect(results).to_contain_text("账号须为10至30位数字")
    office.shot("45-start-reverse-audit-upload")
    results.locator("a", has_text="已启动倒查").first.click()
    process_id = process_id_of(page)

    served.run_flows(clock)
    office.open_process(process_id)
    expect(page.locator("#process-orders tbody tr")).to_have_count(4)
    office.shot("46-process-reverse-audit")
    branch_liaison = Person(browser, served, "liaison_icbc_jiangling")
    branch_liaison.acknowledge_and_report("整改报告", "已查明原因并整改，附整改报告", evidence="整改报告.pdf")
    office.accept_report(process_id, "整改报告")
    served.run_flows(clock)
    city = Person(browser, served, "liaison_icbc")
    city.acknowledge_and_report("恢复", "已恢复江陵支行借记卡开卡业务")
    office.accept_report(process_id, "恢复")
    served.run_flows(clock)
    closed_with(office, process_id, "整改完成")
    office.download_and_verify_a_document(process_id)


def test_outlet_suspension_inspected_twice_then_reopened(served, browser, clock):
    from playwright.sync_api import expect

    office = Person(browser, served, "office")
    start(office, "outlet-suspension")
    page = office.page
    pick(page, "营业厅或网点", "中国移动沙市中山营业厅")
    page.get_by_label("停业整顿原因").fill("违规开办涉诈电话卡")
    page.get_by_role("button", name="发起停业整顿").click()
    process_id = process_id_of(page)
    served.run_flows(clock)
    carrier = Person(browser, served, "liaison_cmcc")
    carrier.acknowledge_and_report("停业整顿", "已停业，张贴停业公告", evidence="停业公告.pdf")
    office.accept_report(process_id, "停业整顿")
    served.run_flows(clock)
    carrier.acknowledge_and_report("整改报告（第1轮）", "已整改", evidence="整改报告.pdf")
    office.accept_report(process_id, "整改报告（第1轮）")
    served.run_flows(clock)

    # 验收: failed without a reason → the error beside 验收意见; failed with one → another round.
    office.open_process(process_id)
    form = page.locator("#action-inspection")
    form.get_by_label("否", exact=True).check()
    form.get_by_role("button", name="验收").click()
    expect(page.locator("#f-inspection-findings-err")).to_be_visible()
    office.shot("47-process-suspension-inspection-error")
    form = page.locator("#action-inspection")
    form.get_by_label("验收意见").fill("实名登记制度未落实")
    form.get_by_role("button", name="验收").click()
    served.run_flows(clock)
    carrier.acknowledge_and_report("第2轮", "已落实实名登记", evidence="整改报告2.pdf")
    office.accept_report(process_id, "第2轮")
    served.run_flows(clock)
    office.open_process(process_id)
    form = page.locator("#action-inspection")
    form.get_by_label("是", exact=True).check()
    form.get_by_role("button", name="验收").click()
    served.run_flows(clock)
    carrier.acknowledge_and_report("恢复营业", "已恢复营业")
    office.accept_report(process_id, "恢复营业")
    served.run_flows(clock)
    closed_with(office, process_id, "验收合格，恢复营业")
    office.shot("48-process-suspension-closed")
    office.download_and_verify_a_document(process_id)


def test_insider_referral_to_the_police_and_its_outcome(served, browser, clock):
    from playwright.sync_api import expect

    office = Person(browser, served, "office")
    start(office, "insider-referral")
    page = office.page
    pick(page, "被举报单位", "中国移动沙市中山营业厅")
    page.get_by_label("涉嫌员工姓名").fill("钱某")
    page.get_by_label("线索事实").fill("多次违规为他人批量开办电话卡")
    page.get_by_label("证据材料").fill("开卡记录12条、监控录像")
    pick(page, "接收线索的公安单位", "荆州市公安局刑事侦查支队")
    page.get_by_role("button", name="发起内鬼移送").click()
    process_id = process_id_of(page)
    served.run_flows(clock)
    police = Person(browser, served, "police_cid")
    police.acknowledge_and_report("内鬼线索移送", "经查属实，已刑事拘留", outcome="刑事拘留", evidence="拘留决定书.pdf")
    police.shot("49-order-referral-reported")
    carrier = Person(browser, served, "liaison_cmcc")
    carrier.open("/processes")
    expect(carrier.page.locator("#process-results")).not_to_contain_text("内鬼")  # sealed from the employer
    office.accept_report(process_id, "内鬼线索移送")
    served.run_flows(clock)
    closed_with(office, process_id, "刑事拘留")
    office.download_and_verify_a_document(process_id)


def test_disciplinary_measures_appealed_and_lifted(served, browser, clock):
    from playwright.sync_api import expect

    office = Person(browser, served, "office")
    start(office, "disciplinary")
    page = office.page
    page.get_by_label("当事人姓名").fill("赵某某")
    page.get_by_label("身份证号码").fill("11010519491231002X")
    page.get_by_label("惩戒事由").select_option(value="card_dealing")
    page.get_by_label("暂停非柜面业务").check()
    page.get_by_label("限制通话").check()
    page.get_by_label("工商银行荆州分行").check()
    page.get_by_label("中国移动荆州分公司").check()
    office.shot("50-start-disciplinary")
    page.get_by_role("button", name="发起惩戒").click()
    process_id = process_id_of(page)
    expect(page.locator("dl.facts")).to_contain_text("110105****002X")
    served.run_flows(clock)
    bank, carrier = Person(browser, served, "liaison_icbc"), Person(browser, served, "liaison_cmcc")
    bank.acknowledge_and_report("暂停非柜面业务", "已暂停非柜面业务")
    carrier.acknowledge_and_report("限制通话", "已限制通话")
    office.accept_report(process_id, "暂停非柜面业务")
    office.accept_report(process_id, "限制通话")

    office.open_process(process_id)
    page.locator("#action-notice-served").get_by_label("送达日期").fill("2026-12-09")
    page.locator("#action-notice-served").get_by_role("button", name="登记告知书送达").click()
    expect(page.locator("dl.facts")).to_contain_text("已送达")
    page.locator("#action-appeal").get_by_label("申诉理由").fill("本人银行卡系被他人冒用，并非出租")
    page.locator("#action-appeal").get_by_role("button", name="登记申诉").click()
    served.run_flows(clock)
    office.open_process(process_id)
    expect(page.locator("ol.progress li[aria-current=step]")).to_have_text("申诉审查中")
    office.shot("51-process-disciplinary-appeal")
    decision = page.locator("#action-appeal-decision")
    decision.get_by_label("是", exact=True).check()
    decision.get_by_label("决定理由").fill("经核实银行卡系被冒用，申诉成立")
    decision.get_by_role("button", name="决定申诉").click()
    served.run_flows(clock)
    bank.acknowledge_and_report("解除", "已解除")
    carrier.acknowledge_and_report("解除", "已解除")
    office.accept_report(process_id, "暂停非柜面业务措施")
    office.accept_report(process_id, "限制通话措施")
    served.run_flows(clock)
    closed_with(office, process_id, "申诉成立，已解除")
    office.download_and_verify_a_document(process_id)


def test_dissuasion_from_a_warning_by_its_risk_level(served, browser, clock):
    import httpx
    from playwright.sync_api import expect

    feed = httpx.post(f"{served.url}/api/v1/warnings", headers={"Authorization": "Bearer demo-office"}, json={
        "warnings": [{"warning_number": "YJ-BR-1", "area": "shashi.zhongshan.v1", "risk_level": "high",
                      "received_at": "2026-12-09T09:00:00+08:00"}]})
    assert feed.status_code < 300, feed.text  # the warning feed is a system's, not a person's
    office = Person(browser, served, "office")
    office.open("/processes/new/dissuasion?warning_number=YJ-BR-1")
    page = office.page
    expect(page.get_by_label("预警等级")).to_have_value("high")
    page.get_by_label("劝阻对象姓名").fill("孙某某")
    page.get_by_label("联系电话").fill("13800001234")
    office.shot("52-start-dissuasion-from-warning")
    page.get_by_role("button", name="发起劝阻").click()
    process_id = process_id_of(page)
    served.run_flows(clock)
    station = Person(browser, served, "police_station")
    station.acknowledge_and_report("上门劝阻", "已上门劝阻，对象已停止转账", outcome="劝阻成功")
    office.accept_report(process_id, "上门劝阻")
    served.run_flows(clock)
    closed_with(office, process_id, "劝阻成功")
    office.open("/processes?kind=dissuasion")
    office.shot("53-process-list")
    office.download_and_verify_a_document(process_id)
