"""Signing in and out of the web pages: passwords, the rate limit, session cookies, password
changes and what deactivating a user does to their open session."""
from datetime import timedelta

from sqlmodel import Session, select

from domain.accounts import service as accounts
from domain.accounts import throttle
from domain.accounts.models import LoginAttempt, WebSession
from domain.errors import NotAuthenticated
from domain.timeutil import utcnow
from tests.web_helpers import field_error, new_browser, post_form, sign_in, signed_in


def test_office_signs_in_and_lands_on_the_dashboard(engine, city, session):
    browser = new_browser(engine)
    response = sign_in(browser, "office")
    assert response.status_code == 303 and response.headers["location"] == "/office"
    cookie = response.headers["set-cookie"]
    assert "lianban_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http: a Secure cookie would never come back
    assert "Max-Age=43200" in cookie
    page = browser.get("/office")
    assert page.status_code == 200 and "联办值班员 王敏" in page.text
    attempt = session.exec(select(LoginAttempt)).one()
    assert attempt.username == "office" and attempt.succeeded and attempt.reason == "ok"


def test_cookie_is_secure_over_https(engine, city):
    browser = new_browser(engine, https=True)
    response = sign_in(browser, "office")
    assert response.status_code == 303
    assert "Secure" in response.headers["set-cookie"]


def test_a_leader_lands_on_the_approval_queue(engine, city):
    assert sign_in(new_browser(engine), "cid_head").headers["location"] == "/leader/queue"


def test_wrong_password_is_refused_next_to_the_password_field(engine, city, session):
    browser = new_browser(engine)
    response = sign_in(browser, "office", "not-the-password")
    assert response.status_code == 401
    assert field_error(response.text, "password") == "用户名或密码错误"
    assert 'value="office"' in response.text  # the username stays typed
    assert "lianban_session" not in browser.cookies
    assert browser.get("/office", follow_redirects=False).headers["location"].startswith("/login")
    attempt = session.exec(select(LoginAttempt)).one()
    assert not attempt.succeeded and attempt.reason == "bad_credentials"


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(engine, city):
    response = sign_in(new_browser(engine), "nobody", "whatever-it-is")
    assert response.status_code == 401 and field_error(response.text, "password") == "用户名或密码错误"


def test_failures_beyond_the_free_ones_make_the_account_wait(engine, city, session, clock):
    browser = new_browser(engine)
    for _ in range(throttle.FREE_FAILURES):
        assert sign_in(browser, "office", "wrong-password").status_code == 401
    refused = sign_in(browser, "office")  # even the right password, until the wait is over
    assert refused.status_code == 429
    assert "密码错误次数过多" in field_error(refused.text, "password")
    assert "lianban_session" not in browser.cookies
    reasons = [a.reason for a in session.exec(select(LoginAttempt).order_by(LoginAttempt.id)).all()]
    assert reasons == ["bad_credentials"] * throttle.FREE_FAILURES + ["rate_limited"]
    # Another account from the same computer does not wait; this one does only briefly.
    assert sign_in(new_browser(engine), "deputy").status_code == 303
    clock.advance(timedelta(seconds=2))
    assert sign_in(browser, "office").status_code == 303


def test_the_wait_is_counted_per_account_and_ends_after_the_window(engine, city):
    with Session(engine) as s:
        start = utcnow() - timedelta(minutes=20)
        for i in range(6):
            try:
                accounts.authenticate_password(session=s, username="office", password="x", ip="10.0.0.1",
                                               now=start + timedelta(seconds=10 * i))
            except NotAuthenticated:
                pass
        s.commit()
        try:
            accounts.authenticate_password(session=s, username="office", password="demo-office", ip="10.0.0.2",
                                           now=start + timedelta(seconds=51))
            raise AssertionError("should wait: the account failed six times, from any address")
        except accounts.TooManyAttempts:
            s.commit()
        # Once the failures have left the window: allowed again.
        assert accounts.authenticate_password(session=s, username="office", password="demo-office",
                                              ip="10.0.0.1", now=utcnow()).username == "office"


def test_login_issues_a_new_session_id_and_logout_ends_it(engine, city, session):
    browser = signed_in(engine, "office")
    first = browser.cookies["lianban_session"]
    assert sign_in(browser, "office").status_code == 303  # signing in again (a planted cookie included)
    second = browser.cookies["lianban_session"]
    assert first != second
    assert session.exec(select(WebSession)).all().__len__() == 1  # the old session row is gone
    response = post_form(browser, "/logout", {}, page="/office")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert session.exec(select(WebSession)).all() == []
    stolen = new_browser(engine)
    stolen.cookies.set("lianban_session", second)
    assert stolen.get("/office", follow_redirects=False).status_code == 303  # a copied cookie is worthless now


def test_expired_session_sends_back_to_login(engine, city):
    browser = signed_in(engine, "office")
    with Session(engine) as s:
        for row in s.exec(select(WebSession)).all():
            row.expires_at = utcnow() - timedelta(seconds=1)
            s.add(row)
        s.commit()
    response = browser.get("/cases?q=JZ", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=%2Fcases%3Fq%3DJZ"


def test_htmx_request_of_a_signed_out_person_redirects_the_whole_page(engine, city):
    response = new_browser(engine).get("/leader/queue/rows", headers={
        "HX-Request": "true", "HX-Current-URL": "http://testserver/leader/queue"})
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/login?next=%2Fleader%2Fqueue"


def test_next_never_leaves_the_site(engine, city):
    browser = new_browser(engine)
    token = browser.get("/login").text.split('name="csrf_token" value="')[1][:64]
    response = browser.post("/login", data={"username": "office", "password": "demo-office", "csrf_token": token,
                                            "next": "//evil.example/x"}, follow_redirects=False)
    assert response.headers["location"] == "/office"


def test_password_change(engine, city, session):
    browser = signed_in(engine, "office")
    other_device = signed_in(engine, "office")
    wrong = post_form(browser, "/account/password", {"current_password": "nope", "new_password": "a long new phrase",
                                                     "confirm_password": "a long new phrase"})
    assert wrong.status_code == 422 and field_error(wrong.text, "current_password") == "当前密码不正确"
    short = post_form(browser, "/account/password", {"current_password": "demo-office", "new_password": "short",
                                                     "confirm_password": "short"})
    assert field_error(short.text, "new_password") == "密码长度须为 10 到 128 个字符"
    mismatch = post_form(browser, "/account/password", {"current_password": "demo-office",
                                                        "new_password": "a long new phrase",
                                                        "confirm_password": "a long new phrase!"})
    assert field_error(mismatch.text, "confirm_password") == "两次输入的新密码不一致"
    done = post_form(browser, "/account/password", {"current_password": "demo-office",
                                                    "new_password": "river stone lantern",
                                                    "confirm_password": "river stone lantern"})
    assert done.status_code == 200 and "密码已修改" in done.text
    assert browser.get("/office").status_code == 200  # this session stays
    assert other_device.get("/office", follow_redirects=False).status_code == 303  # the others end
    assert sign_in(new_browser(engine), "office").status_code == 401
    assert sign_in(new_browser(engine), "office", "river stone lantern").status_code == 303
    assert session.exec(select(LoginAttempt).where(LoginAttempt.succeeded == True)).all()  # noqa: E712
