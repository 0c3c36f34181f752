"""On the case page the office sees the victim's phone masked, with "show in full" beside it:
a reason and one click show the number in place (htmx) or on the page again (no JavaScript). The
auditor sees no such button; a missing reason is said beside the reason."""
from tests.conftest import auth, case_body
from tests.web_helpers import csrf_token, signed_in

PHONE = "13912345678"


def registered(client) -> int:
    return client.post("/api/v1/cases", headers=auth("office"),
                       json=case_body(number="RVW-1", victim_phone=PHONE)).json()["id"]


def test_the_office_reveals_the_victims_phone_in_place_with_a_reason(client, engine):
    case_id = registered(client)
    office = signed_in(engine, "office")
    page = office.get(f"/cases/{case_id}").text
    assert "139****5678" in page and PHONE not in page and "显示完整信息" in page
    token = csrf_token(office, f"/cases/{case_id}")
    missing = office.post(f"/cases/{case_id}/reveal", data={"reason": "", "csrf_token": token},
                          headers={"HX-Request": "true"})
    assert missing.status_code == 422 and 'id="err-reveal-reason"' in missing.text and PHONE not in missing.text
    shown = office.post(f"/cases/{case_id}/reveal", data={"reason": "电话联系受害人", "csrf_token": token},
                        headers={"HX-Request": "true"})
    assert shown.status_code == 200 and PHONE in shown.text and "审计日志" in shown.text
    plain = office.post(f"/cases/{case_id}/reveal", data={"reason": "电话联系受害人", "csrf_token": token})
    assert plain.status_code == 200 and PHONE in plain.text and "<h1>" in plain.text  # the whole page
    assert PHONE not in office.get(f"/cases/{case_id}").text  # masked again on the next visit


def test_the_auditor_reads_the_case_without_a_way_to_reveal(client, engine):
    case_id = registered(client)
    auditor = signed_in(engine, "auditor")
    page = auditor.get(f"/cases/{case_id}").text
    assert "139****5678" in page and "显示完整信息" not in page
    refused = auditor.post(f"/cases/{case_id}/reveal", data={"reason": "看看", "csrf_token": csrf_token(auditor, "/office")})
    assert refused.status_code == 403 and PHONE not in refused.text
