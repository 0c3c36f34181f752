"""Times are stored as UTC and are always timezone-aware in Python; shown in Asia/Shanghai."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy.types import DateTime, TypeDecorator

from domain import clock

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """Now, from the one injectable clock (domain.clock): tests set it, services never read the wall."""
    return clock.now()


def as_utc(value: datetime) -> datetime:
    """Naive input is read as Beijing time (what an office worker types), aware input is converted."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=SHANGHAI)
    return value.astimezone(timezone.utc)


class UTCDateTime(TypeDecorator):
    """SQLite drops time zones: store naive UTC everywhere and hand back aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


# Dates a person or a feed sends: nothing in this office happened before 2000, and nothing that
# was reported, received, solved or opened lies in the future (a little clock skew aside).
EARLIEST_PLAUSIBLE = datetime(2000, 1, 1, tzinfo=SHANGHAI)
CLOCK_SKEW_ALLOWED = timedelta(minutes=10)


def plausible_past(value: datetime, *, field: str, label_zh: str, prefix_zh: str = "", prefix_en: str = "") -> datetime:
    """`value` in UTC, or a 422 naming the field with its range. Years are compared before any
    arithmetic, so 0001-01-01 or 9999-12-31 with a zone offset never overflows into a 500."""
    from domain.errors import InvalidInput

    now = utcnow()
    refused = InvalidInput(f"implausible_{field}",
                           f"{prefix_zh}{label_zh}须在 2000-01-01 至今之间（北京时间）",
                           f"{prefix_en}{field} must lie between 2000-01-01 and now", field=field)
    if value.year < EARLIEST_PLAUSIBLE.year or value.year > now.year + 1:
        raise refused
    utc = as_utc(value)
    if utc < EARLIEST_PLAUSIBLE or utc > now + CLOCK_SKEW_ALLOWED:
        raise refused
    return utc
