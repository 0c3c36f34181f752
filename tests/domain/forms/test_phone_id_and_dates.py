"""The domain reads phone numbers, ID numbers and dates the way people in China write them, and
refuses what is not one — "abc" is no victim's phone."""
from datetime import date, datetime

import pytest

from domain import validation
from domain.errors import InvalidFields, InvalidInput


@pytest.mark.parametrize("typed, kept", [("13912345678", "13912345678"), ("+86 139 1234 5678", "13912345678"),
                                         ("139-1234-5678", "13912345678"), ("0716-8123456", "0716-8123456"),
                                         ("010 12345678", "010-12345678"), ("（0716）8123456", "0716-8123456")])
def test_mainland_mobiles_and_landlines_with_area_code_are_phones(typed, kept):
    assert validation.phone(typed, field="victim_phone") == kept


@pytest.mark.parametrize("typed", ["abc", "", "12345678901", "1391234567", "8123456", "0716-123", "10086"])
def test_anything_else_is_not_a_phone_and_says_what_is(typed):
    with pytest.raises(InvalidInput) as refused:
        validation.phone(typed, field="victim_phone", label="受害人电话")
    assert refused.value.field == "victim_phone" and "受害人电话" in refused.value.zh and "11位手机号" in refused.value.zh


def test_an_id_number_needs_18_characters_a_real_birth_date_and_its_check_digit():
    assert validation.id_number("421002199001011231") == "421002199001011231"
    assert validation.id_number(" 42100219900101001x ") == "42100219900101001X"  # a lower-case x is read
    for wrong in ("421002199001011232", "42100219900101123", "421002199013011231", "abc"):
        with pytest.raises(InvalidInput) as refused:
            validation.id_number(wrong)
        assert refused.value.field == "id_number" and wrong not in refused.value.zh  # never echoed back
    assert validation.mask_id("421002199001011231") == "421002****1231"


def test_days_and_times_as_written_in_china():
    for typed in ("2026年12月1日", "2026-12-01", "2026/12/1", "2026.12.01"):
        assert validation.day(typed, field="d", label="日期") == date(2026, 12, 1)
    for typed in ("2026年12月1日 14:05", "2026-12-01T14:05", "2026-12-01 14:05", "2026年12月1日14时05分"):
        assert validation.moment(typed, field="t", label="时间") == datetime(2026, 12, 1, 14, 5)
    assert validation.day("", field="d", label="日期") is None
    with pytest.raises(InvalidInput) as refused:
        validation.day("2026年2月30日", field="d", label="起始日期")
    assert "起始日期" in refused.value.zh and "2026年12月1日" in refused.value.zh


def test_a_collector_reports_every_field_at_once():
    found = validation.Collector()
    found.check(validation.phone, "abc", field="victim_phone")
    found.check(validation.id_number, "1")
    assert found.check(validation.day, "2026-12-01", field="d", label="x") == date(2026, 12, 1)
    with pytest.raises(InvalidFields) as raised:
        found.done()
    assert [e.field for e in raised.value.errors] == ["victim_phone", "id_number"]
