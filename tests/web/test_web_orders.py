"""The orders pages: the office issues an order from the form (errors next to the field, nothing
typed lost), lists and filters the orders, reviews a report (return with a comment, accept); the
liaison's inbox shows their unit's orders only (live: the poll answers 204 until something
changes), acknowledges in one click and reports back with evidence; another bank's liaison sees
nothing of it, in any list, count or URL; every post needs the CSRF token."""
import re

import pytest
from sqlalchemy import update
from sqlmodel import Session, func, select

from domain.cases.models import Case
from domain.orders.models import Evidence, Order
from domain.settings import get_settings
from tests.conftest import auth, case_body, unit_id
from tests.web_helpers import csrf_token, field_error, htmx_post, input_value, post_form, signed_in
from tests import samples

PDF = samples.PDF


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """Evidence and PDFs go under the test's own folder, not ./var."""
    monkeypatch.setattr(get_settings(), "home", tmp_path / "home")
    return tmp_path / "home"


@pytest.fixture
def office(engine, city):
    return signed_in(engine, "office")


@pytest.fixture
def icbc(engine, city):
    return signed_in(engine, "liaison_icbc")


@pytest.fixture
def ccb(engine, city):
    return signed_in(engine, "liaison_ccb")


def issue(client, engine, code="bank.icbc.jz", kind="supervision", title="核查涉案账户开户资料") -> int:
    response = client.post("/api/v1/orders", headers=auth("office"), json={
        "kind": kind, "addressee_unit_id": unit_id(engine, code), "title": title, "instructions": "请核查并反馈"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _form(engine, **overrides) -> dict:
    return {"kind": "supervision", "addressee_unit_id": str(unit_id(engine, "bank.icbc.jz")),
            "title": "核查涉案账户开户资料", "instructions": "请于三日内核查开户影像资料并反馈。", "case_number": "",
            **overrides}


def textarea(html: str, field: str) -> str | None:
    match = re.search(rf'<textarea id="f-{field}" name="{field}"[^>]*>([^<]*)</textarea>', html)
    return match.group(1) if match else None


def report(browser, order_id: int, *, files=None, **data):
    token = csrf_token(browser, f"/orders/{order_id}")
    return browser.post(f"/orders/{order_id}/report", data={"text": "", **data, "csrf_token": token},
                        files=files or {"file": ("", b"", "application/octet-stream")}, follow_redirects=False)


# ---- the office issues ----

def test_the_office_issues_an_order_from_the_form(office, client, engine, session):
    case_id = client.post("/api/v1/cases", json=case_body(number="JZ-O-1"), headers=auth("office")).json()["id"]
    case_page = office.get(f"/cases/{case_id}")
    assert 'href="/orders/new?case=JZ-O-1"' in case_page.text                 # from the case to an order
    assert input_value(office.get("/orders/new?case=JZ-O-1").text, "case_number") == "JZ-O-1"
    form_page = office.get("/orders/new").text
    assert "紧急止付" in form_page and "督办" in form_page                     # kinds by their Chinese labels
    assert '<optgroup label="中国工商银行">' in form_page                      # the unit tree, grouped
    assert re.search(r'<option value="\d+">　工商银行荆州分行</option>', form_page)  # indented by level
    response = post_form(office, "/orders/new", _form(engine, case_number="JZ-O-1"), page="/orders/new")
    assert response.status_code == 303
    order = session.exec(select(Order)).one()
    assert response.headers["location"] == f"/orders/{order.id}?done=issued"
    assert order.addressee_unit_id == unit_id(engine, "bank.icbc.jz") and order.issued_by == "office"
    assert order.case_id == session.exec(select(Case.id).where(Case.case_number == "JZ-O-1")).one()
    page = office.get(response.headers["location"]).text
    assert "指令已下发" in page and "核查涉案账户开户资料" in page and "工商银行荆州分行" in page
    assert "待签收" in page and "JZ-O-1" in page and "下发指令" in page        # status, case, timeline
    assert "正式文书正在生成" in page                                           # a supervision order has a document
    listed = office.get("/orders").text
    assert "核查涉案账户开户资料" in listed and "共 1 件指令" in listed


@pytest.mark.parametrize("overrides, field, message", [
    ({"addressee_unit_id": ""}, "addressee_unit_id", "请选择接收单位"),
    ({"title": "  "}, "title", "指令标题不能为空"),
    ({"kind": ""}, "kind", "未知的指令类型"),
    ({"case_number": "JZ-NONE"}, "case_number", "案件编号 JZ-NONE 不存在"),
])
def test_a_bad_form_keeps_everything_typed_and_shows_the_error_next_to_the_field(office, engine, session, overrides,
                                                                                 field, message):
    form = _form(engine, **overrides)
    response = post_form(office, "/orders/new", form, page="/orders/new")
    assert response.status_code == 422
    html = response.text
    assert message in field_error(html, field)
    assert re.search(rf'aria-invalid="true" aria-describedby="[^"]*err-{field}"', html)
    assert input_value(html, "title") == form["title"]
    assert input_value(html, "case_number") == form["case_number"]
    assert textarea(html, "instructions") == form["instructions"]
    if form["kind"]:
        assert f'<option value="{form["kind"]}" selected>' in html
    if form["addressee_unit_id"]:
        assert f'<option value="{form["addressee_unit_id"]}" selected>' in html
    assert session.exec(select(func.count()).select_from(Order)).one() == 0


def test_only_the_office_issues(icbc, engine, session):
    assert icbc.get("/orders/new").status_code == 403
    assert post_form(icbc, "/orders/new", _form(engine), page="/inbox").status_code == 403
    assert session.exec(select(func.count()).select_from(Order)).one() == 0


# ---- the liaison's inbox: only their unit's orders ----

def test_the_liaison_sees_the_order_and_another_banks_liaison_does_not(client, engine, icbc, ccb):
    order_id = issue(client, engine)
    below = issue(client, engine, "bank.icbc.jz.jiangling", title="支行自查开户业务")
    inbox = icbc.get("/inbox").text
    assert "核查涉案账户开户资料" in inbox and "支行自查开户业务" in inbox        # their unit and the units below it
    assert "共 2 件未办结指令" in inbox and 'class="tag tag-new"' in inbox and "工商银行江陵支行" in inbox
    assert 'hx-trigger="every 2s"' in inbox
    other = ccb.get("/inbox").text
    assert "核查涉案账户开户资料" not in other and "支行自查开户业务" not in other
    assert "共 0 件未办结指令" in other
    for path in (f"/orders/{order_id}", f"/orders/{below}", f"/orders/{order_id}/pdf", "/inbox?show=all"):
        response = ccb.get(path)
        assert "核查涉案账户开户资料" not in response.text, path
    refused = ccb.get(f"/orders/{order_id}")
    assert refused.status_code == 404 and refused.headers["content-type"].startswith("text/html")
    assert "<h1>未找到</h1>" in refused.text and f"指令 {order_id} 不存在" in refused.text
    assert htmx_post(ccb, f"/orders/{order_id}/acknowledge", {"view": "row"}, page="/inbox").status_code == 404
    token = csrf_token(ccb, "/inbox")
    assert ccb.post(f"/orders/{order_id}/report", data={"text": "已核查", "csrf_token": token},
                    follow_redirects=False).status_code == 404
    assert ccb.get("/orders", follow_redirects=False).headers["location"] == "/inbox"


def test_the_nav_links_each_person_to_their_orders(icbc, office):
    assert '<a href="/inbox" aria-current="page">指令</a>' in icbc.get("/inbox").text
    assert '<a href="/orders" aria-current="page">指令</a>' in office.get("/orders").text
    assert icbc.get("/", follow_redirects=False).headers["location"] == "/inbox"


def test_acknowledging_from_the_inbox_is_one_click_and_swaps_the_row(client, engine, icbc, session):
    order_id = issue(client, engine)
    response = htmx_post(icbc, f"/orders/{order_id}/acknowledge", {"view": "row"}, page="/inbox")
    assert response.status_code == 200
    row = response.text.strip()
    assert row.startswith(f'<tr id="order-{order_id}"') and "已签收" in row and "去反馈" in row
    assert session.get(Order, order_id).status == "acknowledged"
    again = htmx_post(icbc, f"/orders/{order_id}/acknowledge", {"view": "row"}, page="/inbox")
    assert again.status_code == 409 and "不能改为" in again.text and again.text.strip().startswith("<tr")


def test_acknowledging_on_the_order_page_swaps_the_panel_or_comes_back(client, engine, icbc, session):
    first, second = issue(client, engine), issue(client, engine, title="第二条指令")
    panel = htmx_post(icbc, f"/orders/{first}/acknowledge", {}, page=f"/orders/{first}")
    assert panel.status_code == 200 and panel.text.strip().startswith('<div id="order-panel">')
    assert "已签收" in panel.text and 'id="report"' in panel.text                # the report form comes next
    plain = post_form(icbc, f"/orders/{second}/acknowledge", {}, page=f"/orders/{second}")
    assert plain.status_code == 303 and plain.headers["location"] == f"/orders/{second}?done=acknowledged"
    assert session.get(Order, second).status == "acknowledged"


def test_the_inbox_poll_answers_204_until_the_inbox_changes(client, engine, icbc):
    issue(client, engine)
    page = icbc.get("/inbox").text
    version = re.search(r'data-version="([0-9a-f]+)"', page).group(1)
    poll = {"HX-Request": "true"}
    assert icbc.get(f"/inbox/rows?v={version}", headers=poll).status_code == 204
    issue(client, engine, "bank.ccb.jz", title="建行的指令")               # another bank's: nothing changes here
    assert icbc.get(f"/inbox/rows?v={version}", headers=poll).status_code == 204
    issue(client, engine, title="新到的止付指令")
    fresh = icbc.get(f"/inbox/rows?v={version}", headers=poll)
    assert fresh.status_code == 200 and "新到的止付指令" in fresh.text and "建行的指令" not in fresh.text
    assert fresh.text.strip().startswith('<section id="inbox"')
    new_version = re.search(r'data-version="([0-9a-f]+)"', fresh.text).group(1)
    assert new_version != version
    assert icbc.get(f"/inbox/rows?v={new_version}", headers=poll).status_code == 204


def test_overdue_and_escalated_orders_are_marked(client, engine, icbc):
    late, escalated = issue(client, engine, title="超时未签收"), issue(client, engine, title="已挂牌督办")
    with Session(engine) as s:
        s.execute(update(Order).where(Order.id == late).values(overdue_acknowledge=True, reminders=1))
        s.execute(update(Order).where(Order.id == escalated).values(overdue_acknowledge=True, escalated=True,
                                                                    reminders=3))
        s.commit()
    html = icbc.get("/inbox").text
    rows = {m.group(1): m.group(0) for m in re.finditer(r'<tr id="order-(\d+)"[\s\S]*?</tr>', html)}
    assert 'class="new overdue"' in rows[str(late)] and "签收超时" in rows[str(late)]
    assert "挂牌督办" in rows[str(escalated)]


def test_notices_are_shown_in_the_inbox(client, engine, icbc, ccb):
    issue(client, engine, title="有通知的指令")
    assert "新指令：督办「有通知的指令」" in icbc.get("/inbox").text
    assert "有通知的指令" not in ccb.get("/inbox").text


# ---- reporting back with evidence ----

def test_the_liaison_reports_back_with_evidence(client, engine, icbc, office, session, home):
    order_id = issue(client, engine)
    htmx_post(icbc, f"/orders/{order_id}/acknowledge", {}, page="/inbox")
    page = icbc.get(f"/orders/{order_id}").text
    assert 'enctype="multipart/form-data"' in page and 'name="file"' in page
    response = report(icbc, order_id, text="已核查开户影像资料，未发现异常。", files=[
        ("file", ("回执.pdf", PDF, "application/pdf")), ("file", ("现场照片.png", samples.PNG,
                                                              "image/png"))])
    assert response.status_code == 303 and response.headers["location"] == f"/orders/{order_id}?done=reported"
    order = session.get(Order, order_id)
    assert order.status == "reported" and order.report_text == "已核查开户影像资料，未发现异常。"
    evidence = session.exec(select(Evidence).where(Evidence.order_id == order_id).order_by(Evidence.id)).all()
    assert [e.filename for e in evidence] == ["回执.pdf", "现场照片.png"]
    done = icbc.get(response.headers["location"]).text
    assert "反馈已报送联办" in done and "回执.pdf" in done and "等待联办审核" in done
    assert f"{len(PDF)} 字节" in done  # sizes in the page's language, not "Bytes"
    download = office.get(f"/evidence/{evidence[0].id}")
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-disposition"].startswith("attachment;")
    assert signed_in(engine, "liaison_ccb").get(f"/evidence/{evidence[0].id}").status_code == 404


@pytest.mark.parametrize("files, message", [
    ({"file": ("木马.exe", b"MZ\x90\x00", "application/octet-stream")}, "只接受以下类型的文件"),
    ({"file": ("伪装.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")}, "内容须与类型一致"),
    ({"file": ("过大.pdf", b"%PDF-" + b"0" * (11 * 1024 * 1024), "application/pdf")}, "文件过大"),
])
def test_a_refused_file_is_shown_next_to_the_file_field_and_the_text_is_kept(client, engine, icbc, session, home,
                                                                            files, message):
    order_id = issue(client, engine)
    htmx_post(icbc, f"/orders/{order_id}/acknowledge", {}, page="/inbox")
    response = report(icbc, order_id, text="已核查，附回执。", files=files)
    assert response.status_code == 422
    assert message in field_error(response.text, "file")
    assert textarea(response.text, "text") == "已核查，附回执。"
    assert field_error(response.text, "text") is None
    assert session.get(Order, order_id).status == "acknowledged"
    assert session.exec(select(func.count()).select_from(Evidence)).one() == 0
    assert not [f for f in (home / "evidence").rglob("*") if f.is_file()]  # a refused upload writes nothing


def test_a_stop_payment_report_needs_the_amount_held(client, engine, icbc, session):
    order_id = issue(client, engine, kind="stop_payment", title="紧急止付 6222****1234")
    htmx_post(icbc, f"/orders/{order_id}/acknowledge", {}, page="/inbox")
    page = icbc.get(f"/orders/{order_id}").text
    assert 'id="f-amount_cny"' in page
    missing = report(icbc, order_id, text="已止付", amount_cny="")
    assert missing.status_code == 422 and "实际止付/冻结金额" in field_error(missing.text, "amount_cny")
    assert textarea(missing.text, "text") == "已止付"
    done = report(icbc, order_id, text="已止付", amount_cny="15万")
    assert done.status_code == 303
    assert session.get(Order, order_id).reported_amount_fen == 15_000_000
    assert "15.00万元" in icbc.get(f"/orders/{order_id}").text


def test_an_empty_report_keeps_the_amount_and_asks_for_the_file_again(client, engine, icbc, session):
    order_id = issue(client, engine, kind="freeze", title="冻结涉案账户")
    htmx_post(icbc, f"/orders/{order_id}/acknowledge", {}, page="/inbox")
    response = report(icbc, order_id, text=" ", amount_cny="20000", files={"file": ("回执.pdf", PDF, "application/pdf")})
    assert response.status_code == 422
    assert "反馈内容不能为空" in field_error(response.text, "text")
    assert input_value(response.text, "amount_cny") == "20000"
    assert "请重新选择" in field_error(response.text, "file")
    assert session.exec(select(func.count()).select_from(Evidence)).one() == 0


# ---- the office reviews ----

def _reported(client, engine, icbc) -> int:
    order_id = issue(client, engine)
    htmx_post(icbc, f"/orders/{order_id}/acknowledge", {}, page="/inbox")
    assert report(icbc, order_id, text="已核查").status_code == 303
    return order_id


def test_the_office_returns_the_report_with_a_comment_then_accepts_it(client, engine, icbc, office, session):
    order_id = _reported(client, engine, icbc)
    page = office.get(f"/orders/{order_id}").text
    assert 'value="accept"' in page and 'value="return"' in page and 'hx-target="#order-panel"' in page
    path = f"/orders/{order_id}/review"
    no_comment = htmx_post(office, path, {"decision": "return", "comment": " "}, page=f"/orders/{order_id}")
    assert no_comment.status_code == 422 and "退回重办须写明原因" in field_error(no_comment.text, "comment")
    assert session.get(Order, order_id).status == "reported"
    returned = htmx_post(office, path, {"decision": "return", "comment": "缺开户影像资料"}, page=f"/orders/{order_id}")
    assert returned.status_code == 200 and returned.text.strip().startswith('<div id="order-panel">')
    assert "退回重办" in returned.text and "缺开户影像资料" in returned.text
    assert session.get(Order, order_id).status == "returned"
    assert "缺开户影像资料" in icbc.get("/inbox").text                       # the unit's notice
    assert 'id="report"' in icbc.get(f"/orders/{order_id}").text            # and it reports again
    assert report(icbc, order_id, text="已补充影像资料").status_code == 303
    accepted = htmx_post(office, path, {"decision": "accept", "comment": ""}, page=f"/orders/{order_id}")
    assert accepted.status_code == 200 and "已验收" in accepted.text and "反馈已验收" in accepted.text
    assert session.get(Order, order_id).status == "accepted"
    again = htmx_post(office, path, {"decision": "accept"}, page=f"/orders/{order_id}")
    assert again.status_code == 409
    timeline = office.get(f"/orders/{order_id}").text
    for action in ("下发指令", "签收", "已反馈", "退回重办", "已验收"):
        assert action in timeline, action


def test_a_liaison_cannot_review_and_the_office_cannot_acknowledge(client, engine, icbc, office, session):
    order_id = _reported(client, engine, icbc)
    assert htmx_post(icbc, f"/orders/{order_id}/review", {"decision": "accept"}, page="/inbox").status_code == 403
    other = issue(client, engine)
    assert htmx_post(office, f"/orders/{other}/acknowledge", {}, page="/orders").status_code == 403
    assert session.get(Order, order_id).status == "reported" and session.get(Order, other).status == "issued"


def test_the_office_cancels_with_a_reason(client, engine, office, session):
    order_id = issue(client, engine)
    path = f"/orders/{order_id}/cancel"
    refused = htmx_post(office, path, {"reason": ""}, page="/orders")
    assert refused.status_code == 422 and "撤销指令须写明原因" in field_error(refused.text, "reason")
    done = htmx_post(office, path, {"reason": "重复下发"}, page="/orders")
    assert done.status_code == 200 and "已撤销" in done.text and "重复下发" in done.text
    assert session.get(Order, order_id).status == "cancelled"


def test_posts_without_the_csrf_token_are_refused(client, engine, icbc, office, session):
    order_id = issue(client, engine)
    assert icbc.post(f"/orders/{order_id}/acknowledge", data={"view": "row"},
                     headers={"HX-Request": "true"}).status_code == 403
    assert icbc.post(f"/orders/{order_id}/report", data={"text": "x"},
                     files={"file": ("a.pdf", PDF, "application/pdf")}).status_code == 403
    assert office.post(f"/orders/{order_id}/review", data={"decision": "accept"}).status_code == 403
    refused = office.post("/orders/new", data=_form(engine), follow_redirects=False)
    assert refused.status_code == 403 and "页面已过期" in refused.text
    assert session.get(Order, order_id).status == "issued"
    assert session.exec(select(func.count()).select_from(Order)).one() == 1
    assert session.exec(select(func.count()).select_from(Evidence)).one() == 0


# ---- the office's list, the dashboard, the PDF ----

def test_the_office_list_filters_and_pages(client, engine, office):
    ids = [issue(client, engine, title=f"督办指令{i:02d}") for i in range(27)]
    stop = issue(client, engine, "bank.ccb.jz", kind="stop_payment", title="建行紧急止付")
    with Session(engine) as s:
        s.execute(update(Order).where(Order.id == ids[0]).values(overdue_acknowledge=True, escalated=True))
        s.commit()
    first = office.get("/orders").text
    assert "共 28 件指令" in first and "第 1 页，共 2 页" in first and "建行紧急止付" in first
    assert "督办指令00" not in first and "督办指令00" in office.get("/orders?page=2").text
    only_stop = office.get("/orders?kind=stop_payment").text
    assert "共 1 件指令" in only_stop and "建行紧急止付" in only_stop
    assert f'href="/orders/{stop}"' in only_stop
    late = office.get("/orders?overdue=1").text
    assert "共 1 件指令" in late and "督办指令00" in late and "签收超时" in late
    assert "共 1 件指令" in office.get("/orders?escalated=1&open=1").text
    assert "共 0 件指令" in office.get("/orders?status=accepted").text
    partial = office.get("/orders?kind=stop_payment", headers={"HX-Request": "true"}).text
    assert partial.strip().startswith('<section id="order-results"')


def test_the_dashboard_shows_overdue_orders_and_the_units_behind_them(client, engine, office):
    ids = [issue(client, engine, title=f"指令{i}") for i in range(3)] + [issue(client, engine, "bank.ccb.jz")]
    with Session(engine) as s:
        s.execute(update(Order).where(Order.id.in_(ids[:2])).values(overdue_acknowledge=True))
        s.execute(update(Order).where(Order.id == ids[2]).values(status="acknowledged", overdue_report=True,
                                                                 escalated=True))
        s.commit()
    html = office.get("/office").text
    card = html[html.index('id="overdue-orders-title"'):html.index('id="overdue-chart-title"')]
    figures = re.findall(r'<span class="figure[^"]*">(\d+)</span>', card)
    assert figures == ["2", "1", "1"]
    assert "签收超时" in card and "办结超时" in card and "挂牌督办" in card
    chart = html[html.index('id="overdue-chart-title"'):]
    assert "<svg" in chart and "工商银行荆州分行" in chart and "建设银行荆州分行" not in chart
    assert 'class="late-acknowledge"' in chart and 'class="late-report"' in chart


def test_the_order_pdf_is_offered_once_it_exists(client, engine, icbc, ccb, office):
    from domain.db import session_scope
    from domain.orders import documents as order_documents

    order_id = issue(client, engine)
    assert icbc.get(f"/orders/{order_id}/pdf").status_code == 404          # not rendered yet
    with session_scope(engine) as s:
        order_documents.issue_for(session=s, order_id=order_id)
    page = icbc.get(f"/orders/{order_id}").text
    assert f'href="/orders/{order_id}/pdf"' in page
    pdf = icbc.get(f"/orders/{order_id}/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and pdf.headers["content-disposition"].startswith("attachment;")
    assert office.get(f"/orders/{order_id}/pdf").status_code == 200
    assert ccb.get(f"/orders/{order_id}/pdf").status_code == 404


def test_order_pages_have_no_inline_script_or_style(client, engine, icbc, office):
    order_id = _reported(client, engine, icbc)
    for browser, path in ((office, "/orders"), (office, "/orders/new"), (office, f"/orders/{order_id}"),
                          (office, "/office"), (icbc, "/inbox"), (icbc, f"/orders/{order_id}")):
        html = browser.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert "<style" not in html and " style=" not in html, path
        assert not re.search(r"\son[a-z]+=", html), path


def test_the_order_pages_speak_english_too(client, engine, icbc):
    order_id = issue(client, engine, kind="stop_payment")
    icbc.post("/language", data={"lang": "en", "next": "/inbox", "csrf_token": csrf_token(icbc, "/inbox")})
    html = icbc.get("/inbox").text
    assert "Orders inbox" in html and "Emergency stop-payment" in html and "Awaiting acknowledgement" in html
    inbox = html[html.index('<section id="inbox"'):html.index('id="notices-title"')]
    assert "紧急止付" not in inbox and "待签收" not in inbox   # the notices keep the office's own words
    assert "Acknowledge by" in icbc.get(f"/orders/{order_id}").text
