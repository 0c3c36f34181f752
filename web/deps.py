"""The person behind a web request: their session cookie, checked against the session table."""
from dataclasses import dataclass

from fastapi import Depends, Request
from sqlmodel import Session

from domain.accounts import service as accounts
from domain.errors import NotAuthenticated
from domain.users.models import User
from httpkit.session import get_session
from web.security import SESSION_COOKIE


@dataclass(frozen=True)
class Viewer:
    """What the page layout shows of the signed-in person, readable after the request's database
    session is gone (an error page is rendered after the rollback)."""
    id: int
    username: str
    display_name: str
    role: str
    leader_tier: str | None

    @classmethod
    def of(cls, user: User) -> "Viewer":
        return cls(user.id, user.username, user.display_name, user.role, user.leader_tier)


class LoginRequired(NotAuthenticated):
    """Raised for a page that needs a signed-in person; the web error handler sends them to /login."""


def optional_user(request: Request, session: Session = Depends(get_session)) -> User | None:
    user = accounts.user_for_session(session=session, token=request.cookies.get(SESSION_COOKIE))
    request.state.viewer = Viewer.of(user) if user is not None else None
    return user


def web_user(user: User | None = Depends(optional_user)) -> User:
    if user is None:
        raise LoginRequired("login_required", "请先登录", "please sign in first")
    return user


def is_htmx(request: Request) -> bool:
    """A request htmx made to swap part of a page (not a boosted or history-restoring one)."""
    return request.headers.get("hx-request") == "true" and request.headers.get("hx-history-restore-request") != "true"
