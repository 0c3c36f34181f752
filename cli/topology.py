"""The scale-out mode (`LIANBAN_TOPOLOGY=scaled`, docs/scaling.md): the same code as the embedded
default, started as other processes. One command per machine role (`lianban scaled ROLE`), each
reading the same settings (environment or an env file), and `lianban up --topology scaled`, which
starts every role on one machine under one supervisor:

    prefect-api ×N   `prefect server start --no-services` on Prefect's PostgreSQL database
    prefect-services `prefect server services start` (scheduler, late runs, events, automations)
    deploy           the flows of `flows.serve` as deployments on a process work pool (once per release)
    pool-worker ×M   `prefect worker start --type process`: each flow run a new process
    task-worker      the nudges' background tasks (as in the embedded default)
    web ×K           the web app and the JSON API

Several API servers and services apart share their events, caches and leases through Redis
(prefect-redis); without it an API server's events never reach the services process.
"""
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import typer

from cli.supervisor import Child
from domain.settings import Settings, get_settings

log = logging.getLogger("lianban.scaled")
app = typer.Typer(help="the scale-out mode's processes, one command per machine role (docs/scaling.md)",
                  no_args_is_help=True)

# A process worker's flow runs: the watch (2 overlapping windows), the deadline watch, the
# circulation and a manual sweep at once.
POOL_WORKER_LIMIT = 4


def _port_list(text: str, first: int) -> list[int]:
    return [int(p) for p in text.replace(" ", "").split(",") if p] or [first, first + 1]


def api_ports(settings: Settings) -> list[int]:
    return _port_list(settings.prefect_ports, settings.prefect_port)


def web_ports(settings: Settings) -> list[int]:
    return _port_list(settings.web_ports, settings.port)


def api_url(settings: Settings, port: int) -> str:
    return f"http://{settings.prefect_host}:{port}/api"


def client_api_url(settings: Settings) -> str:
    return settings.prefect_api_url or api_url(settings, api_ports(settings)[0])


def task_api_url(settings: Settings) -> str:
    return settings.task_api_url or client_api_url(settings)


def prefect_settings(settings: Settings, *, api: str | None = None) -> dict[str, str]:
    """The Prefect settings of a scaled process, derived from ours (so one env file configures both)."""
    home = settings.home / "prefect"
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": api or client_api_url(settings),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # Several API servers must not race to migrate one database: `prefect-migrate` does it once.
        "PREFECT_API_DATABASE_MIGRATE_ON_START": "false",
    }
    if settings.prefect_database_url:
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = settings.prefect_database_url
    if settings.redis_url:
        env.update({
            "PREFECT_MESSAGING_BROKER": "prefect_redis.messaging",
            "PREFECT_MESSAGING_CACHE": "prefect_redis.messaging",
            "PREFECT_SERVER_EVENTS_CAUSAL_ORDERING": "prefect_redis.ordering",
            "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": "prefect_redis.lease_storage",
            "PREFECT_SERVER_DOCKET_URL": settings.redis_url,
            "PREFECT_REDIS_MESSAGING_URL": settings.redis_url,
        })
    return env


def prefect_environment(settings: Settings, *, api: str | None = None) -> dict[str, str]:
    """This process's environment with the derived Prefect settings over it."""
    return {**os.environ, **prefect_settings(settings, api=api)}


def _require_scaled_settings(settings: Settings) -> None:
    missing = [name for name, value in (("LIANBAN_DATABASE_URL", settings.database_url),
                                        ("LIANBAN_PREFECT_DATABASE_URL", settings.prefect_database_url),
                                        ("LIANBAN_REDIS_URL", settings.redis_url)) if not value]
    if missing:
        raise typer.BadParameter(f"the scaled topology needs {', '.join(missing)} (see docs/scaling.md)")
    if not settings.prefect_database_url.startswith("postgresql"):
        raise typer.BadParameter("LIANBAN_PREFECT_DATABASE_URL must be PostgreSQL (postgresql+asyncpg://…): "
                                 "SQLite cannot be shared by several Prefect servers")


def _prefect(*args: str) -> list[str]:
    return [sys.executable, "-m", "prefect", *args]


def _exec(argv: list[str], env: dict[str, str]) -> None:
    """Become the Prefect process (signals and process ids are then the role's own)."""
    sys.stdout.flush()
    os.execvpe(argv[0], argv, env)


@app.command("env")
def show_env(api: str = typer.Option(None, help="the Prefect API URL of this process (default: the configured one)")) -> None:
    """Print the Prefect settings derived from ours (for systemd units and containers)."""
    for key, value in sorted(prefect_settings(get_settings(), api=api).items()):
        typer.echo(f"{key}={value}")


@app.command("prefect-migrate")
def prefect_migrate() -> None:
    """Bring Prefect's own database to its newest schema (once, before the API servers start)."""
    settings = get_settings()
    _require_scaled_settings(settings)
    _exec(_prefect("server", "database", "upgrade", "-y"), prefect_environment(settings))


@app.command("prefect-api")
def prefect_api(port: int = typer.Option(None, help="default: the first of LIANBAN_PREFECT_PORTS"),
                host: str = typer.Option(None, help="default: LIANBAN_PREFECT_HOST")) -> None:
    """One Prefect API server without its services (run several behind a load balancer)."""
    settings = get_settings()
    _require_scaled_settings(settings)
    port = port or api_ports(settings)[0]
    _exec(_prefect("server", "start", "--no-services", "--host", host or settings.prefect_host, "--port", str(port)),
          prefect_environment(settings, api=api_url(settings, port)))


@app.command("prefect-services")
def prefect_services() -> None:
    """Prefect's loop services (scheduler, late runs, event persister, automations) in one process."""
    settings = get_settings()
    _require_scaled_settings(settings)
    _exec(_prefect("server", "services", "start"), prefect_environment(settings))


@app.command()
def deploy() -> None:
    """Create the process work pool if missing and (re)apply every deployment to it."""
    settings = get_settings()
    os.environ.update(prefect_environment(settings))
    from flows.deploy import deploy_to_pool

    for name in deploy_to_pool():
        typer.echo(f"deployed {name} to work pool {settings.work_pool}")


@app.command("pool-worker")
def pool_worker(name: str = typer.Option(None, help="default: <host>-<pid>"),
                api: str = typer.Option(None, help="the Prefect API URL it polls (default: the configured one)"),
                limit: int = typer.Option(POOL_WORKER_LIMIT, help="flow runs at once")) -> None:
    """A process worker on the work pool: runs each flow run as a new process from LIANBAN_FLOW_SOURCE."""
    settings = get_settings()
    _exec(_prefect("worker", "start", "--pool", settings.work_pool, "--type", "process", "--limit", str(limit),
                   "--name", name or f"{socket.gethostname()}-{os.getpid()}", "--install-policy", "never"),
          prefect_environment(settings, api=api))


@app.command("task-worker")
def task_worker() -> None:
    """The nudges' task worker, on the API server the web processes nudge through."""
    settings = get_settings()
    os.environ.update(prefect_environment(settings, api=task_api_url(settings)))
    from cli.main import task_worker as run

    run()


@app.command()
def web(port: int = typer.Option(None, help="default: the first of LIANBAN_WEB_PORTS"),
        host: str = typer.Option(None, help="default: LIANBAN_HOST")) -> None:
    """One web process (web app and JSON API); its nudges go to the task API server."""
    settings = get_settings()
    os.environ.update(prefect_environment(settings, api=task_api_url(settings)))
    from cli.main import web as run

    run(host=host or settings.host, port=port or web_ports(settings)[0])


def _wait_http(url: str, timeout: float, what: str, child: Child) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.process and child.process.poll() is not None:
            raise RuntimeError(f"{what} exited with {child.process.returncode} during start-up")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{what} did not answer at {url} within {timeout:.0f}s")


def _exit_on_signal(signum, frame) -> None:
    raise SystemExit(0)


def run_scaled(*, load_demo: bool = False) -> None:
    """Every role of the scaled topology on this machine, each its own process, restarted if it dies."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_settings()
    _require_scaled_settings(settings)
    from cli.supervisor import prepare_database

    prepare_database(settings, load_demo=load_demo)
    signal.signal(signal.SIGTERM, _exit_on_signal)
    lianban = [sys.executable, "-m", "cli.main", "scaled"]
    env = {**os.environ}
    children: list[Child] = []
    stopping = threading.Event()
    try:
        subprocess.run(lianban + ["prefect-migrate"], env=env, check=True)
        ports = api_ports(settings)
        servers = [Child(f"prefect-api-{i + 1}", lianban + ["prefect-api", "--port", str(p)], env)
                   for i, p in enumerate(ports)]
        services = Child("prefect-services", lianban + ["prefect-services"], env)
        # One at a time: API servers starting together on a fresh database race to register
        # Prefect's block types (a unique violation ends the loser's start-up).
        for server, port in zip(servers, ports):
            children.append(server)
            server.start()
            _wait_http(f"{api_url(settings, port)}/health", 120, server.name, server)
        children.append(services)
        services.start()
        log.info("Prefect API servers up: %s", ", ".join(api_url(settings, p) for p in ports))
        subprocess.run(lianban + ["deploy"], env=env, check=True)
        # One machine, no load balancer: the workers take turns over the API servers, so each serves.
        workers = [Child(f"pool-worker-{i + 1}", lianban + ["pool-worker", "--name", f"{socket.gethostname()}-pool-{i + 1}",
                                                           "--api", api_url(settings, ports[i % len(ports)])], env)
                   for i in range(settings.pool_workers)]
        webs = [Child(f"web-{i + 1}", lianban + ["web", "--port", str(p)], env) for i, p in enumerate(web_ports(settings))]
        rest = workers + [Child("task-worker", lianban + ["task-worker"], env)] + webs
        children += rest
        for child in rest:
            child.start()
        for child, port in zip(webs, web_ports(settings)):
            _wait_http(f"http://{settings.host}:{port}/healthz", 90, child.name, child)
        log.info("scaled topology ready: web %s; Prefect API %s; work pool %s with %d workers",
                 " ".join(f"http://{settings.host}:{p}" for p in web_ports(settings)),
                 " ".join(api_url(settings, p) for p in ports), settings.work_pool, len(workers))
        while not stopping.wait(2):
            for child in children:
                if child.process and child.process.poll() is not None:
                    child.restarts += 1
                    log.warning("%s exited with %s; restarting (restart %d)", child.name,
                                child.process.returncode, child.restarts)
                    child.start()
    except KeyboardInterrupt:
        pass
    finally:
        stopping.set()
        stop_all(children)


def stop_all(children: list[Child], grace: float = 15) -> None:
    """SIGTERM every child's process group at once, and the flow-run processes the pool workers
    started in sessions of their own (they would outlive their worker); SIGKILL what is left after
    `grace` seconds."""
    import psutil

    procs: list[psutil.Process] = []
    for child in children:
        if child.process and child.process.poll() is None:
            try:
                procs += [psutil.Process(child.process.pid), *psutil.Process(child.process.pid).children(recursive=True)]
            except psutil.NoSuchProcess:
                pass
    groups = set()
    for process in procs:
        try:
            groups.add(os.getpgid(process.pid))
        except ProcessLookupError:
            pass
    for group in groups - {os.getpgid(0)}:
        try:
            os.killpg(group, signal.SIGTERM)
        except ProcessLookupError:
            pass
    _, alive = psutil.wait_procs(procs, timeout=grace)
    for process in alive:
        log.warning("%s (pid %s) did not stop within %.0fs: killed", " ".join(process.cmdline()[:4]), process.pid, grace)
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    for child in children:
        if child.process:
            child.process.poll()
