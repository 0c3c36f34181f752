"""How long an account must wait before its password is checked again.

Growing delays, never a hard lockout: after a few free failures each further failure doubles the
wait. Two counts, both since the account's last success within the window:
- this account from this address: the wait grows up to 15 minutes (a guesser at one address stops);
- this account from anywhere: the wait is capped at one minute, so nobody can lock someone else out
  for long by failing on purpose, while guessing from many addresses stays slow (≤ 1 a minute).
Refused attempts (`rate_limited`) do not count: hammering does not lengthen the wait.
"""
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from domain.accounts.models import LoginAttempt

FREE_FAILURES = 3
WINDOW = timedelta(minutes=15)
ADDRESS_CAP = timedelta(minutes=15)
ACCOUNT_CAP = timedelta(minutes=1)
# A wrong password at sign-in and a wrong current password when changing it: both are guesses.
COUNTED_REASONS = ("bad_credentials", "bad_current_password")


def delay_after(failures: int, cap: timedelta) -> timedelta:
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(cap, timedelta(seconds=2 ** min(failures - FREE_FAILURES, 20)))


def wait_before_next(*, session: Session, username: str, ip: str, now: datetime) -> timedelta:
    """Zero if a password for `username` may be checked now, else how long until it may."""
    last_success = session.exec(select(func.max(LoginAttempt.at)).where(
        LoginAttempt.username == username, LoginAttempt.succeeded == True)).one()  # noqa: E712
    since = max(now - WINDOW, last_success) if last_success else now - WINDOW
    failures = session.exec(select(LoginAttempt.at, LoginAttempt.ip).where(
        LoginAttempt.username == username, LoginAttempt.reason.in_(COUNTED_REASONS),
        LoginAttempt.at > since).order_by(LoginAttempt.at.desc()).limit(64)).all()
    if not failures:
        return timedelta(0)
    from_here = [at for at, address in failures if address == ip]
    waits = [failures[0][0] + delay_after(len(failures), ACCOUNT_CAP) - now]
    if from_here:
        waits.append(from_here[0] + delay_after(len(from_here), ADDRESS_CAP) - now)
    return max(timedelta(0), *waits)
