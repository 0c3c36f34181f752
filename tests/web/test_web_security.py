"""CSRF on every state-changing web request (forms and htmx alike), the JSON API exempt, and
the security headers every page carries."""
import re

from sqlmodel import func, select

from domain.cases.models import Case
from tests.conftest import auth, case_body
from tests.web_helpers import csrf_token, new_browser, signed_in

CASE_FORM = {"case_number": "CSRF-1", "amount_cny": "300000", "fraud_type": "冒充领导", "victim_name": "张三",
             "victim_phone": "13800001234", "area": "", "reported_at": "2026-11-20T10:00"}


def _area_id(browser) -> str:
    return re.search(r'<option value="(\d+)">[^<]*郝穴镇', browser.get("/cases/new").text).group(1)


def test_a_form_post_without_the_token_is_refused(engine, city, session):
    office = signed_in(engine, "office")
    form = {**CASE_FORM, "area": _area_id(office)}
    refused = office.post("/cases/new", data=form, follow_redirects=False)
    assert refused.status_code == 403
    assert "页面已过期" in refused.text
    forged = office.post("/cases/new", data={**form, "csrf_token": "0" * 64}, follow_redirects=False)
    assert forged.status_code == 403
    assert session.exec(select(func.count()).select_from(Case)).one() == 0
    accepted = office.post("/cases/new", data={**form, "csrf_token": csrf_token(office, "/cases/new")},
                           follow_redirects=False)
    assert accepted.status_code == 303
    assert session.exec(select(func.count()).select_from(Case)).one() == 1


def test_htmx_requests_need_the_header_token(engine, city):
    office = signed_in(engine, "office")
    approval_id = office.post("/api/v1/cases", json=case_body(number="H-1", amount="280000"),
                              headers=auth("office")).json()["approval"]["id"]
    leader = signed_in(engine, "cid_head")
    refused = leader.post(f"/leader/approvals/{approval_id}/decision", data={"decision": "approve"},
                          headers={"HX-Request": "true"})
    assert refused.status_code == 403 and refused.headers["HX-Retarget"] == "#flash"
    accepted = leader.post(f"/leader/approvals/{approval_id}/decision", data={"decision": "approve"},
                           headers={"HX-Request": "true", "X-CSRF-Token": csrf_token(leader, "/leader/queue")})
    assert accepted.status_code == 200


def test_the_token_of_another_session_does_not_work(engine, city):
    office = signed_in(engine, "office")
    other = signed_in(engine, "office")
    response = office.post("/logout", data={"csrf_token": csrf_token(other, "/office")}, follow_redirects=False)
    assert response.status_code == 403


def test_sign_in_form_is_protected_too(engine, city):
    browser = new_browser(engine)
    browser.get("/login")
    response = browser.post("/login", data={"username": "office", "password": "demo-office"}, follow_redirects=False)
    assert response.status_code == 403
    assert "lianban_session" not in browser.cookies


def test_the_json_api_keeps_bearer_tokens_and_needs_no_csrf(client):
    response = client.post("/api/v1/cases", json=case_body(number="API-1"), headers=auth("office"))
    assert response.status_code == 201


def test_pages_carry_the_security_headers(engine, city):
    browser = new_browser(engine)
    for path in ("/login", "/static/css/app.css"):
        headers = browser.get(path).headers
        csp = headers["content-security-policy"]
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
    assert browser.get("/login").headers["cache-control"] == "no-store"


def test_pages_have_no_inline_script_or_style(engine, city):
    office = signed_in(engine, "office")
    office.post("/api/v1/cases", json=case_body(number="S-1", amount="2750000"), headers=auth("office"))
    for path in ("/office", "/cases", "/cases/new", "/cases/1", "/account/password"):
        html = office.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert "<style" not in html and " style=" not in html, path
        assert not re.search(r"\son[a-z]+=", html), path  # no inline event handlers either


def test_htmx_is_served_by_the_app_from_node_modules(engine, city):
    browser = new_browser(engine)
    assert 'src="/static/vendor/htmx/htmx.min.js"' in browser.get("/login").text
    response = browser.get("/static/vendor/htmx/htmx.min.js")
    assert response.status_code == 200 and "htmx" in response.text[:2000]
    assert browser.get("/static/vendor/htmx-ext-sse/sse.js").status_code == 200


def test_unknown_page_is_a_page_and_the_api_stays_json(engine, city):
    browser = new_browser(engine)
    page = browser.get("/no/such/page")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    api = browser.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.headers["content-type"] == "application/json"
    assert "content-security-policy" not in browser.get("/docs").headers  # Swagger UI needs its inline script
