"""Deadline sweep over 1,000,000 open orders: the watch's one query, its plan, and a batch of
reminders, on SQLite and on PostgreSQL.

    python -m bench.deadline_sweep [--orders 1000000] [--due 1000] [--postgres]
"""
import argparse
import os
import platform
import tempfile
import time
from datetime import timedelta

from sqlalchemy import text
from sqlmodel import Session

from bench.common import postgres_database


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


def fill(engine, orders: int, due: int) -> None:
    """`orders` open orders addressed to the demo banks; `due` of them past their deadline."""
    from domain.timeutil import UTCDateTime, utcnow

    now = utcnow()
    with engine.begin() as conn:
        units = [r[0] for r in conn.execute(text("SELECT id FROM units WHERE kind LIKE 'bank%'"))]
    bind = UTCDateTime().process_bind_param
    rows = []
    for n in range(orders):
        check = now - timedelta(seconds=n + 1) if n < due else now + timedelta(minutes=5 + n % 10000)
        rows.append({"kind": "stop_payment", "title": f"bench {n}", "instructions": "", "details": "{}",
                     "unit": units[n % len(units)], "status": "issued", "issued_at": bind(now, None),
                     "issued_by": "bench", "ack": bind(check, None), "complete": bind(check + timedelta(hours=1), None),
                     "check": bind(check, None), "policy": "bench"})
    insert = text("INSERT INTO orders (kind, title, instructions, details, addressee_unit_id, status, issued_at, "
                  "issued_by, acknowledge_by, complete_by, next_check_at, policy_version, overdue_acknowledge, "
                  "overdue_report, reminders, escalated, escalations) VALUES (:kind, :title, :instructions, :details, "
                  ":unit, :status, :issued_at, :issued_by, :ack, :complete, :check, :policy, false, false, 0, false, 0)")
    for start in range(0, len(rows), 50_000):
        with engine.begin() as conn:
            conn.execute(insert, rows[start:start + 50_000])
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def run(url: str, label: str, orders: int, due: int) -> None:
    from domain import demo
    from domain.bootstrap import migrate
    from domain.db import make_engine, use_engine
    from domain.orders import service
    from domain.timeutil import utcnow
    from flows.orders import check_due_orders

    migrate(url)
    engine = make_engine(url)
    use_engine(engine)
    with Session(engine) as session:
        demo.load(session=session, with_cases=False)
        session.commit()
    started = time.perf_counter()
    fill(engine, orders, due)
    print(f"[{label}] filled {orders:,} open orders ({due:,} past a deadline) in {time.perf_counter() - started:.1f} s")
    query = service.due_query(now=utcnow(), limit=5000)
    with Session(engine) as session:
        compiled = str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
        explain = "EXPLAIN QUERY PLAN " if label == "SQLite" else "EXPLAIN ANALYZE "
        plan = session.execute(text(explain + compiled)).all()
        timings = []
        for _ in range(20):
            t = time.perf_counter()
            found = service.due_for_check(session=session, now=utcnow(), limit=5000)
            timings.append(time.perf_counter() - t)
    timings.sort()
    print(f"[{label}] query plan:")
    for row in plan:
        print("    " + " | ".join(str(c) for c in row))
    print(f"[{label}] due query: {len(found):,} due of {orders:,}; p50 {timings[10] * 1000:.2f} ms, "
          f"max {timings[-1] * 1000:.2f} ms")
    t = time.perf_counter()
    done = check_due_orders()
    elapsed = time.perf_counter() - t
    print(f"[{label}] sweep: {done['reminded']:,} reminded in {elapsed:.2f} s ({done['reminded'] / elapsed:,.0f} orders/s, "
          f"one transaction each, with audit entries)")
    t = time.perf_counter()
    again = check_due_orders()
    print(f"[{label}] second sweep right after: {again['reminded']} reminded, {(time.perf_counter() - t) * 1000:.1f} ms")
    use_engine(None)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--postgres", action="store_true", help="also run on PostgreSQL (127.0.0.1:5432)")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as folder:
        os.environ["LIANBAN_HOME"] = folder
        run(f"sqlite:///{folder}/bench.db", "SQLite", args.orders, args.due)
    if args.postgres:
        with postgres_database() as url:
            run(url, "PostgreSQL", args.orders, args.due)


if __name__ == "__main__":
    main()
