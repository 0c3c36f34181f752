"""The embedded topology as `lianban up` runs it — Prefect server, runner, task worker and web app
as separate processes — including an outage: with Prefect stopped, people still register and
decide, and the follow-ups catch up when it returns."""
import os
import random
import signal
import subprocess
import sys
import time

import httpx
import pytest

from server.serving import uvicorn_arguments
from tests.conftest import ROOT, auth, case_body, free_port, start_prefect_server, stop_process, write_policy
from tests.support.apps import demo_database

pytestmark = pytest.mark.prefect


def wait_until(predicate, timeout: float, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return None


@pytest.fixture
def topology(tmp_path):
    prefect_port, web_port = free_port(), free_port()
    policy = write_policy(tmp_path / "policy", escalation={"approval": {"remind_after": "2s", "decide_within": "4s"}})
    env = {**os.environ,
           "LIANBAN_HOME": str(tmp_path / "var"), "LIANBAN_DATABASE_URL": f"sqlite:///{tmp_path / 'lianban.db'}",
           "LIANBAN_POLICY_DIR": str(policy), "LIANBAN_WATCH_WINDOW_SECONDS": "20", "LIANBAN_NUDGE_ENABLED": "true",
           "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_API_URL": f"http://127.0.0.1:{prefect_port}/api",
           "PREFECT_RUNNER_POLL_FREQUENCY": "1", "PREFECT_LOGGING_TO_API_ENABLED": "true"}
    demo_database(tmp_path / "lianban.db")  # what `lianban migrate` and `lianban demo` would leave
    os.environ_backup = None
    server = start_prefect_server(prefect_port, tmp_path / "prefect")
    logs = tmp_path / "logs"
    logs.mkdir()

    def spawn(name, argv):
        return subprocess.Popen(argv, env=env, cwd=ROOT, stdout=open(logs / f"{name}.log", "wb"),
                                stderr=subprocess.STDOUT, start_new_session=True)

    children = [spawn("runner", [sys.executable, "-m", "cli.main", "worker"]),
                spawn("task-worker", [sys.executable, "-m", "cli.main", "task-worker"]),
                spawn("web", [sys.executable, "-m", "uvicorn", "server.main:app", "--host", "127.0.0.1",
                              "--port", str(web_port), "--log-level", "warning", *uvicorn_arguments()])]
    web = httpx.Client(base_url=f"http://127.0.0.1:{web_port}", timeout=10)
    assert wait_until(lambda: _healthy(web), 60), "web app did not start"
    state = {"server": server}

    def restart_prefect():
        state["server"] = start_prefect_server(prefect_port, tmp_path / "prefect")

    def kill_runner():
        """kill -9 the runner and the flow runs it started (one process group), then start it again."""
        os.killpg(children[0].pid, signal.SIGKILL)
        children[0].wait()
        children[0] = spawn("runner", [sys.executable, "-m", "cli.main", "worker"])

    yield {"web": web, "stop_prefect": lambda: stop_process(state["server"]), "start_prefect": restart_prefect,
           "kill_runner": kill_runner, "logs": logs}
    web.close()
    for child in children:
        stop_process(child)
    stop_process(state["server"])


def _healthy(web) -> bool:
    try:
        return web.get("/healthz").status_code == 200
    except httpx.HTTPError:
        return False


def _state(web, case_id) -> str:
    return web.get(f"/api/v1/cases/{case_id}", headers=auth("office")).json()["escalation_state"]


def _tiers(web, case_id) -> list[str]:
    return [a["leader_tier"] for a in web.get(f"/api/v1/cases/{case_id}/approvals", headers=auth("office")).json()]


def test_processes_follow_up_and_survive_a_prefect_outage(topology):
    web = topology["web"]
    # 1. A decision is followed up by the flows (nudge, or the watch's next pass).
    case = web.post("/api/v1/cases", json=case_body(number="E-1", amount="2750000"), headers=auth("office")).json()
    web.post(f"/api/v1/approvals/{case['approval']['id']}/decision", json={"decision": "approve"}, headers=auth("chief"))
    decided = time.monotonic()
    assert wait_until(lambda: _state(web, case["id"]) == "taken", 90), "approved case was never taken"
    print(f"\ndecision → 包案 recorded after {time.monotonic() - decided:.2f} s (first decision after a cold start)")
    warm = web.post("/api/v1/cases", json=case_body(number="E-1b", amount="2750000"), headers=auth("office")).json()
    web.post(f"/api/v1/approvals/{warm['approval']['id']}/decision", json={"decision": "approve"}, headers=auth("chief"))
    decided = time.monotonic()
    assert wait_until(lambda: _state(web, warm["id"]) == "taken", 90), "approved case was never taken"
    print(f"decision → 包案 recorded after {time.monotonic() - decided:.2f} s (warm)")

    # 2. Nobody answers: the approval moves up a tier on its own.
    late = web.post("/api/v1/cases", json=case_body(number="E-2", amount="280000"), headers=auth("office")).json()
    assert wait_until(lambda: "deputy" in _tiers(web, late["id"]), 90), "unanswered approval was not escalated"

    # 3. Prefect goes down: people still register and decide, at once.
    topology["stop_prefect"]()
    started = time.monotonic()
    during = web.post("/api/v1/cases", json=case_body(number="E-3", amount="600000"), headers=auth("office"))
    assert during.status_code == 201
    decision = web.post(f"/api/v1/approvals/{during.json()['approval']['id']}/decision",
                        json={"decision": "approve"}, headers=auth("deputy"))
    assert decision.status_code == 200
    print(f"register + decide with Prefect down took {time.monotonic() - started:.2f} s")

    # 4. Prefect returns: the follow-up catches up.
    topology["start_prefect"]()
    returned = time.monotonic()
    assert wait_until(lambda: _state(web, during.json()["id"]) == "taken", 150), "follow-up never caught up"
    print(f"caught up {time.monotonic() - returned:.2f} s after Prefect returned")
    report = web.get("/api/v1/audit/verify", headers=auth("auditor")).json()
    assert report["ok"], report


def test_killing_the_runner_mid_process_loses_and_duplicates_no_order(topology):
    web = topology["web"]
    branch = web.get("/api/v1/orders", headers=auth("office"))  # warm-up
    assert branch.status_code == 200
    units = {}
    started = []
    rng = random.Random(7)
    for round_number in range(3):
        for n in range(3):
            response = web.post("/api/v1/processes/reverse-audit", headers=auth("office"), json={
                "branch_unit_id": _unit(web, units, "bank.icbc.jz.jiangling"), "reason": f"第{round_number}轮 第{n}次",
                "clerks": ["柜员甲"]})
            assert response.status_code == 201, response.text
            started.append(response.json()["id"])
        # A random moment to crash at (seeded), not a wait for time to pass: the runner is killed
        # wherever it is in its work, and the processes must still end exactly once.
        time.sleep(rng.uniform(0.2, 3.0))
        topology["kill_runner"]()

    def all_measures_issued():
        details = [web.get(f"/api/v1/processes/{pid}", headers=auth("office")).json() for pid in started]
        return all(d["stage"] == "measures_issued" for d in details) and details

    details = wait_until(all_measures_issued, 180, step=1)
    assert details, "processes did not all advance after the runner restarts"
    for detail in details:
        kinds = sorted(o["kind"] for o in detail["orders"])
        assert kinds == ["card_issuance_suspension", "circulated_criticism", "interview_notice",
                         "rectification_report"], (detail["id"], kinds)
    total = web.get("/api/v1/orders?limit=1", headers=auth("office")).json()["total"]
    assert total == 4 * len(started)
    assert web.get("/api/v1/audit/verify", headers=auth("auditor")).json()["ok"]


def _unit(web, cache, code):
    if code not in cache:
        cache[code] = web.get("/api/v1/units", params={"code": code}, headers=auth("office")).json()[0]["id"]
    return cache[code]
