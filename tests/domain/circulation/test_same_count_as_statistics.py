"""The circulation and the statistics page count a month's cases the same way — by the date the
case was reported (发案), not the day the office registered it — so for the same month and county
they show the same number. The ranking page shows each ranked area's cards so far and whether it
is listed for rectification."""
from datetime import datetime

from sqlmodel import Session, func, select

from domain.cases.models import Case
from domain.circulation import service as circulation
from domain.circulation.models import Card, Listing
from domain.statistics import service as statistics
from domain.timeutil import SHANGHAI, as_utc
from domain.units.models import Unit
from domain.users.models import User
from tests.web_helpers import signed_in


def add_case(s: Session, area_code: str, *, reported: datetime, registered: datetime) -> None:
    office = s.exec(select(User).where(User.username == "office")).one()
    area = s.exec(select(Unit).where(Unit.code == area_code)).one()
    n = s.exec(select(func.count(Case.id))).one() + 1
    s.add(Case(case_number=f"CMP-{n:04d}", amount_fen=1_000_000, fraud_type="刷单返利", victim_name="某",
               victim_phone="13800000000", area_unit_id=area.id, reported_at=as_utc(reported),
               registered_at=as_utc(registered), registered_by_id=office.id, tier_policy_version="test"))


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=SHANGHAI)


def test_circulation_and_statistics_count_the_same_cases_for_october(engine, city, clock):
    with Session(engine) as s:
        # Reported on the last evening of September, registered in October: a September case for both.
        add_case(s, "jiangling.haoxue.v1", reported=at("2026-09-30T22:00"), registered=at("2026-10-01T09:00"))
        # Reported in October, registered in November: an October case for both.
        add_case(s, "jiangling.haoxue.v1", reported=at("2026-10-31T23:30"), registered=at("2026-11-02T09:00"))
        add_case(s, "jiangling.haoxue", reported=at("2026-10-15T10:00"), registered=at("2026-10-15T11:00"))
        add_case(s, "shashi.zhongshan.v1", reported=at("2026-10-03T10:00"), registered=at("2026-10-03T10:30"))
        s.commit()
    with Session(engine) as s:
        office = s.exec(select(User).where(User.username == "office")).one()
        ranked = circulation.compute(session=s, month="2026-10")
        counties = {row.tally.code: row.tally.count for row in ranked["county"].rows}
        for county in ("jiangling", "shashi"):
            figures = statistics.dashboard(session=s, actor=office, span=statistics.month_period("2026-10"),
                                           unit=county)
            shown = {row.metric.key: row.value for row in figures.rows}["cases_reported"]
            assert counties[county] == shown, county
        assert counties == {"jiangling": 2, "shashi": 1}
        september = circulation.compute(session=s, month="2026-09")
        assert {row.tally.code: row.tally.count for row in september["county"].rows} == {"jiangling": 1}


def test_the_ranking_page_shows_each_areas_cards_and_listing(engine, city, clock):
    with Session(engine) as s:
        for month in ("2026-08", "2026-09", "2026-10"):
            add_case(s, "jiangling.haoxue.v1", reported=at(f"{month}-10T10:00"), registered=at(f"{month}-10T10:00"))
        s.commit()
        for month in ("2026-08", "2026-09", "2026-10"):
            record, _ = circulation.record_month(session=s, month=month, actor="office")
            circulation.give_cards(session=s, circulation_id=record.id, actor="office")
        s.commit()
        jiangling = s.exec(select(Unit.id).where(Unit.code == "jiangling")).one()
        assert {c.colour for c in s.exec(select(Card).where(Card.unit_id == jiangling)).all()} == {"yellow", "red"}
        assert s.exec(select(Listing).where(Listing.unit_id == jiangling)).one().status == "listed"
    page = signed_in(engine, "office").get("/circulation?month=2026-10").text
    row = page[page.index('data-unit="jiangling"'):]
    row = row[:row.index("</tr>")]
    assert "江陵县" in row and "黄牌警告 2026年9月" in row and "红牌警告 2026年10月" in row
    assert "挂牌整治中（自2026年10月）" in row
    earlier = signed_in(engine, "office").get("/circulation?month=2026-09").text
    row = earlier[earlier.index('data-unit="jiangling"'):]
    row = row[:row.index("</tr>")]
    assert "黄牌警告 2026年9月" in row and "红牌" not in row and "未挂牌" in row
