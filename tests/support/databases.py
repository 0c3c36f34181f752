"""Databases for tests: migrated once per session (per xdist worker) into a template, copied per test.

Running the whole Alembic history and loading the demo city for every test was most of the suite's
time. Now each worker builds two templates on first use — the bare schema, and the schema with the
demo city's units and users — and a test gets a copy: a file copy on SQLite; on PostgreSQL a
`CREATE DATABASE … TEMPLATE` copy that is reset to the template's content after the test and lent
again (pg_pool.py says why). A test whose fixtures include `city` starts from the city template,
so `city` only reads the users back.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlmodel import Session, select

from tests.support import pg_pool

PG_ADMIN_URL = os.environ.get("LIANBAN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def pg_url(name: str) -> str:
    """The SQLAlchemy URL of database `name` on the test server."""
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"


def pg_admin_url(name: str) -> str:
    """The plain libpq URL of database `name` (for psycopg itself)."""
    return f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"


def pg_admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def _pg_reachable() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def _migrate(url: str) -> None:
    from domain.bootstrap import migrate

    migrate(url)
    checkpoint(url)


def _add_city(url: str) -> None:
    from domain import demo
    from domain.db import make_engine

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            demo.load(session=session, with_cases=False)
            session.commit()
    finally:
        engine.dispose()  # PostgreSQL refuses to copy a template anyone is connected to
    checkpoint(url)


def checkpoint(url: str) -> None:
    """A copied SQLite template must be one file: fold the write-ahead log back into it."""
    if url.startswith("sqlite:///"):
        import sqlite3

        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


class Templates:
    """The worker's two templates per backend, made on first use, dropped at the session's end."""

    def __init__(self, folder: Path, worker: str) -> None:
        self.folder = folder
        # Unique per session and worker: other people's sessions share the PostgreSQL server.
        self.prefix = f"lianban_tpl_{worker}_{uuid.uuid4().hex[:8]}"
        self.made: dict[tuple[str, bool], str] = {}
        # PostgreSQL test databases are reset and reused, not dropped: see pg_pool.py.
        self.snapshots: dict[bool, pg_pool.Snapshot] = {}
        self.free: dict[bool, list[str]] = {False: [], True: []}
        self.lent: list[str] = []

    def sqlite(self, *, with_city: bool) -> Path:
        key = ("sqlite", with_city)
        if key not in self.made:
            path = self.folder / ("city.db" if with_city else "schema.db")
            if with_city:
                shutil.copyfile(self.sqlite(with_city=False), path)
                _add_city(f"sqlite:///{path}")
            else:
                _migrate(f"sqlite:///{path}")
            self.made[key] = str(path)
        return Path(self.made[key])

    def postgres(self, *, with_city: bool) -> str:
        key = ("postgres", with_city)
        if key not in self.made:
            name = f"{self.prefix}_{'city' if with_city else 'schema'}"
            source = f' TEMPLATE "{self.postgres(with_city=False)}"' if with_city else ""
            pg_admin(f'CREATE DATABASE "{name}"{source}')
            self.made[key] = name  # before filling, so a failed fill is still dropped
            (_add_city if with_city else _migrate)(pg_url(name))
            self.snapshots[with_city] = pg_pool.take_snapshot(pg_admin_url(name))
        return self.made[key]

    def lend(self, *, with_city: bool) -> str:
        """A PostgreSQL database holding exactly what the template holds, for one test."""
        template = self.postgres(with_city=with_city)
        if self.free[with_city]:
            return self.free[with_city].pop()
        name = f"{self.prefix}_{len(self.lent)}"
        pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        self.lent.append(name)
        return name

    def give_back(self, name: str, *, with_city: bool) -> None:
        pg_pool.reset(pg_admin_url(name), self.snapshots[with_city])  # if this fails, it is not lent again
        self.free[with_city].append(name)

    def drop(self) -> None:
        names = self.lent + [self.made[key] for key in (("postgres", True), ("postgres", False)) if key in self.made]
        for name in names:
            pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    ok = _pg_reachable()
    if not ok and os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is unreachable at {PG_ADMIN_URL}; under CI=true that is a failure")
    return ok


@pytest.fixture(scope="session")
def database_templates(tmp_path_factory):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    templates = Templates(tmp_path_factory.mktemp("templates"), worker)
    yield templates
    templates.drop()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path, postgres_available, database_templates):
    """A migrated database of the test's own, with the demo city when the test asks for `city`."""
    with_city = "city" in request.fixturenames
    if request.param == "sqlite":
        path = tmp_path / "lianban.db"
        shutil.copyfile(database_templates.sqlite(with_city=with_city), path)
        yield f"sqlite:///{path}"
        return
    if not postgres_available:
        pytest.skip(f"PostgreSQL unreachable at {PG_ADMIN_URL}")
    name = database_templates.lend(with_city=with_city)
    yield pg_url(name)
    database_templates.give_back(name, with_city=with_city)


@pytest.fixture
def engine(database_url):
    from domain.db import make_engine, use_engine

    eng = make_engine(database_url)
    use_engine(eng)
    yield eng
    use_engine(None)
    eng.dispose()


@pytest.fixture
def city(engine):
    """The demo city's units and users (no cases), as {username: User}. Already in the database when
    the test asked for `city` from the start; loaded here when it was asked for later."""
    from domain import demo
    from domain.users.models import User

    with Session(engine) as session:
        demo.load(session=session, with_cases=False)  # does nothing if the users are there
        session.commit()
        return {u.username: u for u in session.exec(select(User)).all()}


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
