"""Working days and deadlines: China's statutory holidays and make-up workdays (调休).

The chinese-calendar package carries the State Council's schedule for the years it knows; the
policy's calendar table adds or corrects days; a year neither covers counts Monday to Friday.
"""
import logging
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar

from policies.schema import CalendarPolicy, Deadline

SHANGHAI = ZoneInfo("Asia/Shanghai")
log = logging.getLogger("lianban.calendar")


@lru_cache(maxsize=64)
def _warn_uncovered(year: int) -> None:
    log.warning("calendar_uncovered year=%s rule=weekdays: add the year's holidays to calendar.yaml", year)


class WorkingCalendar:
    def __init__(self, policy: CalendarPolicy):
        self._holidays = {date.fromisoformat(d) for d in policy.extra_holidays}
        self._workdays = {date.fromisoformat(d) for d in policy.extra_workdays}
        self._use_package = policy.source == "chinese_calendar"

    def is_workday(self, day: date) -> bool:
        if day in self._holidays:
            return False
        if day in self._workdays:
            return True
        if self._use_package:
            try:
                return chinese_calendar.is_workday(day)
            except NotImplementedError:
                _warn_uncovered(day.year)
        return day.weekday() < 5

    def add_working_days(self, start: datetime, days: int, day_ends: time) -> datetime:
        """The end of the `days`-th working day after `start`'s (Beijing) date, as UTC.
        Issued on 30 September before the National Day holiday, "1wd" ends on the first
        working day after the holiday, not on 1 October."""
        day = start.astimezone(SHANGHAI).date()
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_workday(day):
                counted += 1
        return datetime.combine(day, day_ends, tzinfo=SHANGHAI).astimezone(start.tzinfo)

    def deadline(self, start: datetime, spec: Deadline, day_ends: str) -> datetime:
        if spec.working_days is not None:
            hour, minute = (int(p) for p in day_ends.split(":"))
            return self.add_working_days(start, spec.working_days, time(hour, minute))
        return start + spec.elapsed
