"""Shared fixtures: a fresh database per test on SQLite and on PostgreSQL, the demo city's units
and users, an API client, and one real Prefect server for the whole session."""
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest
import yaml
from fastapi.testclient import TestClient
from sqlmodel import Session, select

PG_ADMIN_URL = os.environ.get("LIANBAN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POLICY = ROOT / "policies" / "default"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pytest_configure(config):
    # Prefect reads these when it first needs a client: point every flow at the session's server.
    os.environ.setdefault("LIANBAN_TEST_PREFECT_PORT", str(free_port()))
    home = Path(tempfile.gettempdir()) / f"lianban-test-prefect-{os.environ['LIANBAN_TEST_PREFECT_PORT']}"
    os.environ["PREFECT_HOME"] = str(home)
    os.environ["PREFECT_API_URL"] = f"http://127.0.0.1:{os.environ['LIANBAN_TEST_PREFECT_PORT']}/api"
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ["PREFECT_LOGGING_TO_API_ENABLED"] = "false"
    os.environ["LIANBAN_NUDGE_ENABLED"] = "false"  # API tests do not need the task worker
    os.environ.setdefault("LIANBAN_DEMO", "true")  # the tests sign in with the demo city's tokens


def _pg_reachable() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    ok = _pg_reachable()
    if not ok and os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is unreachable at {PG_ADMIN_URL}; under CI=true that is a failure")
    return ok


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path, postgres_available):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'lianban.db'}"
        return
    if not postgres_available:
        pytest.skip(f"PostgreSQL unreachable at {PG_ADMIN_URL}")
    name = f"lianban_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def engine(database_url):
    from domain.bootstrap import migrate
    from domain.db import make_engine, use_engine

    migrate(database_url)
    eng = make_engine(database_url)
    use_engine(eng)
    yield eng
    use_engine(None)
    eng.dispose()


@pytest.fixture
def city(engine):
    """The demo city's units and users (no cases), as {username: User}."""
    from domain import demo
    from domain.users.models import User

    with Session(engine) as session:
        demo.load(session=session, with_cases=False)
        session.commit()
        return {u.username: u for u in session.exec(select(User)).all()}


# A Wednesday morning in Beijing: an ordinary working day, far from any holiday. Tests that care
# about the calendar set the clock themselves (a weekend, the eve of National Day, New Year's Eve).
ORDINARY_WORKDAY = "2026-12-09T09:30:00+08:00"


@pytest.fixture
def clock():
    """The services' clock, stopped at an ordinary working day; `clock.set(...)`/`clock.advance(...)`
    move it. No test sleeps for time to pass."""
    from datetime import datetime

    from domain import clock as clocks

    with clocks.frozen(datetime.fromisoformat(ORDINARY_WORKDAY)) as stopped:
        yield stopped


@pytest.fixture
def session(engine):
    """For looking at the database from a test: every statement sees the latest commits."""
    from domain.db import read_only

    with Session(read_only(engine), expire_on_commit=False, autoflush=False) as s:
        yield Fresh(s)


class Fresh:
    """A session wrapper that ends its read transaction before each query (no stale snapshot)."""

    def __init__(self, session):
        self._session = session

    def exec(self, statement):
        self._session.rollback()
        return self._session.exec(statement)

    def get(self, model, key):
        self._session.rollback()
        return self._session.get(model, key)

    def __getattr__(self, name):
        return getattr(self._session, name)


@pytest.fixture
def client(engine, city):
    from server.app import create_app

    with TestClient(create_app(engine)) as c:
        yield c


def auth(username: str) -> dict[str, str]:
    from domain.demo import demo_token

    return {"Authorization": f"Bearer {demo_token(username)}"}


def case_body(number: str = "T-0001", amount="280000.00", area="jiangling.haoxue", **extra) -> dict:
    return {"case_number": number, "amount_cny": amount, "fraud_type": "冒充领导", "victim_name": "张三丰",
            "victim_phone": "13800001234", "area": area, "reported_at": "2026-06-09T10:15:00+08:00", **extra}


def write_policy(folder: Path, *, escalation: dict | None = None) -> Path:
    """A copy of the default policy with parts of escalation.yaml replaced (e.g. short deadlines)."""
    shutil.copytree(DEFAULT_POLICY, folder)
    if escalation:
        data = yaml.safe_load((folder / "escalation.yaml").read_text(encoding="utf-8"))
        for key, value in escalation.items():
            data[key] = {**data[key], **value} if isinstance(value, dict) else value
        (folder / "escalation.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return folder


@pytest.fixture
def short_deadlines(tmp_path):
    """Remind after 1 s, escalate after 2 s: the approval timeout tests."""
    from domain.policy import use_policy_folder

    folder = write_policy(tmp_path / "policy", escalation={"approval": {"remind_after": "1s", "decide_within": "2s"}})
    use_policy_folder(folder)
    yield folder
    use_policy_folder(None)


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
        time.sleep(0.5)
    process.kill()
    raise RuntimeError("Prefect server did not start within 120 s")


def stop_process(process: subprocess.Popen) -> None:
    import signal

    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="session")
def prefect_server():
    """One real Prefect server (SQLite) for the whole session, as DESIGN.md advises."""
    port = int(os.environ["LIANBAN_TEST_PREFECT_PORT"])
    home = Path(os.environ["PREFECT_HOME"])
    shutil.rmtree(home, ignore_errors=True)
    process = start_prefect_server(port, home)
    yield os.environ["PREFECT_API_URL"]
    stop_process(process)


def unit_id(engine, code: str) -> int:
    from domain.units.models import Unit

    with Session(engine) as s:
        return s.exec(select(Unit.id).where(Unit.code == code)).one()


@pytest.fixture
def short_order_deadlines(tmp_path):
    """Orders due in seconds: stop-payments acknowledge within 1 s, reminded every 1 s, escalated
    after 2 reminders."""
    from domain.policy import use_policy_folder

    folder = write_policy(tmp_path / "policy-orders")
    path = folder / "orders.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["escalate_after_reminders"] = 2
    data["kinds"]["stop_payment"].update(acknowledge_within="1s", complete_within="3s", remind_every="1s")
    data["kinds"]["supervision"].update(acknowledge_within="1s", complete_within="2s", remind_every="1s")
    data["evidence"]["max_bytes"] = 2048
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    use_policy_folder(folder)
    yield folder
    use_policy_folder(None)


@contextlib.contextmanager
def served_demo_app(folder: Path):
    """The web app in its own process (uvicorn, as in production) on a fresh SQLite database with the
    demo city. Yields (base URL, environment)."""
    env = {**os.environ, "LIANBAN_HOME": str(folder / "var"), "LIANBAN_DATABASE_URL": f"sqlite:///{folder / 'lianban.db'}",
           "LIANBAN_NUDGE_ENABLED": "false"}
    for command in ("migrate", "demo"):
        subprocess.run([sys.executable, "-m", "cli.main", command], env=env, cwd=ROOT, check=True, capture_output=True)
    port = free_port()
    log = open(folder / "web.log", "wb")
    from server.serving import uvicorn_arguments

    web = subprocess.Popen([sys.executable, "-m", "uvicorn", "server.main:app", "--host", "127.0.0.1", "--port", str(port),
                            "--log-level", "warning", *uvicorn_arguments()], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                           start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if web.poll() is not None:
                raise RuntimeError(f"web app exited: see {folder / 'web.log'}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            raise RuntimeError("web app did not start within 60 s")
        yield url, env
    finally:
        stop_process(web)
