"""The office's statistics: headline figures for any period and unit subtree, 环比 and 同比, the
twelve-month series, the warning feed, a case's result, and the CSV/Excel downloads.

The data is built by hand over three months (October 2026, the September before, the October a
year before) so every expected figure can be counted on the fingers."""
import csv
import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from domain.audit import service as audit
from domain.statistics.service import Period, month_period
from domain.timeutil import SHANGHAI
from domain.warnings import service as warnings
from domain.warnings.models import FraudWarning, WarningMonth
from tests.conftest import auth, case_body
from tests.web_helpers import csrf_token, signed_in


def figures(client, user="office", **params) -> dict:
    """{metric: (value, 环比 previous, 环比 %, 同比 previous, 同比 %)} from the API."""
    response = client.get("/api/v1/statistics", headers=auth(user), params=params)
    assert response.status_code == 200, response.text
    return {f["key"]: (f["value"], f["month_on_month"]["previous"], f["month_on_month"]["percent"],
                       f["year_on_year"]["previous"], f["year_on_year"]["percent"]) for f in response.json()["figures"]}


def this_month() -> dict:
    today = datetime.now(SHANGHAI).date()
    return {"start": today.replace(day=1).isoformat(), "end": today.isoformat()}


def warning(number, area, when, risk="high"):
    return {"warning_number": number, "area": area, "risk_level": risk, "received_at": when}


def register(client, number, amount, area, reported_at):
    response = client.post("/api/v1/cases", headers=auth("office"),
                           json=case_body(number, amount=amount, area=area, reported_at=reported_at))
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.fixture
def three_months(client, engine):
    """Warnings and cases in 2026-10, 2026-09 and 2025-10, in two counties."""
    batch = [warning("W-1001", "jiangling.haoxue.v1", "2026-10-01T00:10:00"),  # Beijing time: October
             warning("W-1002", "jiangling.haoxue", "2026-10-15T12:00:00"),
             warning("W-1003", "shashi.zhongshan.v1", "2026-10-31T23:59:00"),
             warning("W-1004", "shashi", "2026-10-20T08:00:00", risk="low"),
             warning("W-0901", "shashi", "2026-09-30T23:50:00"),  # still September in Beijing
             warning("W-0902", "jiangling", "2026-09-02T09:00:00"),
             warning("W-2510", "shashi", "2025-10-09T09:00:00", risk="medium")]
    response = client.post("/api/v1/warnings", headers=auth("office"), json={"warnings": batch})
    assert response.json() == {"received": 7, "already_received": 0}
    with Session(engine) as s:  # three of October's were dissuaded (what the dissuasion flow records)
        for row in s.exec(select(FraudWarning).where(FraudWarning.warning_number.in_(["W-1001", "W-1003", "W-1004"]))):
            warnings.set_outcome(session=s, warning=row, outcome="dissuaded", at=row.received_at)
        s.commit()
    ids = {"oct_a": register(client, "S-1001", "300000", "jiangling.haoxue.v1", "2026-10-05T10:00:00"),
           "oct_b": register(client, "S-1002", "600000", "jiangling.haoxue", "2026-10-06T10:00:00"),
           "oct_c": register(client, "S-1003", "50000", "shashi.zhongshan.v1", "2026-10-30T10:00:00"),
           "sep": register(client, "S-0901", "80000", "shashi", "2026-09-12T10:00:00"),
           "last_oct_a": register(client, "S-2510", "100000", "jiangling", "2025-10-03T10:00:00"),
           "last_oct_b": register(client, "S-2511", "20000", "shashi", "2025-10-28T10:00:00")}
    solved = client.put(f"/api/v1/cases/{ids['oct_a']}/result", headers=auth("office"),
                        json={"solved_at": "2026-10-25T09:00:00", "suspects_caught": 3, "recovered_cny": "1.2万"})
    assert solved.status_code == 200, solved.text
    assert solved.json()["recovered_cny"] == "12000.00" and solved.json()["suspects_caught"] == 3
    return ids


def test_a_month_in_figures_with_month_on_month_and_year_on_year(client, three_months):
    october = figures(client, start="2026-10-01", end="2026-10-31")
    assert october["warnings"] == (4, 2, "100.0", 1, "300.0")
    assert october["dissuaded"] == (3, 0, None, 0, None)  # a dash, not a division by zero
    assert october["cases_reported"] == (3, 1, "200.0", 2, "50.0")
    assert october["amount_reported"][:2] == (95_000_000, 8_000_000)  # fen: 95万 against 8万
    assert october["amount_reported"][3:] == (12_000_000, "691.7")
    assert october["cases_solved"][:2] == (1, 0) and october["suspects_caught"][0] == 3
    # Money returned counts when it was recorded (today), not in October.
    assert october["recovered_fen"][0] == 0
    assert figures(client, **this_month())["recovered_fen"][0] == 1_200_000


def test_a_unit_subtree_counts_only_its_own_areas(client, three_months):
    jiangling = figures(client, start="2026-10-01", end="2026-10-31", unit="jiangling")
    assert jiangling["warnings"][0] == 2 and jiangling["cases_reported"][0] == 2
    assert jiangling["amount_reported"][0] == 90_000_000 and jiangling["cases_solved"][0] == 1
    village = figures(client, start="2026-10-01", end="2026-10-31", unit="shashi.zhongshan.v1")
    assert village["warnings"][0] == 1 and village["cases_reported"][0] == 1
    # Any period, not only months: the first week of October, against the week before.
    week = figures(client, start="2026-10-01", end="2026-10-07")
    assert week["cases_reported"][:2] == (2, 0) and week["warnings"][:2] == (1, 1)


def test_the_series_and_the_downloads_carry_the_same_figures(client, three_months):
    body = client.get("/api/v1/statistics", headers=auth("office"),
                      params={"start": "2026-10-01", "end": "2026-10-31"}).json()
    assert body["months"][0] == "2025-11" and body["months"][-1] == "2026-10"
    assert body["series"]["cases_reported"][-2:] == [1, 3] and sum(body["series"]["cases_reported"]) == 4
    assert (body["previous_start"], body["year_before_end"]) == ("2026-09-01", "2025-10-31")

    response = client.get("/api/v1/statistics/export", headers=auth("office"),
                          params={"start": "2026-10-01", "end": "2026-10-31", "format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())  # Excel reads the Chinese right
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    by_label = {row[0]: row for row in rows if row}
    assert by_label["发案数"][1:] == ["3", "1", "200.0", "2", "50.0"]
    assert by_label["发案金额（元）"][1] == "950000.00"
    assert by_label["2026-10"][3] == "3"  # the series, month by month

    book = client.get("/api/v1/statistics/export", headers=auth("office"),
                      params={"start": "2026-10-01", "end": "2026-10-31", "format": "xlsx", "language": "en"})
    sheet = load_workbook(io.BytesIO(book.content)).worksheets[0]
    table = {row[0]: row for row in sheet.iter_rows(values_only=True) if row and row[0]}
    assert table["Cases reported"][1:3] == (3, 1) and table["Warnings handled"][1] == 4
    assert Decimal(str(table["Amount reported (CNY)"][1])) == Decimal("950000")


def test_the_warning_feed_is_idempotent_and_refuses_a_bad_batch_whole(client, engine, session, three_months):
    again = client.post("/api/v1/warnings", headers=auth("office"), json={"warnings": [
        warning("W-1001", "jiangling.haoxue.v1", "2026-10-01T00:10:00"),
        warning("W-1101", "jiangling", "2026-11-01T08:00:00")]})
    assert again.json() == {"received": 1, "already_received": 1}
    before = session.exec(select(FraudWarning)).all()
    bad = client.post("/api/v1/warnings", headers=auth("office"), json={"warnings": [
        warning("W-1102", "jiangling", "2026-11-01T08:00:00"), warning("W-1103", "bank.icbc", "2026-11-01T08:00:00")]})
    assert bad.status_code == 422 and "第 2 条预警" in bad.json()["detail"][0]["msg"]
    future = client.post("/api/v1/warnings", headers=auth("office"), json={"warnings": [
        warning("W-1104", "jiangling", "2099-01-01T08:00:00")]})
    assert future.status_code == 422 and future.json()["detail"][0]["loc"][-1] == "received_at"
    assert len(session.exec(select(FraudWarning)).all()) == len(before)  # nothing of a refused batch
    assert client.post("/api/v1/warnings", headers=auth("liaison_icbc"), json={"warnings": [
        warning("W-1105", "jiangling", "2026-11-01T08:00:00")]}).status_code == 403
    assert audit.verify(session=session).ok


def test_who_may_read_statistics_and_what_bad_filters_get(client, three_months):
    for user in ("office", "chief", "auditor", "admin"):
        assert client.get("/api/v1/statistics", headers=auth(user)).status_code == 200
    for user in ("liaison_icbc", "liaison_cmcc", "police_station"):
        assert client.get("/api/v1/statistics", headers=auth(user)).status_code == 403
        assert client.get("/api/v1/statistics/export", headers=auth(user)).status_code == 403
    assert client.get("/api/v1/statistics").status_code == 401
    backwards = client.get("/api/v1/statistics", headers=auth("office"), params={"start": "2026-10-31", "end": "2026-10-01"})
    assert backwards.status_code == 422 and backwards.json()["detail"][0]["loc"][-1] == "end"
    assert client.get("/api/v1/statistics", headers=auth("office"), params={"unit": "atlantis"}).status_code == 422
    assert client.get("/api/v1/statistics", headers=auth("office"), params={"start": "2026-10-01"}).status_code == 422
    assert client.get("/api/v1/statistics", headers=auth("office"), params={"start": "2026-13-01", "end": "x"}).status_code == 422


def test_a_case_result_is_validated_and_audited(client, session, three_months):
    case_id = three_months["oct_b"]
    for body, field in (({"solved_at": "2026-09-01T00:00:00"}, "solved_at"),  # before the report
                        ({"recovered_cny": "700000"}, "recovered_cny"),     # more than was lost
                        ({"recovered_cny": "lots"}, "recovered_cny"),
                        ({"suspects_caught": -1}, "suspects_caught")):
        response = client.put(f"/api/v1/cases/{case_id}/result", headers=auth("office"), json=body)
        assert response.status_code == 422 and response.json()["detail"][0]["loc"][-1] == field, (body, response.text)
    assert client.put(f"/api/v1/cases/{case_id}/result", headers=auth("chief"), json={}).status_code == 403
    ok = client.put(f"/api/v1/cases/{case_id}/result", headers=auth("office"),
                    json={"solved_at": "2026-10-28T10:00:00+08:00", "suspects_caught": 2})
    assert ok.status_code == 200 and ok.json()["solved_at"].startswith("2026-10-28T02:00")
    events = client.get(f"/api/v1/cases/{case_id}/events", headers=auth("office")).json()
    assert [e["action"] for e in events].count("case.result_recorded") == 1
    assert figures(client, start="2026-10-01", end="2026-10-31")["cases_solved"][0] == 2


def test_periods_compare_with_the_right_earlier_periods():
    october = month_period("2026-10")
    assert (october.previous(), october.year_before()) == (Period(date(2026, 9, 1), date(2026, 9, 30)),
                                                           Period(date(2025, 10, 1), date(2025, 10, 31)))
    quarter = Period(date(2026, 1, 1), date(2026, 3, 31))
    assert quarter.previous() == Period(date(2025, 10, 1), date(2025, 12, 31))
    leap = Period(date(2028, 2, 1), date(2028, 2, 29))
    assert leap.previous() == Period(date(2028, 1, 1), date(2028, 1, 31))
    assert leap.year_before() == Period(date(2027, 2, 1), date(2027, 2, 28))
    days = Period(date(2026, 10, 10), date(2026, 10, 16))
    assert days.previous() == Period(date(2026, 10, 3), date(2026, 10, 9))
    assert Period(date(2028, 2, 29), date(2028, 3, 2)).year_before() == Period(date(2027, 2, 28), date(2027, 3, 2))


def test_the_statistics_page_shows_the_figures_and_records_a_result(engine, client, three_months):
    office = signed_in(engine, "office")
    page = office.get("/statistics", params={"start": "2026-10-01", "end": "2026-10-31", "unit": "jiangling"})
    assert page.status_code == 200
    html = page.text
    assert "统计" in html and "江陵" in html and "发案数" in html and "▲ 100.0%" in html  # 2 against 1 in September
    assert "<svg" in html and "下载 Excel" in html and "<script>" not in html
    partial = office.get("/statistics", params={"start": "2026-10-31", "end": "2026-10-01"}, headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "结束日期不能早于开始日期" in partial.text and "<html" not in partial.text
    download = office.get("/statistics/export", params={"format": "xlsx", "start": "2026-10-01", "end": "2026-10-31"})
    assert download.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert signed_in(engine, "liaison_icbc").get("/statistics").status_code == 403

    case_id = three_months["oct_c"]
    token = csrf_token(office, f"/cases/{case_id}")
    refused = office.post(f"/cases/{case_id}/result", data={"csrf_token": token, "solved_on": "2026-10-31",
                                                            "suspects_caught": "2", "recovered_cny": "9万"})
    assert refused.status_code == 422 and "挽损金额不能为负，也不能超过被骗金额" in refused.text
    assert 'value="9万"' in refused.text  # what was typed stays in the form
    saved = office.post(f"/cases/{case_id}/result", follow_redirects=True,
                        data={"csrf_token": token, "solved_on": "2026-10-31", "suspects_caught": "2",
                              "recovered_cny": "5000"})
    assert saved.status_code == 200 and "战果已保存" in saved.text and "2026年10月31日" in saved.text


def test_monthly_counts_stay_equal_to_the_warnings(client, engine, three_months):
    """The statistics read whole months from warning_months: it must match a recount from the rows,
    including an outcome taken back and a warning that arrived with its dissuasion."""
    with Session(engine) as s:
        row = s.exec(select(FraudWarning).where(FraudWarning.warning_number == "W-1003")).one()
        warnings.set_outcome(session=s, warning=row, outcome="not_reached", at=row.received_at)
        s.commit()
    started = client.post("/api/v1/processes/dissuasion", headers=auth("office"), json={
        "area": "shishou", "risk_level": "low", "victim_name": "王五", "victim_phone": "13600002222",
        "warning_number": "W-NEW-1"})
    assert started.status_code == 201, started.text
    with Session(engine) as s:
        kept = {(m.month, m.area_unit_id): (m.received, m.dissuaded) for m in s.exec(select(WarningMonth))}
        warnings.rebuild_month_counts(session=s)
        recounted = {(m.month, m.area_unit_id): (m.received, m.dissuaded) for m in s.exec(select(WarningMonth))}
    assert kept == recounted and sum(r for r, _ in kept.values()) == 8
    october = figures(client, start="2026-10-01", end="2026-10-31")
    assert october["dissuaded"][0] == 2
    # A period that is not whole months adds the odd days from the warnings themselves.
    assert figures(client, start="2026-09-30", end="2026-10-31")["warnings"][0] == 5
    assert figures(client, start="2026-09-15", end="2026-11-02")["warnings"][0] == 5


def test_the_demo_history_counts_its_dissuasions(tmp_path):
    """The demo's thirteen months go through the same bookkeeping as the feed: the monthly counts
    equal a recount from the warnings, and about three in four were dissuaded."""
    from domain import demo
    from domain.bootstrap import migrate
    from domain.db import make_engine

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    migrate(url)
    engine = make_engine(url)
    with Session(engine) as s:
        demo.load(session=s, with_history=True)
        s.commit()
        kept = {(m.month, m.area_unit_id): (m.received, m.dissuaded) for m in s.exec(select(WarningMonth))}
        warnings.rebuild_month_counts(session=s)
        recounted = {(m.month, m.area_unit_id): (m.received, m.dissuaded) for m in s.exec(select(WarningMonth))}
    engine.dispose()
    received, dissuaded = sum(r for r, _ in kept.values()), sum(d for _, d in kept.values())
    assert kept == recounted and received > 400 and 0.6 < dissuaded / received < 0.9
