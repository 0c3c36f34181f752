"""Times are stored as UTC and are always timezone-aware in Python; shown in Asia/Shanghai."""
from datetime import datetime, timezone
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
