"""The read-only views behind the office dashboard: weeks counted in Beijing time, stages, and
what waits for a leader."""
from datetime import datetime, timezone

from sqlmodel import Session, select

from domain.cases import overview
from domain.cases.models import Case
from tests import factories
from tests.conftest import auth, case_body


def _registered_at(engine, number: str, at: datetime) -> None:
    with Session(engine) as s:
        case = s.exec(select(Case).where(Case.case_number == number)).one()
        case.registered_at = at
        s.add(case)
        s.commit()


def test_weeks_start_on_monday_midnight_in_beijing(client, engine, city):
    utc = timezone.utc
    for number, amount, at in [
        ("W-1", "280000", datetime(2026, 11, 15, 16, 30, tzinfo=utc)),   # Mon 16 Nov 00:30 Beijing
        ("W-2", "2750000", datetime(2026, 11, 15, 15, 59, tzinfo=utc)),  # Sun 15 Nov 23:59 Beijing
        ("W-3", "36000", datetime(2026, 11, 9, 1, 0, tzinfo=utc)),       # Mon 9 Nov 09:00 Beijing
        ("W-4", "600000", datetime(2026, 11, 8, 15, 59, tzinfo=utc)),    # Sun 8 Nov: before the window
    ]:
        assert client.post("/api/v1/cases", json=case_body(number=number, amount=amount),
                           headers=auth("office")).status_code == 201
        _registered_at(engine, number, at)
    now = datetime(2026, 11, 21, 4, 0, tzinfo=utc)  # Saturday noon in Beijing
    with Session(engine) as s:
        weeks = overview.weekly_by_tier(session=s, actor=city["office"], weeks=2, now=now)
        leader_view = overview.weekly_by_tier(session=s, actor=city["cid_head"], weeks=2, now=now)
    assert [w.week_start.isoformat() for w in weeks] == ["2026-11-09", "2026-11-16"]
    assert weeks[0].counts == {"cid_head": 0, "deputy": 0, "chief": 1, "none": 1}
    assert weeks[1].counts == {"cid_head": 1, "deputy": 0, "chief": 0, "none": 0}
    assert [w.total for w in leader_view] == [0, 1]  # a leader counts only the cases that reached them


def test_stage_counts_and_awaiting_leader(engine):
    """Made with tests/factories.py: the office, the CID head and one town, through the services."""
    with Session(engine, expire_on_commit=False) as s:
        office = factories.user(s, "office", role="office")
        factories.user(s, "cid_head", role="leader", leader_tier="cid_head")
        town = factories.unit(s, "jiangling.haoxue", kind="town", population=60_000)
        for number, amount in (("S-1", "280000"), ("S-2", "36000")):
            factories.case(s, number, amount=amount, area=town, by=office)
        s.commit()
        assert overview.stage_counts(session=s, actor=office) == {
            "research": 2, "handover": 0, "handling": 0, "supervision": 0, "closed": 0}
        waiting, total = overview.awaiting_leader(session=s, actor=office)
        assert total == 1 and waiting[0].case.case_number == "S-1" and not waiting[0].overdue
        assert waiting[0].rule.basis.startswith("荆州市公安局")
