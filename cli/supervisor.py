"""The embedded default in one command: our database, a real Prefect server (SQLite), the flow
runner, the task worker and the web app, each its own process, restarted if it dies."""
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import httpx

from domain.settings import get_settings

log = logging.getLogger("lianban.up")


def prefect_environment(settings=None) -> dict[str, str]:
    """The Prefect settings every process of the embedded topology shares."""
    settings = settings or get_settings()
    prefect_home = settings.home / "prefect"
    prefect_home.mkdir(parents=True, exist_ok=True)
    env = {
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_API_URL": f"http://127.0.0.1:{settings.prefect_port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_RUNNER_POLL_FREQUENCY": "2",
        "PREFECT_LOGGING_LEVEL": "INFO",
    }
    return {**{k: v for k, v in os.environ.items() if k not in env}, **env}


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM if `lianban up` itself is killed, so nothing is left behind."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(0)


def wait_for_prefect(api_url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"Prefect server did not answer at {api_url} within {timeout:.0f}s")


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    process: subprocess.Popen | None = None
    restarts: int = field(default=0)

    def start(self) -> None:
        log.info("starting %s: %s", self.name, " ".join(self.argv))
        self.process = subprocess.Popen(self.argv, env=self.env, start_new_session=True,
                                        preexec_fn=_die_with_parent)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def run_embedded(*, load_demo: bool = True) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_settings()
    from domain.bootstrap import migrate

    migrate(settings.resolved_database_url)
    log.info("database ready: %s", settings.resolved_database_url)
    if load_demo:
        from domain import demo
        from domain.db import session_scope

        with session_scope() as session:
            if demo.load(session=session, with_history=True):
                log.info("demo city loaded; API tokens are demo-<username>, e.g. demo-office, demo-chief")

    # uvicorn re-raises SIGTERM after its own shutdown; turn it into SystemExit so the
    # `finally` below stops the children.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    env = prefect_environment(settings)
    os.environ.update({k: env[k] for k in ("PREFECT_HOME", "PREFECT_API_URL")})
    lianban = [sys.executable, "-m", "cli.main"]
    server = Child("prefect-server", [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                                      "--port", str(settings.prefect_port)], env)
    server.start()
    wait_for_prefect(env["PREFECT_API_URL"])
    log.info("Prefect server up: http://127.0.0.1:%s", settings.prefect_port)
    children = [server, Child("runner", lianban + ["worker"], env), Child("task-worker", lianban + ["task-worker"], env)]
    for child in children[1:]:
        child.start()

    stopping = threading.Event()

    def watch_children() -> None:
        while not stopping.wait(2):
            for child in children:
                if child.process and child.process.poll() is not None and not stopping.is_set():
                    child.restarts += 1
                    log.warning("%s exited with %s; restarting (restart %d)", child.name,
                                child.process.returncode, child.restarts)
                    child.start()

    threading.Thread(target=watch_children, daemon=True, name="supervisor").start()
    try:
        import uvicorn

        log.info("web app: http://%s:%s  (API docs at /docs)", settings.host, settings.port)
        uvicorn.run("api.main:app", host=settings.host, port=settings.port, log_level="info")
    finally:
        stopping.set()
        for child in reversed(children):
            child.stop()
