"""Request bodies are counted as they stream in, before anything parses them.

Nobody reads a large body unless the request is signed in: a body from an anonymous client is
capped at a few KB (a sign-in form is ~200 bytes), the public verification upload at its own
limit, a signed-in person's or system's at `SIGNED_IN_MAX_BYTES`. A declared Content-Length over
the cap is refused before one byte is read; a body that streams past it is cut off where it
crosses. Nothing is buffered here, and the 413 never echoes the input. Credentials are looked up
only when a body outgrows the anonymous cap, so ordinary small requests cost nothing extra.
"""
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.db import get_engine, read_only
from domain.documents.verification import MAX_UPLOAD_BYTES

ANONYMOUS_MAX_BYTES = 16 * 1024
SIGNED_IN_MAX_BYTES = 60 * 1024 * 1024  # above the evidence policy's default limit, with the envelope
PUBLIC_UPLOADS = {"/verify": MAX_UPLOAD_BYTES + 64 * 1024, "/api/v1/verify": MAX_UPLOAD_BYTES + 64 * 1024}
BODYLESS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
SESSION_COOKIE = "lianban_session"


class BodyTooLarge(HTTPException):
    """An HTTPException, so a parser that wraps other errors (FastAPI's form reading) lets it through."""

    def __init__(self, limit: int):
        super().__init__(413, f"request body over {limit} bytes")
        self.limit = limit


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _credentials(headers: dict[str, str]) -> tuple[str | None, str | None]:
    """(API token, session cookie) as sent, unchecked."""
    token = headers.get("x-api-token")
    authorization = headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    cookie = None
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == SESSION_COOKIE:
            cookie = value
    return token, cookie


def _signed_in(scope: Scope, token: str | None, cookie: str | None) -> bool:
    from domain.accounts.service import user_for_session
    from domain.errors import DomainError
    from domain.users.service import authenticate

    engine = getattr(getattr(scope.get("app"), "state", None), "engine", None) or get_engine()
    with Session(read_only(engine)) as session:
        if cookie and user_for_session(session=session, token=cookie) is not None:
            return True
        if token:
            try:
                return authenticate(session=session, token=token) is not None
            except DomainError:
                return False
    return False


def refusal(path: str, limit: int):
    kb = max(1, limit // 1024)
    zh = f"请求内容过大（上限 {kb} KB）。未登录的请求只能提交很小的内容，请先登录。"
    if path.startswith("/api/"):
        return JSONResponse({"detail": [{"loc": ["body"], "msg": zh, "type": "body_too_large"}]}, status_code=413)
    return PlainTextResponse(zh, status_code=413)


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in BODYLESS:
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        token, cookie = _credentials(headers)
        public = PUBLIC_UPLOADS.get(scope["path"].rstrip("/") or "/")
        limits = {"small": public or ANONYMOUS_MAX_BYTES}
        checked = False

        async def limit() -> int:
            """The anonymous cap, raised once the credentials sent prove a signed-in caller."""
            nonlocal checked
            if not checked and (token or cookie):
                checked = True
                if await run_in_threadpool(_signed_in, scope, token, cookie):
                    limits["small"] = max(limits["small"], SIGNED_IN_MAX_BYTES)
            return limits["small"]

        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limits["small"] and int(declared) > await limit():
            await refusal(scope["path"], limits["small"])(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limits["small"] and received > await limit():
                    raise BodyTooLarge(limits["small"])
            return message

        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge as exc:
            if started:
                raise
            await refusal(scope["path"], exc.limit)(scope, receive, send)
