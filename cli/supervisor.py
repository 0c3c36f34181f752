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


def prepare_database(settings, *, load_demo: bool) -> None:
    """Migrate; then either the demo city (demo mode) or, on an empty database, the first
    administrator with a one-time password printed once (never the demo's public ones)."""
    from domain.bootstrap import migrate
    from domain.db import session_scope

    migrate(settings.resolved_database_url)
    log.info("database ready: %s", settings.resolved_database_url)
    with session_scope() as session:
        if load_demo:
            from domain import demo

            if demo.load(session=session, with_history=True):
                log.info("DEMO MODE: demo city loaded; its tokens and passwords are demo-<username> (e.g. demo-office)")
            return
        from domain.accounts import first_admin

        password = first_admin.create_if_empty(session=session)
    if password:
        print(first_admin.announce(password), flush=True)  # stdout only: never into a log file's logger


def _stop_on_signal(stopping: threading.Event):
    def handler(signum, frame) -> None:
        log.info("%s received: stopping every process", signal.Signals(signum).name)
        stopping.set()

    return handler


def run_embedded(*, load_demo: bool = False) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_settings()
    prepare_database(settings, load_demo=load_demo)
    stopping = threading.Event()
    # SIGTERM (systemd, kill) and Ctrl-C stop the children in order, without a traceback.
    signal.signal(signal.SIGTERM, _stop_on_signal(stopping))
    signal.signal(signal.SIGINT, _stop_on_signal(stopping))
    env = prefect_environment(settings)
    os.environ.update({k: env[k] for k in ("PREFECT_HOME", "PREFECT_API_URL")})
    lianban = [sys.executable, "-m", "cli.main"]
    server = Child("prefect-server", [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                                      "--port", str(settings.prefect_port)], env)
    # The web app is a child like the others: killing it leaves the orchestrator running.
    web = Child("web", lianban + ["web", "--host", settings.host, "--port", str(settings.port)], env)
    children = [server, Child("runner", lianban + ["worker"], env), Child("task-worker", lianban + ["task-worker"], env),
                web]
    try:
        web.start()  # people can work while Prefect starts
        server.start()
        wait_for_prefect(env["PREFECT_API_URL"])
        log.info("Prefect server up: http://127.0.0.1:%s", settings.prefect_port)
        crash_orphaned_flow_runs()  # left Running by the runner of a `lianban up` that was killed
        for child in children[1:3]:
            child.start()
        threading.Thread(target=start_watch_now, args=(time.time(),), daemon=True, name="catch-up").start()
        log.info("web app: http://%s:%s  (API docs at /docs)", settings.host, settings.port)
        _start_audit_checkpoints(settings, stopping)
        while not stopping.wait(0.5):  # a dead child is restarted within a second
            for child in children:
                if child.process and child.process.poll() is not None and not stopping.is_set():
                    _restart(child)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        stopping.set()
        for child in reversed(children):
            child.stop()
        log.info("stopped")


def _restart(child: Child) -> None:
    child.restarts += 1
    log.warning("%s exited with %s; restarting (restart %d)", child.name, child.process.returncode, child.restarts)
    if child.name == "runner":
        crash_orphaned_flow_runs()
    child.start()
    if child.name == "runner":
        threading.Thread(target=start_watch_now, args=(time.time(),), daemon=True).start()


def _start_audit_checkpoints(settings, stopping: threading.Event) -> None:
    """Sign the audit chain's head now and every `audit_checkpoint_minutes` (docs/reliability.md)."""
    minutes = settings.audit_checkpoint_minutes
    if minutes <= 0:
        return

    def loop() -> None:
        from domain.audit import checkpoints
        from domain.db import session_scope

        while not stopping.is_set():
            try:
                with session_scope() as session:
                    checkpoints.write(session=session, settings=settings)
            except Exception:  # noqa: BLE001 - the next round tries again
                log.warning("could not write an audit checkpoint", exc_info=True)
            stopping.wait(minutes * 60)

    threading.Thread(target=loop, daemon=True, name="audit-checkpoints").start()
