"""The scale-out mode at small size, on this one machine: our data and Prefect's on PostgreSQL, two
Prefect API servers without services, the services apart, Redis between them, a process work pool
with two workers, and two web processes — all started by `lianban up` with LIANBAN_TOPOLOGY=scaled.
A case registered through one web process and approved through the other is taken (包案) by a flow
run that one of the pool workers started."""
import os
import subprocess
import sys
import time
import uuid

import httpx
import psutil
import psycopg
import pytest

from tests.conftest import PG_ADMIN_URL, ROOT, auth, case_body, free_port, stop_process

pytestmark = [pytest.mark.postgres, pytest.mark.prefect]
REDIS_URL = os.environ.get("LIANBAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")  # a database of its own


def wait_until(predicate, timeout: float, step: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except httpx.HTTPError:
            value = None
        if value:
            return value
        time.sleep(step)
    return None


def _redis():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is unreachable at {REDIS_URL}")
        pytest.skip(f"Redis unreachable at {REDIS_URL}")
    return client


@pytest.fixture
def scaled(tmp_path, postgres_available):
    if not postgres_available:
        pytest.skip(f"PostgreSQL unreachable at {PG_ADMIN_URL}")
    redis_client = _redis()
    redis_client.flushdb()  # streams and consumer groups of an earlier run would replay into this one
    suffix = uuid.uuid4().hex[:10]
    ours, prefects = f"lianban_scale_test_{suffix}", f"prefect_scale_test_{suffix}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        for name in (ours, prefects):
            conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].split("://", 1)[1]
    prefect_ports, web_ports = [free_port(), free_port()], [free_port(), free_port()]
    env = {**os.environ,
           "LIANBAN_TOPOLOGY": "scaled", "LIANBAN_HOME": str(tmp_path / "var"),
           "LIANBAN_DATABASE_URL": f"postgresql+psycopg://{base}/{ours}",
           "LIANBAN_PREFECT_DATABASE_URL": f"postgresql+asyncpg://{base}/{prefects}",
           "LIANBAN_REDIS_URL": REDIS_URL, "LIANBAN_WORK_POOL": "lianban-test", "LIANBAN_POOL_WORKERS": "2",
           "LIANBAN_PREFECT_PORTS": ",".join(map(str, prefect_ports)),
           "LIANBAN_WEB_PORTS": ",".join(map(str, web_ports)),
           # A watch run every 20 s, and no nudges: the follow-up can only come from a pool worker's run.
           "LIANBAN_WATCH_WINDOW_SECONDS": "20", "LIANBAN_NUDGE_ENABLED": "false",
           "PREFECT_WORKER_QUERY_SECONDS": "2", "PREFECT_UI_ENABLED": "false",
           "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "5"}
    log = open(tmp_path / "up.log", "wb")
    started = time.monotonic()
    up = subprocess.Popen([sys.executable, "-m", "cli.main", "up", "--demo"], env=env, cwd=ROOT, stdout=log,
                          stderr=subprocess.STDOUT, start_new_session=True)
    webs = [httpx.Client(base_url=f"http://127.0.0.1:{p}", timeout=10) for p in web_ports]
    apis = [httpx.Client(base_url=f"http://127.0.0.1:{p}/api", timeout=10) for p in prefect_ports]
    try:
        ready = wait_until(lambda: up.poll() is None and all(w.get("/healthz").status_code == 200 for w in webs)
                           or up.poll() is not None, 150)
        assert ready and up.poll() is None, f"scaled topology did not start: see {tmp_path / 'up.log'}"
        print(f"\nscaled topology ready after {time.monotonic() - started:.1f} s")
        yield {"webs": webs, "apis": apis, "pool": "lianban-test", "up": up, "log": tmp_path / "up.log"}
    finally:
        for client in webs + apis:
            client.close()
        stopping = time.monotonic()
        stop_process(up)
        print(f"stopped in {time.monotonic() - stopping:.1f} s")
        leftovers = [p for p in psutil.process_iter(["cmdline"]) if _environ(p).get("LIANBAN_DATABASE_URL")
                     == env["LIANBAN_DATABASE_URL"]]
        for process in leftovers:
            process.kill()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            for name in (ours, prefects):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        redis_client.flushdb()
        assert not leftovers, f"processes outlived the topology: {[p.info['cmdline'] for p in leftovers]}"


def _environ(process) -> dict:
    try:
        return process.environ()
    except (psutil.Error, OSError):
        return {}


def test_a_case_registered_on_one_web_process_and_approved_on_the_other_is_taken_by_a_pool_worker(scaled):
    web_1, web_2 = scaled["webs"]
    case = web_1.post("/api/v1/cases", json=case_body(number="SC-1", amount="2750000"), headers=auth("office"))
    assert case.status_code == 201, case.text
    case = case.json()
    decision = web_2.post(f"/api/v1/approvals/{case['approval']['id']}/decision", json={"decision": "approve"},
                          headers=auth("chief"))
    assert decision.status_code == 200, decision.text
    decided = time.monotonic()
    taken = wait_until(lambda: web_1.get(f"/api/v1/cases/{case['id']}", headers=auth("office"))
                       .json()["escalation_state"] == "taken", 90)
    assert taken, f"the approved case was not taken within 90 s: see {scaled['log']}"
    print(f"decision → 包案 recorded after {time.monotonic() - decided:.1f} s (nudges off: the watch on the pool)")

    # Which run did it: the follow-up task, tagged with the case, inside a watch run on the pool,
    # whose process is a child of one of the two pool workers. Asked of the second API server.
    api_1, api_2 = scaled["apis"]
    assert api_1.get("/health").status_code == 200 and api_2.get("/health").status_code == 200

    def follow_up_task():
        runs = api_2.post("/task_runs/filter", json={"task_runs": {"tags": {"all_": ["case:SC-1"]},
                                                                    "state": {"type": {"any_": ["COMPLETED"]}}}}).json()
        return [r for r in runs if r["name"].startswith("包案") and r["name"].endswith("SC-1") and r["flow_run_id"]]

    tasks = wait_until(follow_up_task, 30)  # task runs are recorded from events, through Redis
    assert tasks, "no completed follow-up task run recorded for SC-1"
    flow_run = api_2.get(f"/flow_runs/{tasks[0]['flow_run_id']}").json()
    assert flow_run["work_pool_name"] == scaled["pool"]
    deployment = api_1.get(f"/deployments/{flow_run['deployment_id']}").json()
    assert deployment["name"] == "watch" and deployment["entrypoint"] == "flows/watch.py:watch"
    workers = {w["name"] for w in api_1.post(f"/work_pools/{scaled['pool']}/workers/filter", json={}).json()}
    assert len(workers) == 2, workers
    pid = int(str(flow_run["infrastructure_pid"]).rsplit(":", 1)[-1])
    parent = psutil.Process(pid).parent()
    assert "worker start" in " ".join(parent.cmdline()), parent.cmdline()
    worker_name = parent.cmdline()[parent.cmdline().index("--name") + 1]
    assert worker_name in workers
    print(f"follow-up done by flow run {flow_run['name']!r} of deployment watch, started by pool worker {worker_name}")
    assert web_2.get("/api/v1/audit/verify", headers=auth("auditor")).json()["ok"]
