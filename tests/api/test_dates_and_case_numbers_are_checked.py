"""Findings 8 and 9 of issue 16: dates outside a plausible range are a 422 naming the field (never
a 500), and case numbers that differ only in letter case or full-width forms are one case."""
import pytest

from tests.conftest import auth, case_body, unit_id

IMPLAUSIBLE = ["0001-01-01T00:00:00+08:00", "1900-05-01T10:00:00+08:00", "1970-01-01T00:00:00",
               "9999-12-31T23:00:00-08:00", "2027-06-01T10:00:00+08:00"]


def refused_on(response, field: str) -> str:
    assert response.status_code == 422, response.text
    error = response.json()["detail"][0]
    assert error["loc"][-1] == field
    return error["msg"]


@pytest.mark.parametrize("when", IMPLAUSIBLE)
def test_a_case_reported_at_an_implausible_time_is_refused_naming_the_field(client, clock, when):
    response = client.post("/api/v1/cases", headers=auth("office"), json=case_body(reported_at=when))
    assert "2000-01-01" in refused_on(response, "reported_at")


@pytest.mark.parametrize("when", IMPLAUSIBLE)
def test_implausible_solved_received_and_opened_dates_are_refused(client, engine, clock, when):
    case = client.post("/api/v1/cases", headers=auth("office"), json=case_body()).json()
    refused_on(client.put(f"/api/v1/cases/{case['id']}/result", headers=auth("office"),
                          json={"solved_at": when, "suspects_caught": 1, "recovered_cny": "0"}), "solved_at")
    refused_on(client.post("/api/v1/warnings", headers=auth("office"), json={"warnings": [
        {"warning_number": "YJ-D-1", "area": "jiangling.haoxue", "risk_level": "high", "received_at": when}]}),
        "received_at")
    refused_on(client.post("/api/v1/fraud-accounts", headers=auth("office"), json={
        "account_number": "6222021234567890123", "opening_unit_id": unit_id(engine, "bank.icbc.jz.jiangling"),
        "opened_on": when}), "opened_on")


def test_a_plausible_date_still_registers(client, clock):
    assert client.post("/api/v1/cases", headers=auth("office"),
                       json=case_body(reported_at="2000-01-01T08:00:00+08:00")).status_code == 201


@pytest.mark.parametrize("spelling", ["jz-2026-0100", "Jz-2026-0100", "ＪＺ－２０２６－０１００", "ｊｚ-2026-0100 "])
def test_case_numbers_differing_in_case_or_width_are_the_same_case(client, clock, spelling):
    first = client.post("/api/v1/cases", headers=auth("office"), json=case_body(number="JZ-2026-0100"))
    assert first.status_code == 201 and first.json()["case_number"] == "JZ-2026-0100"
    again = client.post("/api/v1/cases", headers=auth("office"), json=case_body(number=spelling))
    assert "已登记过" in refused_on(again, "case_number")


@pytest.mark.parametrize("when", ["0001-01-01T00:00", "1900-01-01T09:00"])
def test_the_web_case_form_refuses_an_implausible_time_next_to_the_field(engine, city, clock, when):
    from tests.web_helpers import field_error, post_form, signed_in

    browser = signed_in(engine, "office")
    response = post_form(browser, "/cases/new", {"case_number": "W-1", "amount_cny": "28万", "fraud_type": "冒充领导",
                                                 "victim_name": "张三", "victim_phone": "13800001234",
                                                 "area": "jiangling.haoxue", "reported_at": when}, page="/cases/new")
    assert response.status_code == 422
    assert "2000-01-01" in field_error(response.text, "reported_at")


def test_an_order_finds_its_case_by_any_spelling_of_the_number(client, engine, clock):
    from tests.web_helpers import post_form, signed_in

    assert client.post("/api/v1/cases", headers=auth("office"), json=case_body(number="JZ-2026-0200")).status_code == 201
    office = signed_in(engine, "office")
    response = post_form(office, "/orders/new", {
        "kind": "supervision", "addressee_unit_id": str(unit_id(engine, "bank.icbc.jz")), "title": "核查",
        "instructions": "请核查", "case_number": "ｊｚ-2026-0200"}, page="/orders/new")
    assert response.status_code == 303, response.text[-500:]
