"""Working days (policies/calendar.py) counted from wherever the services' clock stands: a Saturday,
a Sunday, the eve of the National Day holiday and New Year's Eve (the `awkward_day` fixture). An
order's working-day deadline is the end of the n-th working day after the day it is issued."""
from datetime import date, time, timedelta

import pytest
from sqlmodel import Session

from domain.policy import current_policy
from domain.timeutil import SHANGHAI, utcnow
from policies.calendar import WorkingCalendar
from tests import factories
from tests.conftest import AWKWARD_DAYS

# The first working day after each instant (2026: National Day 1–7 October, back on Thursday 8th).
FIRST_WORKING_DAY = {"saturday": date(2026, 12, 14), "sunday": date(2026, 12, 14),
                     "national-day-eve": date(2026, 10, 8), "new-years-eve": date(2027, 1, 4)}


@pytest.fixture
def calendar():
    """The default calendar with New Year's Day 2027 listed by hand, as calendar.yaml says to do for
    a year the chinese-calendar package does not know yet."""
    policy = current_policy().calendar
    return WorkingCalendar(policy.model_copy(update={"extra_holidays": [*policy.extra_holidays, "2027-01-01"]}))


@pytest.mark.parametrize("days", [1, 2, 5, 15])
def test_n_working_days_end_on_a_working_day_with_n_working_days_counted(calendar, awkward_day, days):
    start = utcnow()
    due = calendar.add_working_days(start, days, time(18, 0)).astimezone(SHANGHAI)
    assert due.time() == time(18, 0) and calendar.is_workday(due.date())
    between = [start.astimezone(SHANGHAI).date() + timedelta(days=n)
               for n in range(1, (due.date() - start.astimezone(SHANGHAI).date()).days + 1)]
    assert sum(calendar.is_workday(day) for day in between) == days


def test_one_working_day_is_the_next_working_day(calendar, awkward_day, request):
    day = {at: name for name, at in AWKWARD_DAYS.items()}[request.node.callspec.params["awkward_day"]]
    due = calendar.add_working_days(utcnow(), 1, time(18, 0)).astimezone(SHANGHAI)
    assert due.date() == FIRST_WORKING_DAY[day]


def test_an_order_issued_now_is_due_by_the_policy_s_working_days(engine, awkward_day):
    """No `now=` given: the order service reads the clock."""
    calendar = WorkingCalendar(current_policy().calendar)
    with Session(engine) as s:
        order = factories.order(s, kind="interview_notice", title="约谈")
        s.commit()
        assert order.issued_at == utcnow()
        assert order.acknowledge_by == calendar.add_working_days(utcnow(), 1, time(18, 0))
        assert order.acknowledge_by.astimezone(SHANGHAI).date() > utcnow().astimezone(SHANGHAI).date()
