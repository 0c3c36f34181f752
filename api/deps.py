"""Request-scoped dependencies: one database session (one transaction) and the calling user."""
from collections.abc import Iterator

from fastapi import Depends, Header, Request
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


def current_user(session: Session = Depends(get_session),
                 authorization: str | None = Header(default=None, description="Bearer <API token>"),
                 x_api_token: str | None = Header(default=None)) -> User:
    token = x_api_token
    if authorization and authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    return authenticate(session=session, token=token)


def language(accept_language: str | None = Header(default=None)) -> str:
    return "en" if (accept_language or "").lower().startswith("en") else "zh"
