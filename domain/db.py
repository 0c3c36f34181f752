"""Engine and sessions for SQLite (embedded default, WAL) and PostgreSQL."""
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from domain.settings import get_settings


def make_engine(url: str) -> Engine:
    import domain.models  # noqa: F401  (every table mapped before the first query, in any process)

    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **_POOL)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # Let SQLAlchemy issue BEGIN itself so every write transaction takes the write lock
            # up front (BEGIN IMMEDIATE): no lock upgrades that fail half-way under concurrency.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        # SQLite has one writer at a time. Writers of this process queue on a lock here, in
        # arrival order, instead of in SQLite's busy handler, which polls with sleeps of up to
        # 100 ms and so gives a long tail under load (docs/performance.md). Other processes
        # still wait in the busy handler. The lock is let go once the COMMIT or ROLLBACK is done.
        writer, holders = threading.Lock(), set()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # Readers (see `read_only`) need no lock in WAL mode and must not queue behind writers.
            if conn.get_execution_options().get("read_only"):
                conn.exec_driver_sql("BEGIN")
                return
            raw = conn.connection.dbapi_connection
            if writer.acquire(timeout=30):  # else: the busy handler decides, as without the queue
                holders.add(id(raw))
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                _release(raw)
                raise

        def _release(raw) -> None:
            if id(raw) in holders:
                holders.discard(id(raw))
                writer.release()

        dialect = engine.dialect
        for name in ("do_commit", "do_rollback"):
            def _ending(connection, _end=getattr(dialect, name)):
                try:
                    _end(connection)
                finally:
                    _release(getattr(connection, "dbapi_connection", connection))
            setattr(dialect, name, _ending)
        for name in ("close", "invalidate"):  # a connection that dies mid-transaction lets go too
            event.listen(engine, name, lambda raw, *_: _release(raw))
        return engine
    return create_engine(url, pool_pre_ping=True, **_POOL)


# More connections than the web server's worker threads (anyio's default limit is 40): a thread
# must never wait for a connection that only another waiting thread could give back.
_POOL = {"pool_size": 20, "max_overflow": 25, "pool_timeout": 30}
_engine: Engine | None = None
_engine_lock = threading.Lock()


def get_engine() -> Engine:
    """The process's engine, made once on first use from the settings (thread-safe)."""
    global _engine
    if _engine is None:
        with _engine_lock:
            if _engine is None:
                settings = get_settings()
                settings.home.mkdir(parents=True, exist_ok=True)
                _engine = make_engine(settings.resolved_database_url)
    return _engine


def use_engine(engine: Engine | None) -> None:
    """Point this process at another database (tests, the CLI's --database option)."""
    global _engine
    _engine = engine


def read_only(engine: Engine) -> Engine:
    """The same engine for transactions that only read (no write lock taken on SQLite)."""
    return engine.execution_options(read_only=True)


@contextmanager
def session_scope(engine: Engine | None = None, *, reading: bool = False) -> Iterator[Session]:
    """One unit of work: commits when the block ends, rolls back on any error."""
    engine = engine or get_engine()
    with Session(read_only(engine) if reading else engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
