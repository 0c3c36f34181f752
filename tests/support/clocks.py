"""The services' clock in tests (domain.clock): stopped, and moved by the test, never waited for."""
from __future__ import annotations

from datetime import datetime

import pytest

# A Wednesday morning in Beijing: an ordinary working day, far from any holiday. Tests that care
# about the calendar set the clock themselves (a weekend, the eve of National Day, New Year's Eve).
ORDINARY_WORKDAY = "2026-12-09T09:30:00+08:00"

# Where a deadline or working-day bug shows: a Saturday, a Sunday, the afternoon before the National
# Day holiday (a week off, then a make-up workday) and the afternoon before New Year's Day.
AWKWARD_DAYS = {
    "saturday": "2026-12-12T10:00:00+08:00",
    "sunday": "2026-12-13T10:00:00+08:00",
    "national-day-eve": "2026-09-30T16:00:00+08:00",
    "new-years-eve": "2026-12-31T16:00:00+08:00",
}


@pytest.fixture
def clock():
    """The services' clock, stopped at an ordinary working day; `clock.set(...)`/`clock.advance(...)`
    move it. No test sleeps for time to pass."""
    from domain import clock as clocks

    with clocks.frozen(datetime.fromisoformat(ORDINARY_WORKDAY)) as stopped:
        yield stopped


@pytest.fixture(params=list(AWKWARD_DAYS.values()), ids=list(AWKWARD_DAYS))
def awkward_day(request):
    """The clock stopped at each of four instants where calendars go wrong; the deadline, reminder,
    sweep and working-day tests run at each, so none depends on the day the suite runs."""
    from domain import clock as clocks

    with clocks.frozen(datetime.fromisoformat(request.param)) as stopped:
        yield stopped
