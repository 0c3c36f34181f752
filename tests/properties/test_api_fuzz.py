"""The JSON API under generated requests (schemathesis, from the app's own OpenAPI schema), signed in
as each kind of user: no request, however malformed, gets a server error, and every answer matches
the schema the API publishes (status, content type, body).

CI runs a few examples per operation and role; a long run is one command:

    LIANBAN_FUZZ_EXAMPLES=200 .venv/bin/pytest -q -n 0 -p no:warnings tests/properties/test_api_fuzz.py
"""
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance
from sqlmodel import Session

from server.app import create_app
from tests.conftest import auth, case_body

EXAMPLES = int(os.environ.get("LIANBAN_FUZZ_EXAMPLES", "3"))
# The operations and the roles whose view of the API differs: the office runs it, a bank liaison
# sees its own unit's orders, a leader decides, the auditor reads, the admin administers, and a
# caller without a token is refused everywhere but the public verification.
ROLES = ("office", "liaison_icbc", "cid_head", "auditor", "admin", None)
# Not `negative_data_rejection`: pydantic's lax mode accepts "12" and true for an integer on purpose
# (form-like clients); what matters is that nothing malformed gets a 5xx or an answer off-schema.
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]

# Built once, at import, so pytest can generate one test per operation; the database is attached
# below (app.state.engine is read on every request).
APP = create_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
schema.config.generation.update(max_examples=EXAMPLES)


@pytest.fixture(scope="module", autouse=True)
def fuzz_database(tmp_path_factory, postgres_available):
    """One SQLite database with the demo city, some cases, orders and processes, so generated ids
    sometimes hit real rows."""
    from fastapi.testclient import TestClient

    from domain import demo
    from domain.bootstrap import migrate
    from domain.db import make_engine

    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'lianban.db'}"
    migrate(url)
    engine = make_engine(url)
    with Session(engine) as session:
        demo.load(session=session, with_cases=True)
        session.commit()
    APP.state.engine = engine
    with TestClient(APP) as client:
        office = auth("office")
        for n, amount in enumerate(("280000", "600000", "2750000")):
            client.post("/api/v1/cases", json=case_body(number=f"FZ-{n}", amount=amount), headers=office)
        units = {u["code"]: u["id"] for u in client.get("/api/v1/units", headers=office).json()}
        for code in ("bank.icbc.jz", "bank.ccb.jz", "carrier.cmcc.jz"):
            client.post("/api/v1/orders", headers=office, json={"kind": "supervision", "addressee_unit_id": units[code],
                                                                "title": f"督办 {code}"})
        client.post("/api/v1/processes/stop-payment", headers=office, json={
            "bank_unit_id": units["bank.icbc.jz"], "account_number": "6222020200001234567", "amount_cny": "1000"})
    yield engine
    APP.state.engine = None
    engine.dispose()


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate],
          max_examples=EXAMPLES)
def test_api_answers_every_generated_request_within_its_schema(case, role):
    headers = auth(role) if role else {}
    if role is None:
        case.headers = {k: v for k, v in (case.headers or {}).items()
                        if k.lower() not in ("authorization", "x-api-token")}
    case.call_and_validate(headers=headers, checks=CHECKS)


def test_an_id_beyond_the_database_range_is_refused_not_a_server_error(fuzz_database):
    """Found by the fuzzing: ids are 32-bit in PostgreSQL, and a longer number reached the database
    and failed there (500). Now the API says which parameter is out of range."""
    from fastapi.testclient import TestClient

    big = "99999999999999999999"
    with TestClient(APP) as client:
        office = auth("office")
        for path in (f"/api/v1/cases/{big}", "/api/v1/orders/3000000000", f"/api/v1/evidence/{big}",
                     f"/api/v1/orders?offset={big}", f"/api/v1/orders?case_id={big}", f"/api/v1/processes/-{big}"):
            response = client.get(path, headers=office)
            assert response.status_code == 422, path
            assert response.json()["detail"][0]["loc"][-1] in ("case_id", "order_id", "evidence_id", "offset",
                                                                 "process_id"), path
        response = client.post("/api/v1/orders", headers=office, json={
            "kind": "supervision", "addressee_unit_id": int(big), "title": "督办"})
        assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "addressee_unit_id"]
