"""Issue 16, "what operators expect": /readyz beside /healthz, Prometheus /metrics with intakes,
open and overdue orders by kind and the audit chain's length, a request id on every answer and
every JSON log line, and never a victim's phone or ID number in a log."""
import json
import logging

from server import logs
from tests.conftest import auth, case_body, unit_id


def test_readyz_reports_the_database_and_prefect(client, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    answer = client.get("/readyz")
    assert answer.status_code == 200 and answer.json() == {"ready": True, "checks": {"database": True, "prefect": None}}
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")  # nothing listens there
    answer = client.get("/readyz")
    assert answer.status_code == 503 and answer.json()["checks"] == {"database": True, "prefect": False}


def test_metrics_show_intakes_orders_and_the_audit_chain(client, engine):
    assert client.post("/api/v1/cases", headers=auth("office"), json=case_body()).status_code == 201
    assert client.post("/api/v1/orders", headers=auth("office"), json={
        "kind": "supervision", "addressee_unit_id": unit_id(engine, "bank.icbc.jz"), "title": "核查"}).status_code == 201
    text = client.get("/metrics").text
    assert "lianban_cases 1.0" in text
    assert 'lianban_open_orders{kind="supervision"} 1.0' in text
    assert "lianban_audit_chain_length" in text
    assert 'lianban_http_request_seconds_count{method="POST",route="/api/v1/cases",status="2xx"} 1.0' in text
    assert "13800001234" not in text and "张三丰" not in text


def test_every_answer_carries_a_request_id(client):
    assert len(client.get("/healthz").headers["x-request-id"]) == 32
    assert client.get("/healthz", headers={"X-Request-ID": "lb-42"}).headers["x-request-id"] == "lb-42"
    assert client.get("/healthz", headers={"X-Request-ID": "bad id\r\n"}).headers["x-request-id"] != "bad id\r\n"


def test_log_lines_are_json_with_the_request_id_and_no_victim_data(capsys):
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    logs.configure()
    try:
        token = logs.request_id.set("req-7")
        logging.getLogger("lianban.test").info("case of %s, phone %s, id %s", "张三", "13800001234", "420102199001011234")
        logs.request_id.reset(token)
        line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    assert line["request_id"] == "req-7" and line["level"] == "INFO" and line["logger"] == "lianban.test"
    assert "13800001234" not in line["message"] and "420102199001011234" not in line["message"]
    assert "138****1234" in line["message"]
