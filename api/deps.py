"""The calling system or person of a JSON request: an API token (the session and route class
both faces use are in `httpkit.session`)."""
from fastapi import Header, Request
from sqlmodel import Session

from domain.db import read_only
from domain.users.models import User
from domain.users.service import authenticate
from httpkit.session import engine_of


def current_user(request: Request,
                 authorization: str | None = Header(default=None, description="Bearer <API token>"),
                 x_api_token: str | None = Header(default=None)) -> User:
    """The calling user, looked up in a short read-only transaction of its own: the request's own
    transaction (and on SQLite its write lock) starts only when the endpoint works, in the same
    thread, so no request holds a connection or a lock while it waits for a worker thread."""
    token = x_api_token
    if authorization and authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    with Session(read_only(engine_of(request)), expire_on_commit=False) as session:
        return authenticate(session=session, token=token)
