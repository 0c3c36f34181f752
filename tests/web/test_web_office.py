"""The office's pages: the dashboard, registering a case (errors next to the field, nothing typed
lost), the case list with search, filters and pages, and a case's timeline and explanation."""
import re

import pytest
from sqlmodel import Session, func, select

from domain.cases.models import Case
from domain.escalation import service as escalation
from tests.conftest import auth, case_body
from tests.web_helpers import field_error, input_value, post_form, signed_in


def _area_id(browser, name: str = "郝穴镇") -> str:
    return re.search(rf'<option value="(\d+)">[^<]*{name}', browser.get("/cases/new").text).group(1)


def _form(browser, **overrides) -> dict:
    return {"case_number": "WEB-1", "amount_cny": "280000.00", "fraud_type": "冒充领导", "victim_name": "张三丰",
            "victim_phone": "13800001234", "area": _area_id(browser), "reported_at": "2026-11-20T09:30", **overrides}


@pytest.fixture
def office(engine, city):
    return signed_in(engine, "office")


def test_registering_a_case_goes_to_its_page_with_the_leader_and_the_reason(office, session):
    response = post_form(office, "/cases/new", _form(office), page="/cases/new")
    assert response.status_code == 303
    case = session.exec(select(Case)).one()
    assert response.headers["location"] == f"/cases/{case.id}?registered=1"
    page = office.get(response.headers["location"]).text
    assert "案件已登记" in page
    assert "28.00万元" in page
    assert "涉案金额28.00万元，在20万元（含）至50万元（不含）之间，由刑侦支队长包案" in page  # why
    assert "seed" not in page                                              # words for people
    assert "jingzhou.cid_head" in page and case.tier_policy_version in page  # the record, folded
    assert "刑侦支队长 陈刚" in page                                         # the approver
    assert "案件登记" in page and "呈报审批" in page                         # the timeline
    assert "张**" in page and "138****1234" in page and "张三丰" not in page  # victim masked


def test_a_bad_amount_is_shown_next_to_the_amount_and_nothing_typed_is_lost(office, session):
    form = _form(office, amount_cny="28万元整")
    response = post_form(office, "/cases/new", form, page="/cases/new")
    assert response.status_code == 422
    html = response.text
    assert "不是数字" in field_error(html, "amount_cny")
    assert 'aria-describedby="hint-amount_cny err-amount_cny"' in html and 'aria-invalid="true"' in html
    for field in ("case_number", "amount_cny", "fraud_type", "victim_name", "victim_phone", "reported_at"):
        assert input_value(html, field) == form[field], field
    assert re.search(rf'<option value="{form["area"]}" selected>', html)
    assert field_error(html, "case_number") is None
    assert session.exec(select(func.count()).select_from(Case)).one() == 0


@pytest.mark.parametrize("field, value, message", [
    ("case_number", "  ", "案件编号不能为空"),
    ("area", "", "不存在或不是县、乡镇、村级单位"),
    ("reported_at", "yesterday", "请填写报案时间"),
    ("amount_cny", "-5", "涉案金额必须大于零"),
])
def test_each_field_error_lands_on_its_field(office, field, value, message):
    response = post_form(office, "/cases/new", _form(office, **{field: value}), page="/cases/new")
    assert response.status_code == 422
    assert message in (field_error(response.text, field) or ""), response.text


def test_a_duplicate_case_number_is_shown_on_the_case_number(office):
    assert post_form(office, "/cases/new", _form(office), page="/cases/new").status_code == 303
    again = post_form(office, "/cases/new", _form(office, amount_cny="900000"), page="/cases/new")
    assert "已登记过" in field_error(again.text, "case_number")


def test_people_who_may_not_register_get_a_refusal_page(engine, city):
    liaison = signed_in(engine, "liaison_icbc")
    assert liaison.get("/cases/new").status_code == 403
    assert liaison.get("/cases").status_code == 403
    leader = signed_in(engine, "cid_head")
    assert post_form(leader, "/cases/new", {"case_number": "X"}, page="/cases").status_code == 403


def test_the_dashboard_counts_stages_and_lists_what_waits(office, client, engine):
    for number, amount in (("D-1", "2750000"), ("D-2", "280000"), ("D-3", "36000")):
        client.post("/api/v1/cases", json=case_body(number=number, amount=amount), headers=auth("office"))
    approval_id = client.get("/api/v1/approvals", headers=auth("chief")).json()[0]["id"]
    client.post(f"/api/v1/approvals/{approval_id}/decision", json={"decision": "approve"}, headers=auth("chief"))
    with Session(engine) as s:
        escalation.apply_decision(session=s, approval_id=approval_id)  # what the flow does next
        s.commit()
    html = office.get("/office").text
    counts = dict(re.findall(r'<span class="stage-name">([^<]+)</span>\s*<span class="stage-count">(\d+)</span>', html))
    assert counts == {"研判": "2", "交办": "0", "办理": "0", "督办": "1", "办结": "0"}
    awaiting = html.split('id="awaiting-title"')[1].split("</section>")[0]
    assert "D-2" in awaiting and "D-1" not in awaiting and "D-3" not in awaiting
    listed = html.split('id="listed-title"')[1].split("</section>")[0]
    assert "D-1" in listed and "275.00万元" in listed
    assert 'id="overdue-orders-title"' in html                 # the orders card's place
    assert "<svg" in html and 'class="tier-chief"' in html     # the weekly chart, drawn on the server


def test_the_case_list_searches_filters_and_pages(office, client):
    for i in range(23):
        client.post("/api/v1/cases", json={**case_body(number=f"JZ-L-{i:02d}", amount="36000"),
                                           "fraud_type": "刷单返利" if i % 2 else "冒充客服"}, headers=auth("office"))
    client.post("/api/v1/cases", json=case_body(number="OTHER-1", amount="280000"), headers=auth("office"))
    first = office.get("/cases").text
    assert "共 24 件案件" in first and "第 1 页，共 2 页" in first
    assert len(re.findall(r'<a href="/cases/\d+">', first)) == 20
    assert len(re.findall(r'<a href="/cases/\d+">', office.get("/cases?page=2").text)) == 4
    assert "共 1 件案件" in office.get("/cases?q=other").text          # case number, any case
    assert "共 12 件案件" in office.get("/cases?q=冒充客服").text        # fraud type
    assert "共 1 件案件" in office.get("/cases?state=awaiting").text
    assert "共 0 件案件" in office.get("/cases?stage=closed").text
    partial = office.get("/cases?q=OTHER", headers={"HX-Request": "true"})
    assert partial.text.lstrip().startswith("<section id=\"case-results\"") and "<html" not in partial.text


def test_a_leader_sees_only_the_cases_that_reached_them(engine, city, client):
    mine = client.post("/api/v1/cases", json=case_body(number="V-1", amount="280000"), headers=auth("office")).json()
    other = client.post("/api/v1/cases", json=case_body(number="V-2", amount="2750000"), headers=auth("office")).json()
    leader = signed_in(engine, "cid_head")
    assert leader.get(f"/cases/{mine['id']}").status_code == 200
    not_theirs = leader.get(f"/cases/{other['id']}")
    assert not_theirs.status_code == 404 and "V-2" not in not_theirs.text
    listed = leader.get("/cases").text
    assert "V-1" in listed and "V-2" not in listed
