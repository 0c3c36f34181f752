"""Finding 1 of issue 16: a forged X-Forwarded-For no longer buys new guesses, an account waits
longer after each failure instead of being locked, and password changes are throttled too."""
import re
from datetime import timedelta

import httpx
import pytest
from sqlmodel import select

from domain.accounts import throttle
from domain.accounts.models import LoginAttempt
from domain.settings import Settings
from server.serving import uvicorn_arguments, uvicorn_options
from tests.conftest import served_demo_app
from tests.web_helpers import field_error, post_form, signed_in

TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with served_demo_app(tmp_path_factory.mktemp("served")) as (url, _env):
        yield url


def test_forwarded_headers_are_believed_only_from_named_proxies():
    assert uvicorn_arguments(Settings(trusted_proxies="")) == ["--no-proxy-headers", "--no-server-header"]
    assert uvicorn_options(Settings(trusted_proxies=""))["proxy_headers"] is False
    named = uvicorn_options(Settings(trusted_proxies=" 10.0.0.5 , 10.1.0.0/16"))
    assert named["proxy_headers"] is True and named["forwarded_allow_ips"] == "10.0.0.5,10.1.0.0/16"


def test_rotating_forwarded_for_does_not_buy_password_guesses(served):
    with httpx.Client(base_url=served, timeout=10) as browser:
        token = TOKEN.search(browser.get("/login").text).group(1)

        def attempt(password: str, n: int) -> int:
            return browser.post("/login", data={"username": "office", "password": password, "csrf_token": token},
                                headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code

        answers = [attempt(f"guess-{n}", n) for n in range(10)]
        assert answers.count(401) <= throttle.FREE_FAILURES  # checked; the others refused unchecked
        assert answers.count(429) >= 10 - throttle.FREE_FAILURES
        assert attempt("demo-office", 99) == 429  # the right password, right after: not signed in
        assert "lianban_session" not in browser.cookies


def test_rotating_forwarded_for_does_not_lift_the_verification_limit(served):
    with httpx.Client(base_url=served, timeout=10) as client:
        answers = [client.get(f"/verify/NOSUCHCODE{n}", headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code
                   for n in range(40)]
    assert answers.count(429) >= 10


def test_wrong_current_passwords_are_recorded_and_throttled(engine, city, session, clock):
    browser = signed_in(engine, "office")
    clock.advance(timedelta(seconds=1))  # the guesses come after the sign-in
    answers = [post_form(browser, "/account/password", {"current_password": f"guess-{n}",
                                                        "new_password": "a new long passphrase",
                                                        "confirm_password": "a new long passphrase"})
               for n in range(throttle.FREE_FAILURES + 2)]
    assert [a.status_code for a in answers[:throttle.FREE_FAILURES]] == [422] * throttle.FREE_FAILURES
    assert all(a.status_code == 429 for a in answers[throttle.FREE_FAILURES:])
    assert "密码错误次数过多" in field_error(answers[-1].text, "current_password")
    reasons = [a.reason for a in session.exec(select(LoginAttempt).where(LoginAttempt.username == "office")
                                              .order_by(LoginAttempt.id)).all()]
    assert reasons == ["ok"] + ["bad_current_password"] * throttle.FREE_FAILURES + ["rate_limited"] * 2


def test_nobody_can_lock_someone_else_out_for_long(engine, city, clock):
    from sqlmodel import Session

    from domain.accounts import service as accounts
    from domain.errors import NotAuthenticated
    from domain.timeutil import utcnow

    with Session(engine) as s:
        for n in range(40):  # an attacker fails as fast as allowed, from many addresses
            clock.advance(throttle.delay_after(n, throttle.ACCOUNT_CAP))
            try:
                accounts.authenticate_password(session=s, username="deputy", password="x", ip=f"192.0.2.{n}")
            except (NotAuthenticated, accounts.TooManyAttempts):
                pass
            s.commit()
        clock.advance(throttle.ACCOUNT_CAP)  # the real person waits at most a minute
        assert accounts.authenticate_password(session=s, username="deputy", password="demo-deputy",
                                              ip="10.9.9.9", now=utcnow()).username == "deputy"
