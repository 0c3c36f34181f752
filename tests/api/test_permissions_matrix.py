"""Who may do what, route by route: every route of the app (JSON API and web pages), every kind of
user, against an object of their own and an object of another unit's (or another leader's).

One table, `TABLE`, says what each role may do on each route:
  yes  — allowed on any object (the office sees the whole city);
  own  — allowed on their own object, refused on another's (a route without an object: allowed,
         and the answer shows nothing of another unit's — checked by markers, see `VISIBLE`);
  no   — refused (401/403/404; a signed-out browser is sent to the sign-in page).
A route the table does not name fails `test_the_table_names_every_route`, so the table stays complete.

Besides the status: no answer to anyone carries text of an object they may not see (every object
carries a marker string in its free text), and a refused request writes nothing but its refusal:
the audit chain grows only by "<entity>.refused" entries that name the actor and the object. The full matrix runs on SQLite; a bank liaison and a leader, whose visibility is a
query of its own, run again on PostgreSQL. The sealed insider referral (行业内鬼) is proved
invisible to the implicated unit on its own, on SQLite and PostgreSQL.
"""
import contextlib
import itertools
import re
import shutil

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from tests.conftest import auth, case_body
from tests.web_helpers import csrf_token, sign_in
from tests import samples

LIAISONS = ("liaison_icbc", "liaison_ccb", "liaison_cmcc")
LEADERS = ("chief", "deputy", "cid_head")
ROLES = ("office", *LIAISONS, *LEADERS, "police_station", "auditor", "admin", "anonymous")
GROUPS = {"liaisons": LIAISONS, "leaders": LEADERS, "addressees": (*LIAISONS, "police_station"),
          "signed_in": tuple(r for r in ROLES if r != "anonymous"), "everyone": ROLES}

# route → "<roles or groups>:<outcome> …"; every role not named: no.
TABLE: dict[str, str] = {
    # ---- public and framework ----
    "GET /healthz": "everyone:yes",
    "GET /readyz": "everyone:yes",
    "GET /metrics": "everyone:yes",  # counts only (server/ops.py); keep it off the public proxy
    "GET /openapi.json": "everyone:yes",
    "GET /docs": "everyone:yes",
    "GET /docs/oauth2-redirect": "everyone:yes",
    "GET /redoc": "everyone:yes",
    "MOUNT /static": "everyone:yes",
    "MOUNT /static/vendor/htmx": "everyone:yes",
    "MOUNT /static/vendor/htmx-ext-sse": "everyone:yes",
    "GET /verify": "everyone:yes",
    "GET /verify/{code}": "everyone:yes",
    "POST /verify": "everyone:yes",
    "GET /api/v1/verify/{code}": "everyone:yes",
    "POST /api/v1/verify": "everyone:yes",
    # ---- cases and approvals ----
    "POST /api/v1/cases": "office admin:yes",
    "GET /api/v1/cases": "office auditor admin:yes leaders:own",
    "GET /api/v1/cases/{case_id}": "office auditor admin:yes leaders:own",
    "GET /api/v1/cases/{case_id}/approvals": "office auditor admin:yes leaders:own",
    "GET /api/v1/cases/{case_id}/events": "office auditor admin:yes leaders:own",
    "POST /api/v1/cases/{case_id}/reveal": "office admin:yes",
    "GET /api/v1/approvals": "signed_in:own",  # a leader's own queue; empty for everyone else
    "POST /api/v1/approvals/{approval_id}/decision": "leaders:own",
    # ---- documents ----
    "POST /api/v1/documents": "office admin:yes",
    "GET /api/v1/documents/{document_id}": "office auditor admin:yes",
    "GET /api/v1/documents/{document_id}/pdf": "office auditor admin:yes",
    "POST /api/v1/documents/{document_id}/corrections": "office admin:yes",
    "POST /api/v1/documents/{document_id}/revoke": "office admin:yes",
    # ---- oversight ----
    "GET /api/v1/audit/verify": "auditor admin:yes",
    "GET /audit": "auditor admin:yes",
    "GET /audit/chain": "auditor admin:yes",
    "GET /audit/export.csv": "auditor admin:yes",
    "GET /api/v1/policy": "signed_in:yes",
    "POST /api/v1/policy/reload": "admin:yes",
    # ---- orders ----
    "POST /api/v1/orders": "office admin:yes",
    "GET /api/v1/orders": "office auditor admin:yes addressees leaders:own",
    "GET /api/v1/orders/{order_id}": "office auditor admin:yes addressees leaders:own",
    "GET /api/v1/orders/{order_id}/pdf": "office auditor admin:yes addressees leaders:own",
    "POST /api/v1/orders/{order_id}/acknowledge": "addressees:own",
    "POST /api/v1/orders/acknowledgements": "addressees:yes",  # many at once: each order checked on its own
    "POST /api/v1/orders/acceptances": "office admin:yes",
    "POST /api/v1/orders/{order_id}/reveal": "office admin:yes addressees:own",
    "POST /api/v1/orders/{order_id}/start": "addressees:own",
    "POST /api/v1/orders/{order_id}/report": "addressees:own",
    "POST /api/v1/orders/{order_id}/accept": "office admin:yes",
    "POST /api/v1/orders/{order_id}/return": "office admin:yes",
    "POST /api/v1/orders/{order_id}/cancel": "office admin:yes",
    "POST /api/v1/orders/{order_id}/evidence": "addressees:own",
    "GET /api/v1/orders/{order_id}/evidence": "office auditor admin:yes addressees leaders:own",
    "GET /api/v1/evidence/{evidence_id}": "office auditor admin:yes addressees leaders:own",
    "GET /api/v1/notices": "signed_in:own",  # notices addressed to the caller's unit
    # ---- processes ----
    "POST /api/v1/fraud-accounts": "office admin:yes",
    "POST /api/v1/processes/reverse-audit": "office admin:yes",
    "POST /api/v1/processes/stop-payment": "office admin:yes",
    "POST /api/v1/processes/freeze": "office admin:yes",
    "POST /api/v1/processes/{process_id}/renew": "office admin:yes",
    "GET /api/v1/processes": "office auditor admin:yes addressees leaders:own",
    "GET /api/v1/processes/{process_id}": "office auditor admin:yes addressees:own",
    "POST /api/v1/processes/outlet-suspension": "office admin:yes",
    "POST /api/v1/processes/{process_id}/inspection": "office admin:yes",
    "POST /api/v1/processes/insider-referral": "office admin liaisons:yes",
    "POST /api/v1/processes/disciplinary": "office admin:yes",
    "POST /api/v1/processes/{process_id}/appeal": "office admin:yes",
    "POST /api/v1/processes/{process_id}/appeal-decision": "office admin:yes",
    "POST /api/v1/processes/dissuasion": "office admin:yes",
    "POST /api/v1/processes/{process_id}/notice-served": "office admin:yes",
    "POST /api/v1/processes/{process_id}/renewal-request": "liaisons:own",  # the bank holding the freeze
    # ---- statistics and the warning feed ----
    "PUT /api/v1/cases/{case_id}/result": "office admin:yes",
    "POST /api/v1/cases/{case_id}/close": "office admin:yes",
    "POST /api/v1/cases/{case_id}/reopen": "office admin:yes",
    "POST /api/v1/cases/{case_id}/resubmit": "office admin:yes",
    "POST /cases/{case_id}/close": "office admin:yes",
    "POST /cases/{case_id}/reopen": "office admin:yes",
    "POST /cases/{case_id}/resubmit": "office admin:yes",
    "GET /api/v1/statistics": "office auditor admin leaders:yes",
    "GET /api/v1/statistics/export": "office auditor admin leaders:yes",
    "POST /api/v1/warnings": "office admin:yes",
    "POST /cases/{case_id}/result": "office admin:yes",
    "GET /statistics": "office auditor admin leaders:yes",
    "GET /statistics/export": "office auditor admin leaders:yes",
    # ---- units and circulation ----
    "GET /api/v1/units": "signed_in:yes",
    "GET /api/v1/circulations/{month}": "signed_in:yes",
    "POST /api/v1/circulations/{month}/run": "office admin:yes",
    "GET /circulation": "signed_in:yes",  # the ranking is circulated city-wide
    "POST /circulation/run": "office admin:yes",
    "GET /circulation/{month}/pdf": "office auditor admin:yes",
    # ---- web: signing in ----
    "GET /": "everyone:yes",
    "GET /home": "signed_in:yes",
    "GET /login": "everyone:yes",
    "POST /login": "everyone:yes",
    "POST /logout": "everyone:yes",
    "GET /account/password": "signed_in:yes",
    "POST /account/password": "signed_in:yes",
    "POST /language": "everyone:yes",
    # ---- web: the office ----
    "GET /office": "office auditor admin:yes",
    "GET /cases": "office auditor admin:yes leaders:own",
    "GET /cases/new": "office admin:yes",
    "POST /cases/new": "office admin:yes",
    "GET /cases/{case_id}": "office auditor admin:yes leaders:own",
    "POST /cases/{case_id}/reveal": "office admin:yes",
    # ---- web: leaders ----
    "GET /leader/queue": "leaders:own",
    "GET /leader/queue/rows": "leaders:own",
    "POST /leader/approvals/{approval_id}/decision": "leaders:own",
    "GET /leader/cases": "leaders:own",
    # ---- web: orders ----
    "GET /orders": "office auditor admin:yes addressees leaders:own",  # a unit's list is its inbox
    "GET /orders/new": "office admin:yes",
    "POST /orders/new": "office admin:yes",
    "GET /orders/{order_id}": "office auditor admin:yes addressees leaders:own",
    "POST /orders/{order_id}/review": "office admin:yes",
    "POST /orders/{order_id}/cancel": "office admin:yes",
    "GET /orders/{order_id}/pdf": "office auditor admin:yes addressees leaders:own",
    "GET /evidence/{evidence_id}": "office auditor admin:yes addressees leaders:own",
    "GET /inbox": "office auditor admin leaders:yes addressees:own",  # the office's inbox is its list
    "GET /inbox/rows": "addressees:own",
    "POST /orders/{order_id}/acknowledge": "addressees:own",
    "POST /inbox/acknowledge": "addressees:yes",
    "POST /orders/accept-reports": "office admin:yes",
    "POST /orders/{order_id}/reveal": "office admin:yes addressees:own",
    "POST /orders/{order_id}/report": "addressees:own",
    # ---- web: processes ----
    "GET /processes": "office auditor admin:yes addressees leaders:own",
    "GET /processes/new": "office admin liaisons:yes",  # a liaison may report an insider
    "GET /processes/new/{kind_slug}": "office admin:yes",
    "POST /processes/new/{kind_slug}": "office admin:yes",
    "POST /processes/new/{kind_slug}/{entry_slug}": "office admin:yes",
    "POST /processes/new/{kind_slug}/{entry_slug}/upload": "office admin:yes",
    "GET /processes/{process_id}": "office auditor admin:yes addressees:own",
    # The matrix's processes (stop-payments, …) take no action of that name: not found for everyone.
    # The actions' permissions are the kinds' handlers', checked through their API twins above.
    "POST /processes/{process_id}/{action_slug}": "everyone:no",
    # ---- web: administration ----
    "GET /admin/users": "admin:yes",
    "GET /admin/users/new": "admin:yes",
    "POST /admin/users/new": "admin:yes",
    "GET /admin/users/{user_id}": "admin:yes",
    "POST /admin/users/{user_id}": "admin:yes",
    "POST /admin/users/{user_id}/deactivate": "admin:yes",
    "POST /admin/users/{user_id}/reactivate": "admin:yes",
    "POST /admin/users/{user_id}/password": "admin:yes",
}

# Which objects each role may see, by marker: a marker is in the free text of one object.
ALL_SEEING = {"office", "auditor", "admin"}
ORDER_UNITS = {"icbc": "bank.icbc.jz", "ccb": "bank.ccb.jz", "cmcc": "carrier.cmcc.jz", "station": "psb.shashi.station"}
ADDRESSEE_OF = {"icbc": "liaison_icbc", "ccb": "liaison_ccb", "cmcc": "liaison_cmcc", "station": "police_station"}
VISIBLE: dict[str, set[str]] = {
    **{f"MXCASE{t}": ALL_SEEING | {t} for t in LEADERS},
    **{f"MXORDER{k}": ALL_SEEING | {ADDRESSEE_OF[k]} for k in ORDER_UNITS},
    **{f"MXORDERled{t}": ALL_SEEING | {"liaison_icbc", t} for t in LEADERS},  # a led case's order to ICBC
    **{f"MXEVIDENCE{k}": ALL_SEEING | {ADDRESSEE_OF[k]} for k in ORDER_UNITS},
    **{f"MXEVIDENCEled{t}": ALL_SEEING | {"liaison_icbc", t} for t in LEADERS},
    "MXDOCUMENTa": ALL_SEEING, "MXDOCUMENTb": ALL_SEEING,
    "MXINSIDER": ALL_SEEING, "MXFACTS": ALL_SEEING,  # the sealed referral: only the office and the police
    "MXUSERa": {"admin"}, "MXUSERb": {"admin"},
}
OTHER_LEADER = {"chief": "deputy", "deputy": "cid_head", "cid_head": "chief"}
TIER_AMOUNTS = {"cid_head": "280000", "deputy": "600000", "chief": "2750000"}
PDF = samples.PDF


def expectations(route: str) -> dict[str, str]:
    """The table's clauses ("office admin:yes leaders:own") for one route, role by role."""
    outcome = dict.fromkeys(ROLES, "no")
    for names, value in re.findall(r"([\w ]+?):(yes|own|no)", TABLE[route]):
        for name in names.split():
            for role in GROUPS.get(name, (name,)):
                assert role in ROLES, f"{route}: unknown role {role}"
                outcome[role] = value
    return outcome


def app_routes(app) -> list[str]:
    found = []
    for route in iter_route_contexts(app.routes):
        methods = route.methods
        if methods is None:  # a mount (static files)
            found.append(f"MOUNT {route.path}")
            continue
        found.extend(f"{m} {route.path}" for m in sorted(methods - {"HEAD"}))
    return found


# ---- the city and its objects, built once ----

class World:
    def __init__(self, engine, app, api: TestClient):
        self.engine, self.app, self.api = engine, app, api
        self.units: dict[str, int] = {}
        self.ids: dict[str, dict[str, int]] = {k: {} for k in ("case", "approval", "order", "evidence", "process",
                                                             "document", "user")}
        self.code = ""
        self.browsers: dict[str, TestClient] = {}
        self.tokens: dict[str, str] = {}
        self.counter = itertools.count(1)

    def audit_length(self) -> int:
        from domain.audit.models import AuditEvent
        from domain.db import read_only

        with Session(read_only(self.engine)) as s:
            return s.exec(select(func.count()).select_from(AuditEvent)).one()

    def audit_since(self, length: int) -> list:
        """The entries appended after the chain was `length` long (seq counts from 1, without gaps)."""
        from domain.audit.models import AuditEvent
        from domain.db import read_only

        with Session(read_only(self.engine)) as s:
            return list(s.exec(select(AuditEvent).where(AuditEvent.seq > length).order_by(AuditEvent.seq)).all())


def _ok(response, what: str):
    assert response.status_code < 300, f"{what}: {response.status_code} {response.text[:300]}"
    return response.json()


def _issue_due_documents_and_advance(engine) -> None:
    from domain.orders import documents as order_documents
    from domain.processes import service as processes
    from domain.timeutil import utcnow

    for _ in range(3):
        with Session(engine) as s:
            for process_id in processes.due(session=s, now=utcnow()):
                processes.advance(session=s, process_id=process_id)
            s.commit()
        with Session(engine) as s:
            for order_id in order_documents.due(session=s):
                order_documents.issue_for(session=s, order_id=order_id)
            s.commit()


def build_world(engine, app, api: TestClient) -> World:
    from domain.escalation import service as escalation
    from domain.users.models import User
    from domain.users.service import hash_token

    w = World(engine, app, api)
    office = auth("office")
    w.units = {u["code"]: u["id"] for u in _ok(api.get("/api/v1/units", headers=office), "units")}
    for tier, amount in TIER_AMOUNTS.items():
        created = _ok(api.post("/api/v1/cases", headers=office, json=case_body(number=f"MXCASE{tier}", amount=amount)),
                      "case")
        w.ids["case"][tier], w.ids["approval"][tier] = created["id"], created["approval"]["id"]
        led = _ok(api.post("/api/v1/cases", headers=office, json=case_body(number=f"MXCASEled{tier}", amount=amount)),
                  "led case")
        _ok(api.post(f"/api/v1/approvals/{led['approval']['id']}/decision", headers=auth(tier),
                     json={"decision": "approve"}), "approve")
        with Session(engine) as s:
            escalation.apply_decision(session=s, approval_id=led["approval"]["id"])
            s.commit()
        w.ids["case"][f"led{tier}"] = led["id"]
    for key, code in ORDER_UNITS.items():
        w.ids["order"][key] = _ok(api.post("/api/v1/orders", headers=office, json={
            "kind": "supervision", "addressee_unit_id": w.units[code], "title": f"督办 MXORDER{key}"}), "order")["id"]
    for tier in LEADERS:
        w.ids["order"][f"led{tier}"] = _ok(api.post("/api/v1/orders", headers=office, json={
            "kind": "supervision", "addressee_unit_id": w.units["bank.icbc.jz"], "title": f"督办 MXORDERled{tier}",
            "case_id": w.ids["case"][f"led{tier}"]}), "led order")["id"]
    for key in [*ORDER_UNITS, *(f"led{t}" for t in LEADERS)]:
        uploader = ADDRESSEE_OF.get(key, "liaison_icbc")
        w.ids["evidence"][key] = _ok(api.post(f"/api/v1/orders/{w.ids['order'][key]}/evidence", headers=auth(uploader),
                                              files={"file": (f"MXEVIDENCE{key}.pdf", PDF, "application/pdf")}),
                                     "evidence")["id"]
    for key, bank in (("icbc", "bank.icbc.jz"), ("ccb", "bank.ccb.jz")):
        w.ids["process"][key] = _ok(api.post("/api/v1/processes/stop-payment", headers=office, json={
            "bank_unit_id": w.units[bank], "account_number": f"62220202000{w.units[bank]:08d}", "amount_cny": "5000"}),
            "stop-payment")["id"]
    w.ids["process"]["cmcc"] = _ok(api.post("/api/v1/processes/outlet-suspension", headers=office, json={
        "outlet_unit_id": w.units["carrier.cmcc.jz.shashi"], "reason": "两卡涉诈"}), "suspension")["id"]
    w.ids["process"]["station"] = _ok(api.post("/api/v1/processes/dissuasion", headers=office, json={
        "area": "shashi.zhongshan", "risk_level": "high", "victim_name": "王小明", "victim_phone": "13900001111"}),
        "dissuasion")["id"]
    w.ids["process"]["sealed"] = _ok(api.post("/api/v1/processes/insider-referral", headers=office, json={
        "employer_unit_id": w.units["bank.icbc.jz"], "employee_name": "MXINSIDER", "facts": "MXFACTS 批量开卡"}),
        "referral")["id"]
    _issue_due_documents_and_advance(engine)
    _ok(api.post("/api/v1/circulations/2026-10/run", headers=office), "circulation")
    for key in ("a", "b"):
        doc = _ok(api.post("/api/v1/documents", headers=office, json={
            "kind": "supervision_order", "addressee": "中国工商银行荆州分行", "title": f"关于督办的通知 MXDOCUMENT{key}",
            "paragraphs": ["请按时反馈。"]}), "document")
        w.ids["document"][key] = doc["id"]
        w.code = w.code or doc["verification_code"]
    with Session(engine) as s:
        for key in ("a", "b"):
            user = User(username=f"mx-{key}", display_name=f"MXUSER{key}", role="office", unit_id=w.units["office"],
                        token_hash=hash_token(f"mx-token-{key}"))
            s.add(user)
            s.flush()
            w.ids["user"][key] = user.id
        s.commit()
    for role in ROLES:
        browser = TestClient(app)
        if role != "anonymous":
            assert sign_in(browser, role).status_code == 303
        w.browsers[role] = browser
        w.tokens[role] = csrf_token(browser, "/login" if role == "anonymous" else "/account/password")
    return w


@contextlib.contextmanager
def world_on(url: str):
    """The world on a database that already holds the demo city's units and users (a template copy)."""
    from domain.db import make_engine
    from server.app import create_app

    engine = make_engine(url)
    app = create_app(engine)
    try:
        with TestClient(app) as api:
            yield build_world(engine, app, api)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def world(tmp_path_factory, database_templates):
    path = tmp_path_factory.mktemp("matrix") / "lianban.db"
    shutil.copyfile(database_templates.sqlite(with_city=True), path)
    with world_on(f"sqlite:///{path}") as w:
        yield w


@pytest.fixture(scope="module")
def pg_world(postgres_available, database_templates):
    """The same city on PostgreSQL, for the roles whose visibility is a query of its own."""
    from tests.conftest import PG_ADMIN_URL
    from tests.support.databases import pg_url

    if not postgres_available:
        pytest.skip(f"PostgreSQL unreachable at {PG_ADMIN_URL}")
    name = database_templates.lend(with_city=True)
    try:
        with world_on(pg_url(name)) as w:
            yield w
    finally:
        database_templates.give_back(name, with_city=True)


# ---- which object a role calls "mine" and which "someone else's" ----

ORDER_KEYS = {"liaison_icbc": "icbc", "liaison_ccb": "ccb", "liaison_cmcc": "cmcc", "police_station": "station"}


def object_ids(w: World, role: str, kind: str) -> tuple[object, object]:
    ids = w.ids.get(kind, {})
    if kind in ("case", "approval"):
        if role in LEADERS:
            return ids[role], ids[OTHER_LEADER[role]]
        return ids["cid_head"], ids["chief"]
    if kind in ("order", "evidence", "process"):
        own = ORDER_KEYS
        if role in own:
            return ids[own[role]], ids["icbc" if own[role] != "icbc" else "ccb"]
        if role in LEADERS and kind != "process":
            return ids[f"led{role}"], ids[f"led{OTHER_LEADER[role]}"]
        return ids["icbc"], ids["ccb"]
    if kind in ("document", "user"):
        return ids["a"], ids["b"]
    if kind in SLUGS:
        return SLUGS[kind], SLUGS[kind]
    if kind == "month":
        return "2026-10", "2026-10"
    if kind == "code":
        return w.code, w.code
    raise AssertionError(f"no object for {{{kind}}}")


SLUGS = {"kind_slug": "reverse-audit", "entry_slug": "fraud-account", "action_slug": "inspection"}
PARAM_KINDS = {"kind_slug": "kind_slug", "entry_slug": "entry_slug", "action_slug": "action_slug", "case_id": "case", "approval_id": "approval", "order_id": "order", "evidence_id": "evidence",
               "process_id": "process", "document_id": "document", "user_id": "user", "month": "month", "code": "code"}


def request_body(w: World, route: str) -> dict:
    """A request the route would accept from someone allowed (so a refusal is the permission's)."""
    n = next(w.counter)
    unit = w.units
    document = {"kind": "supervision_order", "addressee": "中国建设银行荆州分行", "title": f"矩阵 {n}",
                "paragraphs": ["正文。"]}
    bodies = {
        "POST /api/v1/cases": {"json": case_body(number=f"MX-NEW-{n}")},
        "POST /api/v1/approvals/{approval_id}/decision": {"json": {"decision": "approve"}},
        "POST /api/v1/documents": {"json": document},
        "POST /api/v1/documents/{document_id}/corrections": {"json": document},
        "POST /api/v1/documents/{document_id}/revoke": {"json": {"reason": "矩阵测试"}},
        "POST /api/v1/orders": {"json": {"kind": "supervision", "addressee_unit_id": unit["bank.ccb.jz"],
                                         "title": f"矩阵 {n}"}},
        "POST /api/v1/orders/{order_id}/report": {"json": {"text": "已办理"}},
        "POST /api/v1/orders/acknowledgements": {"json": {"order_ids": [999_999]}},  # answered "not found"
        "POST /api/v1/orders/acceptances": {"json": {"order_ids": [999_999]}},
        "POST /inbox/acknowledge": {"data": {"order_id": "999999"}},
        "POST /orders/accept-reports": {"data": {"order_id": "999999"}},
        "POST /api/v1/orders/{order_id}/accept": {"json": {}},
        "POST /api/v1/orders/{order_id}/return": {"json": {"comment": "请补充"}},
        "POST /api/v1/orders/{order_id}/cancel": {"json": {"reason": "矩阵测试"}},
        "POST /api/v1/orders/{order_id}/evidence": {"files": {"file": (f"m{n}.pdf", PDF, "application/pdf")}},
        "POST /api/v1/verify": {"files": {"file": ("x.pdf", PDF, "application/pdf")}},
        "POST /api/v1/fraud-accounts": {"json": {"account_number": f"6222{n:015d}", "opening_unit_id":
                                                 unit["bank.ccb.jz"], "opened_on": "2026-10-01T10:00:00+08:00"}},
        "POST /api/v1/processes/reverse-audit": {"json": {"branch_unit_id": unit["bank.ccb.jz"], "reason": "矩阵"}},
        "POST /api/v1/processes/stop-payment": {"json": {"bank_unit_id": unit["bank.ccb.jz"],
                                                         "account_number": f"6227{n:015d}", "amount_cny": "100"}},
        "POST /api/v1/processes/freeze": {"json": {"bank_unit_id": unit["bank.ccb.jz"],
                                                   "account_number": f"6228{n:015d}", "amount_cny": "100"}},
        "POST /api/v1/processes/outlet-suspension": {"json": {"outlet_unit_id": unit["carrier.cmcc.jz.shashi"],
                                                              "reason": "矩阵"}},
        "POST /api/v1/processes/{process_id}/inspection": {"json": {"passed": True}},
        "POST /api/v1/processes/insider-referral": {"json": {"employer_unit_id": unit["carrier.cmcc.jz.shashi"],
                                                             "employee_name": "某员工", "facts": "矩阵"}},
        "POST /api/v1/processes/disciplinary": {"json": {"person_name": "李四", "id_number": "42100219900101123X",
                                                         "ground": "card_dealing", "measures": ["limit_calls"],
                                                         "addressee_unit_ids": [unit["carrier.cmcc.jz"]]}},
        "POST /api/v1/processes/{process_id}/appeal": {"json": {"grounds": "矩阵"}},
        "POST /api/v1/processes/{process_id}/notice-served": {"json": {"served_on": "2026-11-01"}},
        "POST /api/v1/processes/{process_id}/renewal-request": {"json": {"reason": "矩阵"}},
        "POST /processes/new/{kind_slug}": {"data": {"branch_unit_id": str(unit["bank.ccb.jz"]), "reason": "矩阵"}},
        "POST /processes/new/{kind_slug}/{entry_slug}": {"data": {
            "account_number": f"6229{n:015d}", "opening_unit_id": str(unit["bank.icbc.jz.jiangling"]),
            "opened_on": "2026-10-01"}},
        "POST /processes/new/{kind_slug}/{entry_slug}/upload": {"files": {"file": (
            "accounts.csv", f"涉案账号,开户网点,开户日期\n6230{n:015d},{unit['bank.icbc.jz.jiangling']},2026-10-01\n"
            .encode(), "text/csv")}},
        "POST /processes/{process_id}/{action_slug}": {"data": {"passed": "1"}},
        "POST /api/v1/processes/{process_id}/appeal-decision": {"json": {"upheld": False, "reason": "矩阵"}},
        "POST /api/v1/processes/dissuasion": {"json": {"area": "jiangling.haoxue", "risk_level": "low",
                                                       "victim_name": "王五", "victim_phone": "13900002222"}},
        "PUT /api/v1/cases/{case_id}/result": {"json": {"suspects_caught": 1, "recovered_cny": "1000"}},
        "POST /api/v1/warnings": {"json": {"warnings": [{"warning_number": f"MXW{n}", "area": "jiangling.haoxue",
                                                         "risk_level": "low",
                                                         "received_at": "2026-11-20T10:00:00+08:00"}]}},
        "POST /cases/{case_id}/result": {"data": {"suspects_caught": "1", "recovered_cny": "1000"}},
        "POST /api/v1/cases/{case_id}/close": {"json": {"outcome": "unsolved", "reason": "矩阵测试原因"}},
        "POST /api/v1/cases/{case_id}/reopen": {"json": {"reason": "矩阵测试原因"}},
        "POST /api/v1/cases/{case_id}/resubmit": {"json": {}},
        "POST /cases/{case_id}/close": {"data": {"outcome": "unsolved", "reason": "矩阵测试原因"}},
        "POST /cases/{case_id}/reopen": {"data": {"reason": "矩阵测试原因"}},
        "POST /api/v1/cases/{case_id}/reveal": {"json": {"reason": "矩阵测试原因"}},
        "POST /cases/{case_id}/reveal": {"data": {"reason": "矩阵测试原因"}},
        "POST /api/v1/orders/{order_id}/reveal": {"json": {"reason": "矩阵测试原因"}},
        "POST /orders/{order_id}/reveal": {"data": {"reason": "矩阵测试原因"}},
        "POST /cases/{case_id}/resubmit": {"data": {}},
        # web forms (the CSRF token is added by `call`)
        "POST /login": {"data": {"username": f"nobody-{n}", "password": "wrong"}},
        "POST /account/password": {"data": {"current_password": "wrong", "new_password": "x", "confirm_password": "y"}},
        "POST /language": {"data": {"lang": "zh", "next": "/"}},
        "POST /cases/new": {"data": {"case_number": f"MX-WEB-{n}", "amount_cny": "300000", "fraud_type": "冒充领导",
                                     "victim_name": "张三", "victim_phone": "13800001234",
                                     "area": str(unit["jiangling.haoxue"]), "reported_at": "2026-11-20T10:00"}},
        "POST /leader/approvals/{approval_id}/decision": {"data": {"decision": "approve"}},
        "POST /orders/new": {"data": {"kind": "supervision", "addressee_unit_id": str(unit["bank.ccb.jz"]),
                                      "title": f"矩阵 {n}"}},
        "POST /orders/{order_id}/review": {"data": {"decision": "return", "comment": "请补充"}},
        "POST /orders/{order_id}/cancel": {"data": {"reason": "矩阵"}},
        "POST /orders/{order_id}/report": {"data": {"text": "已办理"}},
        "POST /circulation/run": {"data": {"month": "2026-09"}},
        "POST /verify": {"files": {"file": ("x.pdf", PDF, "application/pdf")}},
        "POST /admin/users/new": {"data": {"username": f"mxnew{n}", "display_name": "新用户", "role": "auditor",
                                           "unit_id": str(unit["office"]), "password": "Matrix-pass-2026!"}},
        "POST /admin/users/{user_id}": {"data": {"display_name": "MXUSERa", "role": "office",
                                                 "unit_id": str(unit["office"])}},
        "POST /admin/users/{user_id}/password": {"data": {"password": "Matrix-pass-2026!"}},
    }
    return bodies.get(route, {})


def call(w: World, role: str, route: str, which: int):
    method, template = route.split(" ", 1)
    path = template
    for name in re.findall(r"{(\w+)}", template):
        path = path.replace(f"{{{name}}}", str(object_ids(w, role, PARAM_KINDS[name])[which]))
    kwargs = request_body(w, route)
    if path.startswith("/api/") or path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        client, headers = w.api, ({} if role == "anonymous" else auth(role))
    else:
        client, headers = w.browsers[role], {}
        if method == "POST":
            kwargs = {**kwargs, "data": {**kwargs.get("data", {}), "csrf_token": w.tokens[role]}}
    if "verify" in path:
        w.app.state.verify_limiter = None  # its rate limit is tested elsewhere
    return client.request(method, path, headers=headers, follow_redirects=False, **kwargs)


# Routes whose own answer is a 401 (a wrong password) or a redirect to the sign-in page.
SIGN_IN_ROUTES = {"GET /", "POST /login", "POST /logout"}


def refused(response, role: str, route: str) -> bool:
    if route in SIGN_IN_ROUTES:
        return response.status_code in (403, 404)
    if response.status_code in (401, 403, 404):
        return True
    # A signed-out browser is sent to sign in (htmx: an HX-Redirect).
    return role == "anonymous" and response.status_code == 303 and \
        response.headers.get("location", "").startswith("/login")


def markers_in(response) -> set[str]:
    if not response.headers.get("content-type", "").startswith(("application/json", "text/")):
        return set()
    text = response.text.upper()  # case numbers are stored upper-cased (issue 16, finding 9)
    return {marker for marker in VISIBLE if marker.upper() in text}


ORDERED_ROUTES = sorted(TABLE, key=lambda r: r == "POST /logout")  # signing out last


def test_the_table_names_every_route(world):
    routes = app_routes(world.app)
    assert sorted(set(routes) - set(TABLE)) == [], "routes missing from TABLE: say who may use them"
    assert sorted(set(TABLE) - set(routes)) == [], "TABLE names routes the app no longer has"
    for route in TABLE:
        expectations(route)  # every name in the table is a role or a group


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_what_the_table_allows_and_nothing_else(world, role):
    check_role(world, role)


@pytest.mark.parametrize("role", ["liaison_icbc", "cid_head"])
def test_the_own_only_roles_on_postgresql(pg_world, role):
    check_role(pg_world, role)


def check_role(world: World, role: str) -> None:
    failures, seen = [], set()
    for route in ORDERED_ROUTES:
        if route.startswith("MOUNT"):
            continue
        expected = expectations(route)[role]
        has_object = "{" in route
        for which in ((0, 1) if has_object else (0,)):
            allowed = expected == "yes" or (expected == "own" and (which == 0 or not has_object))
            before = world.audit_length() if not allowed else None
            objects = {(PARAM_KINDS[name], str(object_ids(world, role, PARAM_KINDS[name])[which]))
                       for name in re.findall(r"{(\w+)}", route)}
            response = call(world, role, route, which)
            label = f"{route} [{'own' if which == 0 else 'other'}]"
            if response.status_code >= 500 and not (route == "GET /readyz" and response.status_code == 503):
                # /readyz answers 503 by design while the session's Prefect server is not running
                failures.append(f"{label}: server error {response.status_code}")
            elif allowed and refused(response, role, route):
                failures.append(f"{label}: refused ({response.status_code}) but the table allows it")
            elif not allowed and not refused(response, role, route):
                failures.append(f"{label}: answered {response.status_code} but the table refuses it")
            elif not allowed and (wrong := not_refusals(world.audit_since(before), role, route, objects)):
                failures.append(f"{label}: refused, yet the audit trail grew by more than its refusal: {wrong}")
            shown = markers_in(response)
            seen |= shown
            if leaks := sorted(m for m in shown if role not in VISIBLE[m]):
                failures.append(f"{label}: shows {leaks} of another unit")
    # The markers work: everything this role may see did show up somewhere (of the evidence files,
    # those of the orders the role opened).
    by_id = {v: k for k, v in world.ids["evidence"].items()}
    opened = {f"MXEVIDENCE{by_id[i]}" for i in object_ids(world, role, "evidence")}
    if unseen := sorted(m for m, seen_by in VISIBLE.items() if role in seen_by and m not in seen
                        and (not m.startswith("MXEVIDENCE") or m in opened)):
        failures.append(f"never shown although visible to {role}: {unseen}")
    assert not failures, f"{role}:\n" + "\n".join(failures)


def not_refusals(entries: list, role: str, route: str, objects: set[tuple[str, str]]) -> list[str]:
    """The entries a refused request wrote that are not its refusal: "<entity>.refused", by this
    actor, about the object the route names (a route without an object writes nothing)."""
    return [f"{e.action} by {e.actor} on {e.entity_type} {e.entity_id}" for e in entries
            if not (e.action == f"{e.entity_type}.refused" and e.actor == role
                    and (e.entity_type, str(e.entity_id)) in objects)]


# ---- the permission table of the domain (domain.transitions) and the routes agree ----

# Which routes make each move people make (system-only moves have none).
MOVE_ROUTES: dict[tuple[str, str], tuple[str, ...]] = {
    ("order", "acknowledge"): ("POST /api/v1/orders/{order_id}/acknowledge", "POST /orders/{order_id}/acknowledge",
                               "POST /api/v1/orders/acknowledgements", "POST /inbox/acknowledge"),
    ("order", "start"): ("POST /api/v1/orders/{order_id}/start",),
    ("order", "report"): ("POST /api/v1/orders/{order_id}/report", "POST /orders/{order_id}/report"),
    ("order", "accept"): ("POST /api/v1/orders/{order_id}/accept", "POST /orders/{order_id}/review",
                          "POST /api/v1/orders/acceptances", "POST /orders/accept-reports"),
    ("order", "return"): ("POST /api/v1/orders/{order_id}/return", "POST /orders/{order_id}/review"),
    ("order", "cancel"): ("POST /api/v1/orders/{order_id}/cancel", "POST /orders/{order_id}/cancel"),
    ("approval", "approve"): ("POST /api/v1/approvals/{approval_id}/decision",
                              "POST /leader/approvals/{approval_id}/decision"),
    ("approval", "return"): ("POST /api/v1/approvals/{approval_id}/decision",
                             "POST /leader/approvals/{approval_id}/decision"),
    ("document", "supersede"): ("POST /api/v1/documents/{document_id}/corrections",),
    ("document", "revoke"): ("POST /api/v1/documents/{document_id}/revoke",),
    ("case", "hand_over"): ("POST /api/v1/orders", "POST /orders/new"),  # the case's first order hands it over
    ("case", "close"): ("POST /api/v1/cases/{case_id}/close", "POST /cases/{case_id}/close"),
    ("case", "reopen"): ("POST /api/v1/cases/{case_id}/reopen", "POST /cases/{case_id}/reopen"),
    ("case_escalation", "resubmit"): ("POST /api/v1/cases/{case_id}/resubmit", "POST /cases/{case_id}/resubmit"),
}
ROLE_OF = {"office": "office", **dict.fromkeys(LIAISONS, "liaison"), **dict.fromkeys(LEADERS, "leader"),
           "police_station": "police", "auditor": "auditor", "admin": "admin"}


def test_the_domains_permission_table_and_the_routes_agree():
    """Every move a person makes has its routes, and each route lets exactly the roles the
    machine's table names try it (the machine then checks the relation and the state)."""
    from domain.transitions import SYSTEM, permission_table

    people = {}
    for row in permission_table():
        roles = set(row["roles"]) - {SYSTEM}
        people.setdefault((row["machine"], row["action"]), set()).update(roles)
    failures = []
    for move, roles in sorted(people.items()):
        routes = MOVE_ROUTES.get(move, ())
        if roles and not routes:
            failures.append(f"{move}: {sorted(roles)} may make it, but no route does")
        if not roles and routes:
            failures.append(f"{move}: only the system makes it, yet routes are listed")
        for route in routes:
            allowed = {ROLE_OF[r] for r, outcome in expectations(route).items() if outcome != "no" and r in ROLE_OF}
            if allowed != roles:
                failures.append(f"{move} {route}: the routes' table allows {sorted(allowed)}, the machine {sorted(roles)}")
    failures += [f"{move}: listed here, unknown to the machines" for move in set(MOVE_ROUTES) - set(people)]
    assert not failures, "\n".join(failures)


# ---- the sealed insider referral, on both databases ----

def test_a_sealed_referral_is_invisible_to_the_implicated_unit_everywhere(client, engine):
    from tests.web_helpers import signed_in

    office = auth("office")
    units = {u["code"]: u["id"] for u in client.get("/api/v1/units", headers=office).json()}
    client.post("/api/v1/orders", headers=office,
                json={"kind": "supervision", "addressee_unit_id": units["bank.icbc.jz"], "title": "普通督办"})
    implicated = ("liaison_icbc", "liaison_icbc_jiangling")  # the employer's unit and a unit below it
    totals = {u: client.get("/api/v1/orders", headers=auth(u)).json()["total"] for u in implicated}
    process_id = client.post("/api/v1/processes/insider-referral", headers=office, json={
        "employer_unit_id": units["bank.icbc.jz"], "employee_name": "内鬼甲", "facts": "SEALEDFACTS 批量开卡"}).json()["id"]
    _issue_due_documents_and_advance(engine)
    order = client.get(f"/api/v1/processes/{process_id}", headers=office).json()["orders"][0]
    assert client.get(f"/api/v1/orders/{order['id']}", headers=auth("police_cid")).status_code == 200
    code = client.get(f"/api/v1/documents/{order['document_id']}", headers=office).json()["verification_code"]
    secrets = ("内鬼甲", "SEALEDFACTS", "行业内鬼", "内鬼移送")

    def hidden(text: str, where: str) -> None:
        assert not [s for s in secrets if s in text], f"{where} shows the sealed referral"

    for username in implicated:
        headers = auth(username)
        for path in (f"/api/v1/processes/{process_id}", f"/api/v1/orders/{order['id']}",
                     f"/api/v1/orders/{order['id']}/pdf", f"/api/v1/orders/{order['id']}/evidence"):
            assert client.get(path, headers=headers).status_code == 404, (username, path)
        assert client.post(f"/api/v1/orders/{order['id']}/acknowledge", headers=headers).status_code == 404
        assert client.get("/api/v1/orders", headers=headers).json()["total"] == totals[username]  # counts
        for path in ("/api/v1/orders", "/api/v1/orders?kind=insider_referral", "/api/v1/processes",
                     "/api/v1/processes?kind=insider_referral", "/api/v1/notices"):
            response = client.get(path, headers=headers)
            hidden(response.text, f"{username} {path}")
            assert str(order["id"]) not in re.findall(r'"id":\s*(\d+)', response.text) or "notices" in path
        assert client.get("/api/v1/orders?kind=insider_referral", headers=headers).json()["total"] == 0  # search
        assert client.get("/api/v1/statistics/export", headers=headers).status_code == 403  # exports
        browser = signed_in(engine, username)
        for path in ("/inbox", "/inbox/rows", "/orders", "/home"):
            response = browser.get(path)
            assert response.status_code == 200, (username, path)
            hidden(response.text, f"{username} {path}")
        for path in (f"/orders/{order['id']}", f"/orders/{order['id']}/pdf"):
            assert browser.get(path).status_code == 404, (username, path)
    # The verification page (public) confirms the letter is genuine, without its contents.
    for path in (f"/verify/{code}", f"/api/v1/verify/{code}"):
        response = client.get(path)
        assert response.status_code == 200
        assert "内鬼甲" not in response.text and "SEALEDFACTS" not in response.text
