"""Driving the web pages from tests: a browser-like client per person, signing in through the
login form, and posting forms with the page's CSRF token as a browser would."""
import re

from fastapi.testclient import TestClient

_TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def new_browser(engine, *, https: bool = False) -> TestClient:
    from server.app import create_app

    return TestClient(create_app(engine), base_url="https://testserver" if https else "http://testserver")


def csrf_token(browser: TestClient, page: str = "/login") -> str:
    """The token the given page carries (what a person's browser would send back)."""
    html = browser.get(page).text
    match = _TOKEN.search(html)
    assert match, f"no CSRF token on {page}"
    return match.group(1)


def sign_in(browser: TestClient, username: str, password: str | None = None):
    token = csrf_token(browser, "/login")
    return browser.post("/login", data={"username": username, "password": password or f"demo-{username}",
                                        "csrf_token": token}, follow_redirects=False)


def signed_in(engine, username: str, **kwargs) -> TestClient:
    browser = new_browser(engine, **kwargs)
    response = sign_in(browser, username)
    assert response.status_code == 303, response.text
    return browser


def post_form(browser: TestClient, path: str, data: dict, *, page: str = "/account/password", **kwargs):
    """A plain form post, with the hidden CSRF field of a page this person can open."""
    return browser.post(path, data={**data, "csrf_token": csrf_token(browser, page)}, follow_redirects=False,
                        **kwargs)


def htmx_post(browser: TestClient, path: str, data: dict, *, page: str = "/account/password"):
    """What htmx sends: the token in the X-CSRF-Token header (from hx-headers on <body>)."""
    return browser.post(path, data=data, headers={"HX-Request": "true", "X-CSRF-Token": csrf_token(browser, page)},
                        follow_redirects=False)


def field_error(html: str, field: str) -> str | None:
    """The error shown next to a field (the element the field's aria-describedby points at)."""
    match = re.search(rf'<p class="field-error" id="err-{re.escape(field)}">([^<]*)</p>', html)
    return match.group(1) if match else None


def input_value(html: str, field: str) -> str | None:
    match = re.search(rf'<input id="f-{re.escape(field)}" name="{re.escape(field)}"[^>]*?value="([^"]*)"', html)
    return match.group(1) if match else None
