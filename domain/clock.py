"""The one clock every service reads. Production reads the wall clock; tests (and a demo that must
show a given day) set it, so nothing depends on today's date or weekday and no test sleeps to let
time pass.

`LIANBAN_CLOCK_AT` (an ISO time with its zone) starts the clock of a whole process — a web app or a
runner started by a test — at that instant; it then runs forward at the wall clock's pace.
"""
from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone


class SystemClock:
    """The wall clock, optionally shifted by a fixed offset."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset


class FixedClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("a clock needs an aware time")
        self._at = at.astimezone(timezone.utc)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._at

    def set(self, at: datetime) -> None:
        with self._lock:
            self._at = at.astimezone(timezone.utc)

    def advance(self, delta: timedelta | None = None, **parts: float) -> datetime:
        """Move time forward (`advance(seconds=2)`); return the new now."""
        with self._lock:
            self._at += (delta or timedelta(0)) + timedelta(**parts)
            return self._at


def _from_environment() -> SystemClock:
    start = os.environ.get("LIANBAN_CLOCK_AT")
    if not start:
        return SystemClock()
    at = datetime.fromisoformat(start)
    if at.tzinfo is None:
        raise ValueError("LIANBAN_CLOCK_AT needs a time zone, e.g. 2026-12-12T09:00:00+08:00")
    return SystemClock(offset=at - datetime.now(timezone.utc))


_clock: SystemClock | FixedClock = _from_environment()


def now() -> datetime:
    """The current time, aware UTC, from the clock in force."""
    return _clock.now()


def use(clock: SystemClock | FixedClock | None) -> None:
    """Put a clock in force for the whole process (None: the wall clock again)."""
    global _clock
    _clock = clock if clock is not None else _from_environment()


@contextlib.contextmanager
def frozen(at: datetime) -> Iterator[FixedClock]:
    """`with clock.frozen(saturday) as c: ... c.advance(hours=1)` — the previous clock comes back after."""
    previous = _clock
    fixed = FixedClock(at)
    use(fixed)
    try:
        yield fixed
    finally:
        use(previous)
