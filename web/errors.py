"""How the web front answers when something is refused: a page for people, a small message for
htmx swaps (retargeted to the page's message area), a redirect to sign-in when signed out.
The JSON API keeps FastAPI's answers (see `install`)."""
import logging
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.errors import DomainError, NotAuthenticated
from httpkit.problems import error_response
from httpkit.validation import validation_error_json
from web.deps import is_htmx
from web.labels import N_
from web.language import language_of, short, tr
from web.security import is_exempt, safe_next
from web.templating import render


log = logging.getLogger("lianban.web")


def _user(request: Request):
    return getattr(request.state, "viewer", None)


def _message_response(request: Request, status: int, title: str, message: str) -> Response:
    if is_htmx(request):
        return render(request, "partials/flash.html", user=_user(request), status_code=status,
                      level="error", message=message, headers={"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"})
    return render(request, "errors/error.html", user=_user(request), status_code=status, title=title, message=message)


def login_redirect(request: Request) -> Response:
    """To the sign-in page, coming back afterwards to the page asked for (a GET; after a refused
    post the form's data is gone, so back to the start page)."""
    target, back = "/login", ""
    if is_htmx(request):  # the page the person is on, not the fragment's URL
        current = urlsplit(request.headers.get("hx-current-url", ""))
        back = safe_next(current.path + (f"?{current.query}" if current.query else ""), "")
    elif request.method == "GET":
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if back:
        target += "?next=" + quote(back, safe="")
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


_TITLES = {403: N_("Not allowed"), 404: N_("Not found"), 409: N_("Already changed"),
           422: N_("Please check your input"), 429: N_("Too many attempts")}


def domain_error_page(request: Request, exc: DomainError) -> Response:
    """A DomainError that reached the top of a web request (forms handle theirs in place)."""
    if isinstance(exc, NotAuthenticated):
        return login_redirect(request)
    title = tr(request, _TITLES.get(exc.status, "Request refused"))
    return _message_response(request, exc.status, title, exc.message(short(language_of(request))))


def csrf_refused(request: Request) -> Response:
    return _message_response(
        request, 403, tr(request, "Request refused"),
        tr(request, "This page has expired or the request did not come from this site. "
                         "Reload the page and try again."))


def install_error_pages(app: FastAPI) -> None:
    """HTTP errors on web paths (an unknown URL, a malformed id) show a page; the API keeps JSON."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code < 400:
            return await http_exception_handler(request, exc)
        if is_exempt(request.url.path):  # the JSON API: its shape, or problem details if asked for
            return error_response(request, exc.status_code, exc.detail, getattr(exc, "headers", None))
        if exc.status_code == 404:
            return _message_response(request, 404, tr(request, "Not found"),
                                     tr(request, "There is no such page, or you may not see it."))
        return _message_response(request, exc.status_code, tr(request, "Request refused"), str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        if is_exempt(request.url.path):
            return validation_error_json(request, exc)  # FastAPI's shape, without echoing a large input
        if request.method not in ("GET", "HEAD"):
            # A malformed form post is bad input, not a missing page: say so, and log it (a bug shows here).
            log.info("web_validation_error path=%s errors=%s", request.url.path, exc.errors()[:3])
            return _message_response(request, 422, tr(request, "Please check your input"),
                                     tr(request, "Please check your input"))
        return _message_response(request, 404, tr(request, "Not found"),
                                 tr(request, "There is no such page, or you may not see it."))
