"""What an attacker tries against the web pages: script in every free-text field, posts without the
page's token on every form route, SQL in every list filter, and pages without the security
headers. (Session fixation, expiry, logout and the sign-in rate limit: tests/web/test_web_auth.py.)"""
import io
import re
from urllib.parse import quote

import pytest
from fastapi.routing import iter_route_contexts
from sqlmodel import Session, func, select

from domain.cases.models import Case
from domain.orders.models import Order
from domain.units.models import Unit
from domain.users.models import User
from tests.conftest import auth, case_body, unit_id
from tests.web_helpers import csrf_token, new_browser, post_form, signed_in

XSS = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
SHORT = "<script>alert(1)</script>"  # for fields of a name's length
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def _raw_markup(html: str) -> list[str]:
    """Markup of the payload that reached the page unescaped."""
    return [bad for bad in ("<script>alert(1)", "<img src=x onerror", "onerror=alert(2)>") if bad in html]


def test_script_typed_into_any_free_text_field_stays_text_on_every_page(engine, city, client):
    office_h = auth("office")
    icbc = unit_id(engine, "bank.icbc.jz")
    # A unit name and a person's name are free text too (the admin types them).
    with Session(engine) as s:
        unit = s.get(Unit, icbc)
        unit.name = f"工商银行荆州分行{XSS}"
        s.add(unit)
        user = s.exec(select(User).where(User.username == "liaison_icbc")).one()
        user.display_name = f"刘芳{SHORT}"
        s.add(user)
        s.commit()
        user_id = user.id
    case = client.post("/api/v1/cases", headers=office_h, json=case_body(
        number="XSS-1", amount="280000", fraud_type=f"冒充{XSS}", victim_name=f"张{SHORT}")).json()
    returned = client.post(f"/api/v1/approvals/{case['approval']['id']}/decision", headers=auth("cid_head"),
                           json={"decision": "return", "comment": f"请补充{XSS}"})
    assert returned.status_code == 200
    order = client.post("/api/v1/orders", headers=office_h, json={
        "kind": "supervision", "addressee_unit_id": icbc, "title": f"督办{XSS}", "instructions": f"请办理{XSS}",
        "case_id": case["id"]}).json()
    liaison = auth("liaison_icbc")
    assert client.post(f"/api/v1/orders/{order['id']}/acknowledge", headers=liaison).status_code == 200
    assert client.post(f"/api/v1/orders/{order['id']}/report", headers=liaison,
                       json={"text": f"已办理{XSS}"}).status_code == 200
    doc = client.post("/api/v1/documents", headers=office_h, json={
        "kind": "supervision_order", "addressee": f"建设银行{XSS}", "title": f"关于督办{XSS}的通知",
        "paragraphs": [f"正文{XSS}"]})
    assert doc.status_code == 201, doc.text

    pages = {
        "office": ["/office", "/cases", f"/cases/{case['id']}", "/orders", f"/orders/{order['id']}",
                   "/cases?q=%E5%86%92%E5%85%85"],
        "liaison_icbc": ["/inbox", "/inbox/rows", f"/orders/{order['id']}", "/home"],
        "cid_head": [f"/cases/{case['id']}"],
        "admin": ["/admin/users", f"/admin/users/{user_id}", "/orders/new"],
    }
    shown = 0
    for username, paths in pages.items():
        browser = signed_in(engine, username)
        for path in paths:
            response = browser.get(path)
            assert response.status_code == 200, (username, path)
            assert not _raw_markup(response.text), (username, path, _raw_markup(response.text))
            shown += ESCAPED in response.text
    assert shown >= 8  # the payload is shown (as text) on the pages, not dropped
    verify = new_browser(engine).get(f"/verify/{doc.json()['verification_code']}")
    assert verify.status_code == 200 and not _raw_markup(verify.text) and ESCAPED in verify.text

    # The PDF prints the text as typed: the markup is neither run nor laid out as HTML.
    import pypdf

    pdf = client.get(f"/api/v1/documents/{doc.json()['id']}/pdf", headers=office_h)
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert "<script>alert(1)</script>" in re.sub(r"\s+", "", text)


def _web_posts(app) -> list[str]:
    return sorted({r.path for r in iter_route_contexts(app.routes)
                   if r.methods and "POST" in r.methods and not r.path.startswith(("/api/", "/docs"))})


def test_every_web_form_route_refuses_a_post_without_the_page_token(engine, city, client):
    from server.app import create_app

    admin = signed_in(engine, "admin")
    ids = {"case_id": 1, "order_id": 1, "approval_id": 1, "user_id": 1}
    client.post("/api/v1/cases", headers=auth("office"), json=case_body(number="CSRF-ALL"))
    before = client.get("/api/v1/cases", headers=auth("office")).json()["total"]
    posts = _web_posts(create_app(engine))
    assert len(posts) >= 15  # generated from the route table, so a new form route is covered too
    for path in posts:
        url = re.sub(r"{(\w+)}", lambda m: str(ids.get(m.group(1), 1)), path)
        for headers in ({}, {"X-CSRF-Token": "0" * 64}, {"HX-Request": "true"}):
            response = admin.post(url, data={"decision": "approve", "text": "x", "csrf_token": ""}, headers=headers,
                                  follow_redirects=False)
            assert response.status_code == 403, (path, headers, response.status_code)
    assert client.get("/api/v1/cases", headers=auth("office")).json()["total"] == before
    # The same session still works with its token: the refusals were the token's.
    assert admin.get("/admin/users").status_code == 200


PROBES = ["' OR '1'='1", "1; DROP TABLE cases;--", "%' OR 1=1 --", "\" OR \"\"=\"", "1' UNION SELECT username, "
          "password_hash FROM users--", "\\x00'", "（全角）'--", "' OR 1=1 LIMIT 1 OFFSET 0 --"]


def test_sql_in_list_filters_and_search_changes_nothing_and_errors_cleanly(engine, city, client, session):
    for n in range(3):
        client.post("/api/v1/cases", headers=auth("office"), json=case_body(number=f"INJ-{n}"))
    client.post("/api/v1/orders", headers=auth("office"), json={
        "kind": "supervision", "addressee_unit_id": unit_id(engine, "bank.icbc.jz"), "title": "督办"})
    counts = lambda: (session.exec(select(func.count()).select_from(Case)).one(),  # noqa: E731
                      session.exec(select(func.count()).select_from(Order)).one(),
                      session.exec(select(func.count()).select_from(User)).one())
    before = counts()
    web = {"office": ["/cases?q={p}", "/cases?stage={p}&state={p}&page={p}", "/orders?status={p}&kind={p}&overdue={p}"
                      "&escalated={p}&open={p}&page={p}", "/statistics?start={p}&end={p}&unit={p}"],
           "admin": ["/admin/users?q={p}&page={p}"],
           "liaison_icbc": ["/inbox?show={p}&page={p}", "/inbox/rows?v={p}&show={p}&page={p}"],
           "cid_head": ["/leader/cases?page={p}", "/leader/queue/rows?v={p}"]}
    api = {"office": ["/api/v1/cases?escalation_state={p}&offset=0", "/api/v1/orders?status={p}&kind={p}",
                      "/api/v1/processes?kind={p}", "/api/v1/units?code={p}&kind={p}", "/api/v1/approvals?status={p}",
                      "/api/v1/circulations/{p}", "/api/v1/verify/{p}", "/api/v1/statistics?unit={p}"]}
    browsers = {u: signed_in(engine, u) for u in web}
    for probe in PROBES:
        for username, paths in web.items():
            for path in paths:
                response = browsers[username].get(path.format(p=probe))
                assert response.status_code in (200, 204, 404, 422), (path, probe, response.status_code)
                assert not re.search(r"Traceback|OperationalError|syntax error|sqlite3|psycopg", response.text)
                assert "INJ-0" not in response.text or "q=" not in path  # a probe matches no case
        for path in api["office"]:
            response = client.get(path.format(p=probe), headers=auth("office"))
            assert response.status_code in (200, 404, 422, 429), (path, probe, response.status_code)
            if response.status_code == 200 and "items" in response.json():
                assert response.json()["total"] == 0, (path, probe)  # matched nothing, not everything
            elif response.status_code == 200 and isinstance(response.json(), list):
                assert response.json() == [], (path, probe)
            else:
                assert "sqlalchemy" not in response.text.lower()
    assert counts() == before


def _pages(app) -> list[str]:
    return sorted({r.path for r in iter_route_contexts(app.routes)
                   if r.methods and "GET" in r.methods and not r.path.startswith(("/api/", "/docs", "/redoc",
                                                                                     "/openapi", "/healthz"))})


@pytest.mark.parametrize("username", ["office", "admin", "liaison_icbc", "cid_head", None])
def test_every_page_carries_the_security_headers(engine, city, client, username):
    from server.app import create_app

    client.post("/api/v1/cases", headers=auth("office"), json=case_body(number="HDR-1"))
    browser = signed_in(engine, username) if username else new_browser(engine)
    pages = _pages(create_app(engine))
    assert "/cases/{case_id}" in pages and "/verify" in pages
    for path in pages + ["/no/such/page", "/static/css/app.css"]:
        url = re.sub(r"{(\w+)}", "1", path)
        response = browser.get(url, follow_redirects=False)
        headers = response.headers
        csp = headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp, (path, response.status_code)
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, path
        assert headers.get("x-content-type-options") == "nosniff", path
        assert headers.get("x-frame-options") == "DENY", path
        assert headers.get("referrer-policy") in ("same-origin", "no-referrer", "strict-origin-when-cross-origin"), path


def test_an_id_beyond_the_database_range_is_not_found_not_a_crash(engine, city):
    """Ids are 32-bit in PostgreSQL; a longer number used to reach the database and fail there (500)."""
    big = "99999999999999999999"
    office, admin = signed_in(engine, "office"), signed_in(engine, "admin")
    for browser, path in ((office, f"/cases/{big}"), (office, f"/orders/{big}"), (office, f"/orders/{big}/pdf"),
                          (office, f"/evidence/{big}"), (office, "/cases/3000000000"), (admin, f"/admin/users/{big}")):
        response = browser.get(path)
        assert response.status_code == 404, path
    area = post_form(office, "/cases/new", {"case_number": "BIG-1", "amount_cny": "300000", "fraud_type": "冒充领导",
                                            "victim_name": "张三", "victim_phone": "13800001234", "area": big,
                                            "reported_at": "2026-11-20T10:00"}, page="/cases/new")
    assert area.status_code == 422 and 'id="err-area"' in area.text
    unit = post_form(office, "/orders/new", {"kind": "supervision", "addressee_unit_id": big, "title": "督办"},
                     page="/orders/new")
    assert unit.status_code == 422 and "请选择接收单位" in unit.text
    for path in (f"/orders/{big}/cancel", f"/cases/{big}/result"):
        assert post_form(office, path, {"reason": "x"}, page="/cases/new").status_code in (404, 422), path


def test_script_in_a_query_parameter_is_not_reflected_as_markup(engine, city):
    """Reflected XSS: every parameter a page echoes back (search box, filters, sign-in's next)."""
    probe = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    pages = {None: ["/login?next={p}", "/verify?code={p}", "/verify/{p}"],
             "office": ["/cases?q={p}&stage={p}&state={p}&page={p}", "/orders?status={p}&kind={p}&page={p}",
                        "/orders/new?case={p}&unit={p}", "/statistics?start={p}&end={p}&unit={p}",
                        "/circulation?month={p}", "/no/such/{p}"],
             "admin": ["/admin/users?q={p}&page={p}"],
             "liaison_icbc": ["/inbox?show={p}&page={p}"]}
    for username, paths in pages.items():
        browser = signed_in(engine, username) if username else new_browser(engine)
        for path in paths:
            response = browser.get(path.format(p=quote(probe)))
            assert response.status_code < 500, path
            assert not _raw_markup(response.text), (path, _raw_markup(response.text))


def test_the_language_switch_and_sign_in_never_send_people_off_site(engine, city):
    browser = new_browser(engine)
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "\\\\evil"):
        response = post_form(browser, "/language", {"lang": "en", "next": target}, page="/login")
        assert response.status_code == 303
        location = response.headers["location"]
        assert location.startswith("/") and not location.startswith(("//", "/\\")), (target, location)
