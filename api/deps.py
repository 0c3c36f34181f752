"""Request-scoped dependencies: one database session (one transaction) and the calling user."""
import functools
import inspect
from collections.abc import Iterator

from fastapi import Header, Request
from fastapi.routing import APIRoute
from sqlmodel import Session

from domain.db import get_engine, read_only
from domain.users.models import User
from domain.users.service import authenticate


def get_session(request: Request) -> Iterator[Session]:
    engine = getattr(request.app.state, "engine", None) or get_engine()
    if request.method in ("GET", "HEAD"):
        engine = read_only(engine)
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def current_user(request: Request,
                 authorization: str | None = Header(default=None, description="Bearer <API token>"),
                 x_api_token: str | None = Header(default=None)) -> User:
    """The calling user, looked up in a short read-only transaction of its own: the request's own
    transaction (and on SQLite its write lock) starts only when the endpoint works, in the same
    thread, so no request holds a connection or a lock while it waits for a worker thread."""
    token = x_api_token
    if authorization and authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    engine = getattr(request.app.state, "engine", None) or get_engine()
    with Session(read_only(engine), expire_on_commit=False) as session:
        return authenticate(session=session, token=token)


def language(accept_language: str | None = Header(default=None)) -> str:
    return "en" if (accept_language or "").lower().startswith("en") else "zh"


def _finish(session: Session | None, failed: bool) -> None:
    if session is None:
        return
    if failed:
        session.rollback()
    else:
        session.commit()
    session.close()


def _session_in(kwargs: dict) -> Session | None:
    return next((v for v in kwargs.values() if isinstance(v, Session)), None)


class TransactionalRoute(APIRoute):
    """Ends the request's transaction inside the endpoint's own thread call.

    FastAPI runs a sync endpoint and the teardown of its dependencies as separate worker-thread
    calls; a transaction left open in between holds a pooled connection (and on SQLite the write
    lock) while it waits for a free thread, and under load every thread ends up waiting on one of
    them. Committing (or rolling back) and closing right where the endpoint returns avoids that.
    """

    def __init__(self, path: str, endpoint, **kwargs):
        if inspect.iscoroutinefunction(endpoint):
            @functools.wraps(endpoint)
            async def wrapped(*args, **kw):
                try:
                    result = await endpoint(*args, **kw)
                except BaseException:
                    _finish(_session_in(kw), failed=True)
                    raise
                _finish(_session_in(kw), failed=False)
                return result
        else:
            @functools.wraps(endpoint)
            def wrapped(*args, **kw):
                try:
                    result = endpoint(*args, **kw)
                except BaseException:
                    _finish(_session_in(kw), failed=True)
                    raise
                _finish(_session_in(kw), failed=False)
                return result
        super().__init__(path, wrapped, **kwargs)
