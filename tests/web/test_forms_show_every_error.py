"""Forms say everything wrong at once, beside each field, and keep what was typed: registering a
case with four empty fields flags all four; a victim phone of "abc" is refused; the order form
flags a missing unit, title and unknown case together. After the office returns a report, the
liaison's report form holds what was sent, to correct rather than type again."""
from tests.conftest import auth, case_body, unit_id
from tests.web_helpers import field_error, input_value, post_form, signed_in


def test_registering_a_case_flags_every_empty_field_and_keeps_the_rest(client, engine):
    office = signed_in(engine, "office")
    sent = post_form(office, "/cases/new", {"case_number": "", "amount_cny": "", "fraud_type": "", "victim_name": "张三",
                                            "victim_phone": "abc", "area": "", "reported_at": "2026年12月1日 14:05"},
                     page="/cases/new")
    assert sent.status_code == 422
    for field in ("case_number", "amount_cny", "fraud_type", "victim_phone", "area"):
        assert field_error(sent.text, field), field
    assert "11位手机号" in field_error(sent.text, "victim_phone")
    assert field_error(sent.text, "victim_name") is None and field_error(sent.text, "reported_at") is None
    assert input_value(sent.text, "victim_name") == "张三" and input_value(sent.text, "victim_phone") == "abc"


def test_a_case_typed_with_chinese_date_and_a_landline_is_registered(client, engine, clock):
    office = signed_in(engine, "office")
    sent = post_form(office, "/cases/new", {
        "case_number": "FM-1", "amount_cny": "3万", "fraud_type": "刷单返利", "victim_name": "李四",
        "victim_phone": "0716-8123456", "area": str(unit_id(engine, "jiangling.haoxue")),
        "reported_at": "2026年12月8日 14:05"}, page="/cases/new")
    assert sent.status_code == 303, sent.text
    case = client.get("/api/v1/cases?q=FM-1", headers=auth("office")).json()["items"][0]
    assert case["reported_at"].startswith("2026-12-08T06:05")  # 14:05 Beijing time


def test_the_api_refuses_a_victim_phone_of_abc(client):
    refused = client.post("/api/v1/cases", headers=auth("office"), json=case_body(number="FM-2", victim_phone="abc"))
    assert refused.status_code == 422 and "victim_phone" in refused.text


def test_the_order_form_flags_every_field_at_fault_at_once(client, engine):
    office = signed_in(engine, "office")
    sent = post_form(office, "/orders/new", {"kind": "", "addressee_unit_id": "", "title": "",
                                             "instructions": "请核查", "case_number": "NO-SUCH"}, page="/orders/new")
    assert sent.status_code == 422
    for field in ("kind", "addressee_unit_id", "title", "case_number"):
        assert field_error(sent.text, field), field
    assert "请核查" in sent.text and input_value(sent.text, "case_number") == "NO-SUCH"


def test_after_a_return_the_report_form_holds_what_was_sent(client, engine):
    order = client.post("/api/v1/orders", headers=auth("office"), json={
        "kind": "supervision", "addressee_unit_id": unit_id(engine, "bank.icbc.jz"), "title": "核查开户资料"}).json()
    liaison = auth("liaison_icbc")
    client.post(f"/api/v1/orders/{order['id']}/acknowledge", headers=liaison)
    client.post(f"/api/v1/orders/{order['id']}/report", headers=liaison, json={"text": "已核查开户资料，共3户"})
    client.post(f"/api/v1/orders/{order['id']}/return", headers=auth("office"), json={"comment": "请写明户名"})
    page = signed_in(engine, "liaison_icbc").get(f"/orders/{order['id']}").text
    form = page[page.index('name="text"'):]
    assert "已核查开户资料，共3户" in form[:form.index("</textarea>")]
