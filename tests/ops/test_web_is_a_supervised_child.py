"""Finding 4 of issue 16: the web app runs as a child of `lianban up` like the Prefect server, the
runner and the task worker. kill -9 of the web: restarted within 5 s, the others untouched.
SIGTERM to `lianban up`: everything stops, exit code 0, no traceback."""
import os
import signal
import subprocess
import sys
import time

import httpx
import psutil
import pytest

from tests.conftest import ROOT, free_port

pytestmark = pytest.mark.prefect
MARKERS = {"prefect-server": ("prefect", "server", "start"), "runner": ("cli.main", "worker"),
           "task-worker": ("cli.main", "task-worker"), "web": ("cli.main", "web")}


def children(up: subprocess.Popen) -> dict[str, int]:
    found = {}
    for child in psutil.Process(up.pid).children():
        try:
            cmdline = child.cmdline()
        except psutil.Error:
            continue
        for name, marker in MARKERS.items():
            if all(part in cmdline for part in marker) and child.status() != psutil.STATUS_ZOMBIE:
                found[name] = child.pid
    return found


def wait_for(predicate, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    return None


def all_four(found: dict[str, int]) -> dict[str, int] | None:
    return found if len(found) == len(MARKERS) else None


def healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_killed_web_process_is_restarted_alone_and_sigterm_stops_cleanly(tmp_path):
    port, prefect_port = free_port(), free_port()
    env = {**os.environ, "LIANBAN_HOME": str(tmp_path / "var"), "LIANBAN_DATABASE_URL": f"sqlite:///{tmp_path / 'l.db'}",
           "LIANBAN_PORT": str(port), "LIANBAN_PREFECT_PORT": str(prefect_port), "LIANBAN_NUDGE_ENABLED": "false",
           "LIANBAN_DEMO": "false", "PREFECT_UI_ENABLED": "false"}
    log = tmp_path / "up.log"
    up = subprocess.Popen([sys.executable, "-m", "cli.main", "up"], env=env, cwd=ROOT, stdout=log.open("wb"),
                          stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        before = wait_for(lambda: all_four(children(up)), 120)
        assert before, log.read_text()[-3000:]
        assert wait_for(lambda: healthy(url), 60)
        assert "一次性密码（只显示这一次）" in log.read_text()  # no demo: the first admin instead

        os.killpg(before["web"], signal.SIGKILL)
        killed = time.monotonic()
        restarted = wait_for(lambda: children(up).get("web") not in (None, before["web"]), 5)
        assert restarted, "the web was not restarted within 5 s"
        assert wait_for(lambda: healthy(url), 30), log.read_text()[-3000:]
        print(f"web answering again {time.monotonic() - killed:.1f} s after kill -9")
        after = children(up)
        assert {k: v for k, v in after.items() if k != "web"} == {k: v for k, v in before.items() if k != "web"}

        up.send_signal(signal.SIGTERM)
        assert up.wait(60) == 0
        assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
                       for pid in after.values())
        assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGKILL)
