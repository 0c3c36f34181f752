"""The app under test: an in-process API client, request helpers, and the web app served for real."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from tests.support.policies import ROOT
from tests.support.ports import free_port
from tests.support.prefect import stop_process


@pytest.fixture
def client(engine, city):
    from api.app import create_app

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
    web = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", str(port),
                            "--log-level", "warning"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
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
