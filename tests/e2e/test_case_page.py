"""The case page shows the office exactly the moves the case's machines allow it now — close,
reopen, resubmit — and every error of a form beside its field, all at once."""
import re

from sqlmodel import Session

from domain.escalation import service as escalation
from tests.conftest import auth, case_body, unit_id
from tests.web_helpers import post_form, signed_in

OFFICE = auth("office")


def register(client, number: str, amount: str) -> dict:
    return client.post("/api/v1/cases", headers=OFFICE, json=case_body(number=number, amount=amount)).json()


def handed_over(client, engine, case_id: int, *, cancel: bool = True) -> None:
    order = client.post("/api/v1/orders", headers=OFFICE, json={
        "kind": "supervision", "addressee_unit_id": unit_id(engine, "bank.icbc.jz"), "title": "核查开户资料",
        "case_id": case_id}).json()
    if cancel:
        client.post(f"/api/v1/orders/{order['id']}/cancel", headers=OFFICE, json={"reason": "已处置"})


def error_beside(html: str, field: str) -> str | None:
    match = re.search(rf'<p class="field-error" id="(?:close-)?err-{field}">([^<]*)</p>', html)
    return match.group(1) if match else None


def test_the_office_sees_the_close_form_only_when_the_case_may_close(client, engine):
    case = register(client, "P-1", "30000")
    office = signed_in(engine, "office")
    assert 'id="close-form"' not in office.get(f"/cases/{case['id']}").text  # 研: nothing to close yet
    handed_over(client, engine, case["id"], cancel=False)
    page = office.get(f"/cases/{case['id']}").text
    assert 'id="close-form"' not in page and "条指令未办结" in page  # why not, in the office's words
    for order in client.get(f"/api/v1/orders?case_id={case['id']}", headers=OFFICE).json()["items"]:
        client.post(f"/api/v1/orders/{order['id']}/cancel", headers=OFFICE, json={"reason": "已处置"})
    assert 'id="close-form"' in office.get(f"/cases/{case['id']}").text
    leader_page = signed_in(engine, "cid_head").get(f"/cases/{case['id']}")
    assert leader_page.status_code == 404 or 'id="close-form"' not in leader_page.text


def test_every_error_of_the_close_form_is_shown_beside_its_field_at_once(client, engine):
    case = register(client, "P-2", "30000")
    handed_over(client, engine, case["id"])
    office = signed_in(engine, "office")
    page = f"/cases/{case['id']}"
    response = post_form(office, f"/cases/{case['id']}/close", {"outcome": "solved", "solved_on": "",
                                                                 "suspects_caught": "-1", "recovered_cny": "很多"},
                         page=page)
    assert response.status_code == 422
    assert error_beside(response.text, "solved_on") and error_beside(response.text, "suspects_caught")
    assert error_beside(response.text, "recovered_cny")
    unsolved = post_form(office, f"/cases/{case['id']}/close", {"outcome": "unsolved", "reason": ""}, page=page)
    assert unsolved.status_code == 422 and "未破案的原因" in error_beside(unsolved.text, "reason")
    done = post_form(office, f"/cases/{case['id']}/close", {"outcome": "unsolved", "reason": "经核查不构成诈骗"},
                     page=page)
    assert done.status_code == 303
    closed = office.get(done.headers["location"]).text
    assert "案件已结案。" in closed and 'id="reopen-form"' in closed and 'id="close-form"' not in closed
    assert 'aria-current="step">办结</li>' in closed  # 结


def test_the_office_resubmits_a_returned_case_from_its_page(client, engine):
    case = register(client, "P-3", "280000")
    office = signed_in(engine, "office")
    assert 'id="resubmit-form"' not in office.get(f"/cases/{case['id']}").text
    client.post(f"/api/v1/approvals/{case['approval']['id']}/decision", headers=auth("cid_head"),
                json={"decision": "return", "comment": "金额有误"})
    with Session(engine) as s:
        escalation.apply_decision(session=s, approval_id=case["approval"]["id"])
        s.commit()
    page = f"/cases/{case['id']}"
    assert 'id="resubmit-form"' in office.get(page).text
    bad = post_form(office, f"/cases/{case['id']}/resubmit", {"amount_cny": "abc"}, page=page)
    assert bad.status_code == 422 and error_beside(bad.text, "amount_cny")
    done = post_form(office, f"/cases/{case['id']}/resubmit", {"amount_cny": "60万"}, page=page)
    assert done.status_code == 303
    after = office.get(done.headers["location"]).text
    assert "案件已重新呈报领导审批。" in after and 'id="resubmit-form"' not in after
