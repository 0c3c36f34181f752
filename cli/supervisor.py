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


def crash_orphaned_flow_runs() -> int:
    """Before the runner (re)starts: the embedded topology has one runner, so a flow run still
    Running or Pending now belonged to a runner that died. Mark it Crashed, which gives its
    deployment concurrency slot back at once; otherwise Prefect holds the slot until the run's
    300 s lease lapses, and the watch (limit 2) waits that long after a crash."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType
    from prefect.states import Crashed

    stuck = FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(
        any_=[StateType.RUNNING, StateType.PENDING, StateType.CANCELLING])))
    crashed = 0
    try:
        with get_client(sync_client=True) as client:
            for run in client.read_flow_runs(flow_run_filter=stuck, limit=200):
                client.set_flow_run_state(run.id, Crashed(message="its runner died; marked by lianban up"), force=True)
                crashed += 1
    except Exception:  # noqa: BLE001 - never keep the runner from starting
        log.warning("could not mark the dead runner's flow runs as crashed", exc_info=True)
    if crashed:
        log.warning("marked %d flow runs of the dead runner as crashed", crashed)
    return crashed


def start_watch_now(runner_started: float, timeout: float = 120) -> None:
    """After the runner (re)starts, run the watch at once rather than at the next scheduled time:
    re-serving the deployments reschedules them, so the first scheduled watch came 60–150 s after
    a restart, and nothing that was due in the meantime moved. (In a thread; best effort.)"""
    from datetime import datetime, timezone

    from prefect.client.orchestration import get_client

    since = datetime.fromtimestamp(runner_started, timezone.utc)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with get_client(sync_client=True) as client:
                deployment = client.read_deployment_by_name("watch/watch")
                if deployment.updated is not None and deployment.updated >= since:  # the new runner served it
                    client.create_flow_run_from_deployment(deployment.id, tags=["lianban", "catch-up"])
                    log.info("started a catch-up watch run after the runner (re)started")
                    return
        except Exception:  # noqa: BLE001 - not registered yet, or the server is restarting
            pass
        time.sleep(2)
    log.warning("no catch-up watch run: the runner did not register the watch within %.0f s", timeout)


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
    crash_orphaned_flow_runs()  # left Running by the runner of a `lianban up` that was killed
    for child in children[1:]:
        child.start()
    threading.Thread(target=start_watch_now, args=(time.time(),), daemon=True, name="catch-up").start()

    stopping = threading.Event()

    def watch_children() -> None:
        while not stopping.wait(2):
            for child in children:
                if child.process and child.process.poll() is not None and not stopping.is_set():
                    child.restarts += 1
                    log.warning("%s exited with %s; restarting (restart %d)", child.name,
                                child.process.returncode, child.restarts)
                    if child.name == "runner":
                        crash_orphaned_flow_runs()
                    child.start()
                    if child.name == "runner":
                        threading.Thread(target=start_watch_now, args=(time.time(),), daemon=True).start()

    threading.Thread(target=watch_children, daemon=True, name="supervisor").start()
    try:
        import uvicorn

        log.info("web app: http://%s:%s  (API docs at /docs)", settings.host, settings.port)
        uvicorn.run("server.main:app", host=settings.host, port=settings.port, log_level="info")
    finally:
        stopping.set()
        for child in reversed(children):
            child.stop()
