"""Sign-in attempts (every one recorded, for the rate limit and for oversight) and browser sessions.

A session row holds only the SHA-256 of the cookie's random token: a leaked database does not
leak usable sessions. Logging out, deactivating a user or changing a password deletes rows, so
the server — not the cookie — decides whether a session is still valid.
"""
from datetime import datetime

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from domain.timeutil import UTCDateTime


class LoginAttempt(SQLModel, table=True):
    __tablename__ = "login_attempts"
    __table_args__ = (
        # The rate limit's query: this username from this address, recently.
        Index("ix_login_attempts_username_ip_at", "username", "ip", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64)  # as typed (trimmed, cut to 64): unknown names are recorded too
    ip: str = Field(max_length=64)
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    succeeded: bool
    # ok | bad_credentials | inactive | rate_limited
    reason: str = Field(max_length=32)


class WebSession(SQLModel, table=True):
    __tablename__ = "web_sessions"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
    ip: str | None = Field(default=None, max_length=64)
