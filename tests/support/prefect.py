"""The real Prefect server the flow tests talk to: one per pytest process that needs it.

Under xdist every worker is its own process with its own Prefect client, so each gets its own port
and PREFECT_HOME (the controller's, inherited, would make two workers start servers on one port).
Tests that need the server are sent to one worker (`xdist_group("prefect")`, see conftest.py),
so a normal run starts a single server, and only once something asks for it.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from tests.support.ports import free_port


def configure_environment() -> None:
    """Point Prefect (read when it first needs a client) at this process's server-to-be."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        os.environ["LIANBAN_TEST_PREFECT_PORT"] = str(free_port())
    else:
        os.environ.setdefault("LIANBAN_TEST_PREFECT_PORT", str(free_port()))
    port = os.environ["LIANBAN_TEST_PREFECT_PORT"]
    os.environ["PREFECT_HOME"] = str(Path(tempfile.gettempdir()) / f"lianban-test-prefect-{port}")
    os.environ["PREFECT_API_URL"] = f"http://127.0.0.1:{port}/api"
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ["PREFECT_LOGGING_TO_API_ENABLED"] = "false"
    os.environ["LIANBAN_NUDGE_ENABLED"] = "false"  # API tests do not need the task worker
    os.environ.setdefault("LIANBAN_DEMO", "true")  # the tests sign in with the demo city's tokens


def start_prefect_server(port: int, home: Path) -> subprocess.Popen:
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_UI_ENABLED": "false"}
    home.mkdir(parents=True, exist_ok=True)
    log = open(home / "server.log", "ab")
    process = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                                "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Prefect server exited: see {home / 'server.log'}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.5)  # polling a real process for readiness, not waiting for time to pass
    process.kill()
    raise RuntimeError("Prefect server did not start within 120 s")


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="session")
def prefect_server():
    """One real Prefect server (SQLite) for the session (per worker), as DESIGN.md advises."""
    port = int(os.environ["LIANBAN_TEST_PREFECT_PORT"])
    home = Path(os.environ["PREFECT_HOME"])
    shutil.rmtree(home, ignore_errors=True)
    process = start_prefect_server(port, home)
    # A flow run made in this process ends by waiting up to a second for its heartbeat thread (it
    # sleeps in 1 s steps), which is most of a sync run's cost. Heartbeats only let the server mark
    # crashed runs; the topology tests, with real processes and their own settings, keep them.
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield os.environ["PREFECT_API_URL"]
    stop_process(process)
