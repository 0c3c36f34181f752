"""The app under test: an in-process API client, request helpers, and the web app served for real."""
from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from tests.support.databases import checkpoint
from tests.support.policies import ROOT
from tests.support.ports import free_port
from tests.support.prefect import stop_process


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


def unit_id(engine, code: str) -> int:
    from domain.units.models import Unit

    with Session(engine) as s:
        return s.exec(select(Unit.id).where(Unit.code == code)).one()


_demo_copy: list[Path] = []


def demo_database(path: Path) -> Path:
    """A SQLite database at `path` as `lianban migrate` then `lianban demo` leave it (the demo city
    with its cases and thirteen months of history). Made once per process and copied: the two CLI
    processes cost seconds of imports each time, for the same result."""
    if not _demo_copy:
        from domain import demo
        from domain.bootstrap import migrate
        from domain.db import make_engine

        folder = Path(tempfile.mkdtemp(prefix="lianban-test-demo-"))
        atexit.register(shutil.rmtree, folder, True)
        url = f"sqlite:///{folder / 'lianban.db'}"
        migrate(url)
        engine = make_engine(url)
        try:
            with Session(engine) as session:
                demo.load(session=session, with_history=True)
                session.commit()
        finally:
            engine.dispose()
        checkpoint(url)
        _demo_copy.append(folder / "lianban.db")
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_demo_copy[0], path)
    return path


@contextlib.contextmanager
def served_demo_app(folder: Path):
    """The web app in its own process (uvicorn, as in production) on a fresh SQLite database with the
    demo city. Yields (base URL, environment)."""
    env = {**os.environ, "LIANBAN_HOME": str(folder / "var"), "LIANBAN_DATABASE_URL": f"sqlite:///{folder / 'lianban.db'}",
           "LIANBAN_NUDGE_ENABLED": "false"}
    demo_database(folder / "lianban.db")
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
                time.sleep(0.3)  # polling the process for readiness
        else:
            raise RuntimeError("web app did not start within 60 s")
        yield url, env
    finally:
        stop_process(web)
