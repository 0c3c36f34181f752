"""The web front's protections, in one ASGI middleware for every path outside the JSON API:

- CSRF: every POST/PUT/PATCH/DELETE must carry the page's token, in the `X-CSRF-Token` header
  (htmx sends it from `hx-headers` on <body>) or in the `csrf_token` form field (plain forms).
  The token is the SHA-256 of the session cookie's secret (or, before sign-in, of a random
  "anonymous" cookie): another site can neither read it nor compute it. /api/v1 keeps its bearer
  tokens and is exempt (a browser never sends those by itself).
- Security headers on pages: a Content-Security-Policy without 'unsafe-inline' (scripts and
  styles come from files the app serves), nosniff, no framing, no referrer to other sites.
- Cookies: HttpOnly, SameSite=Lax, Secure when the request came over https.
"""
import hashlib
import hmac
import secrets
from urllib.parse import parse_qs

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.routing import Match
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_COOKIE = "lianban_session"
ANON_COOKIE = "lianban_anon"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The JSON API and its documentation pages (Swagger UI needs inline scripts) are not web pages.
EXEMPT_PREFIXES = ("/api/", "/docs", "/redoc", "/openapi.json")
MAX_FORM_BYTES = 50 * 1024 * 1024  # a form with an evidence upload, read once to find its token

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "font-src 'self'", "connect-src 'self'", "object-src 'none'", "base-uri 'self'",
    "form-action 'self'", "frame-ancestors 'none'",
])
PAGE_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


def is_exempt(path: str) -> bool:
    return path.startswith(EXEMPT_PREFIXES)


def _derive(secret: str) -> str:
    return hashlib.sha256(b"lianban-csrf\x00" + secret.encode()).hexdigest()


def csrf_token(request: Request) -> str:
    """The token this browser's pages carry: bound to its session, or to its anonymous cookie."""
    secret = (request.cookies.get(SESSION_COOKIE) or request.cookies.get(ANON_COOKIE)
              or request.scope.get("state", {}).get("new_anon_cookie"))
    return _derive(secret) if secret else ""


def _expected_token(cookies: dict[str, str]) -> str | None:
    secret = cookies.get(SESSION_COOKIE) or cookies.get(ANON_COOKIE)
    return _derive(secret) if secret else None


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(request: Request, response: Response, name: str, value: str, *, max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="lax",
                        secure=is_https(request))


def delete_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=is_https(request))


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path on this site: never another host (//evil, /\\evil, http://…)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) or any(
            c in target for c in "\r\n\t"):
        return default
    return target


class WebSecurityMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_exempt(scope["path"]):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        cookies = request.cookies
        new_anon = None
        if SESSION_COOKIE not in cookies and ANON_COOKIE not in cookies:
            new_anon = secrets.token_urlsafe(32)
            scope.setdefault("state", {})["new_anon_cookie"] = new_anon
        if scope["method"] in UNSAFE_METHODS:
            accepted, receive = await self._check_csrf(scope, receive, cookies)
            if not accepted:
                from web.errors import csrf_refused  # late: errors renders templates

                await csrf_refused(request)(scope, receive, self._with_headers(scope, send, None))
                return
        await self.app(scope, receive, self._with_headers(scope, send, new_anon))

    def _with_headers(self, scope: Scope, send: Send, new_anon: str | None) -> Send:
        secure = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in PAGE_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("cache-control", "no-store")
                    if new_anon:
                        headers.append("set-cookie", f"{ANON_COOKIE}={new_anon}; Path=/; HttpOnly; SameSite=Lax"
                                                     + ("; Secure" if secure else ""))
            await send(message)

        return send_with_headers

    async def _check_csrf(self, scope: Scope, receive: Receive, cookies: dict[str, str]) -> tuple[bool, Receive]:
        """The cheap checks first (cookie, header, route); the body is read for its token only when
        they all pass (and httpkit.body_limit caps it outside this middleware)."""
        expected = _expected_token(cookies)
        if expected is None:  # no cookie: no token can match, read nothing
            return False, receive
        headers = dict((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"])
        given = headers.get(CSRF_HEADER)
        if given is None:
            content_type = headers.get("content-type", "")
            if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
                return False, receive
            if not _route_exists(scope):
                return False, receive
            body, receive = await _buffer_body(receive)
            if body is None:
                return False, receive
            given = await _form_token(scope, body, content_type)
        return bool(expected and given and hmac.compare_digest(expected, given)), receive


def _route_exists(scope: Scope) -> bool:
    """Whether a route takes this method and path (else there is no form worth reading)."""
    router = getattr(scope.get("app"), "router", None)
    if router is None:
        return True
    return any(route.matches(scope)[0] == Match.FULL for route in router.routes)


async def _buffer_body(receive: Receive) -> tuple[bytes | None, Receive]:
    """Read the whole body once, and hand the app a receive that replays it."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None, receive
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return None, receive
        chunks.append(chunk)
        more = message.get("more_body", False)
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


async def _form_token(scope: Scope, body: bytes, content_type: str) -> str | None:
    if content_type.startswith("application/x-www-form-urlencoded"):
        values = parse_qs(body.decode("latin-1"), keep_blank_values=True).get(CSRF_FIELD)
        return values[0] if values else None

    async def once() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    form = await Request(scope, once).form()
    try:
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    finally:
        await form.close()
