"""One database session (one transaction) per request, and the route class that ends it in the
endpoint's own thread call."""
import functools
import inspect
from collections.abc import Iterator

from fastapi import Request
from fastapi.routing import APIRoute
from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.db import get_engine, read_only


def engine_of(request: Request) -> Engine:
    """The app's engine (tests build apps on their own databases), else the configured one."""
    return getattr(request.app.state, "engine", None) or get_engine()


def get_session(request: Request) -> Iterator[Session]:
    engine = engine_of(request)
    if request.method in ("GET", "HEAD"):
        engine = read_only(engine)
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


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
        if getattr(endpoint, "ends_transaction", False):  # a router included in another: wrapped once already
            super().__init__(path, endpoint, **kwargs)
            return
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
        wrapped.ends_transaction = True
        super().__init__(path, wrapped, **kwargs)
