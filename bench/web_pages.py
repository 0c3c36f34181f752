"""Web pages benchmark: time to first byte of the office's, the leader's and the liaison's pages
with many cases and orders.

    python -m bench.web_pages [--cases 10000] [--orders 10000] [--requests 200] [--database-url URL]

Builds a database (SQLite in a temp folder by default) with the demo city, N cases spread over
the last 12 weeks (a tenth of them awaiting a leader) and M orders to the member units (every
status, some late, some 挂牌督办), serves the app with uvicorn in its own process, signs in through
the login form and requests each page serially, measuring the time until the response headers
arrive. Prints p50/p99 per page in milliseconds.
"""
import argparse
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
from sqlmodel import Session, select

from domain import demo
from domain.bootstrap import migrate
from domain.cases.models import Case
from domain.db import make_engine
from domain.escalation.models import Approval
from domain.orders.models import OPEN_STATUSES, STATUS_NAMES_ZH, Order
from domain.policy import current_policy
from domain.timeutil import utcnow
from domain.units.models import Unit
from domain.users.models import User

ROOT = Path(__file__).resolve().parent.parent
TIERS = [("jingzhou.cid_head", "cid_head", 28_000_000), ("jingzhou.deputy", "deputy", 60_000_000),
         ("jingzhou.chief", "chief", 275_000_000), (None, None, 3_600_000)]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)], 1)


def fill(url: str, cases: int) -> None:
    migrate(url)
    engine = make_engine(url)
    policy = current_policy()
    version = policy.file_version("escalation")
    rng = random.Random(7)
    now = utcnow()
    with Session(engine) as session:
        demo.load(session=session, with_cases=False)
        session.flush()
        office = session.exec(select(User).where(User.username == "office")).one()
        leaders = {u.leader_tier: u for u in session.exec(select(User).where(User.role == "leader")).all()}
        areas = [u.id for u in session.exec(select(Unit).where(Unit.kind.in_(["county", "town", "village"]))).all()]
        batch = []
        for i in range(cases):
            rule, tier, fen = TIERS[i % len(TIERS)]
            at = now - timedelta(minutes=rng.randint(1, 12 * 7 * 24 * 60))
            awaiting = tier is not None and i % 10 < 1
            stage = rng.choice(["research", "handover", "handling", "supervision", "closed"]) if not awaiting else "research"
            batch.append(Case(case_number=f"JZ-B-{i:06d}", amount_fen=fen + i, fraud_type=rng.choice(["冒充领导", "刷单返利", "虚假投资理财"]),
                              victim_name="某某", victim_phone="13800000000", area_unit_id=rng.choice(areas),
                              reported_at=at, registered_at=at, registered_by_id=office.id, stage=stage,
                              escalation_state="awaiting" if awaiting else ("taken" if tier else "none"),
                              tier_rule_id=rule, tier_policy_version=version, tier_basis="bench",
                              leader_id=leaders[tier].id if tier and not awaiting else None,
                              supervised=stage == "supervision"))
        session.add_all(batch)
        session.flush()
        for case in batch:
            if case.escalation_state == "awaiting":
                tier = next(t for r, t, _ in TIERS if r == case.tier_rule_id)
                session.add(Approval(case_id=case.id, leader_tier=tier, approver_id=leaders[tier].id,
                                     requested_at=case.registered_at, remind_at=case.registered_at + timedelta(hours=12),
                                     due_at=case.registered_at + timedelta(hours=24), rule_id=case.tier_rule_id,
                                     policy_version=version))
        session.commit()
    engine.dispose()


ORDER_UNITS = ("bank.icbc.jz", "bank.icbc.jz.jiangling", "bank.icbc.jz.jiangling.haoxue", "bank.ccb.jz",
               "carrier.cmcc.jz", "carrier.cmcc.jz.shashi", "carrier.ctcc.jz", "psb.shashi.station", "psb.cid",
               "regulator.samr")


def fill_orders(url: str, orders: int) -> None:
    """Orders issued over the last 12 weeks to the member units, in every status; the open ones
    partly late (签收超时 / 办结超时) and some of those escalated (挂牌督办)."""
    engine = make_engine(url)
    policy = current_policy()
    version = policy.file_version("orders")
    kinds = list(policy.orders.kinds)
    statuses = list(STATUS_NAMES_ZH)
    rng = random.Random(11)
    now = utcnow()
    with Session(engine) as session:
        units = dict(session.exec(select(Unit.code, Unit.id).where(Unit.code.in_(ORDER_UNITS))).all())
        batch = []
        for i in range(orders):
            at = now - timedelta(minutes=rng.randint(1, 12 * 7 * 24 * 60))
            status = rng.choice(statuses)
            late = status in OPEN_STATUSES and status != "reported" and i % 4 == 0
            batch.append(Order(kind=kinds[i % len(kinds)], title=f"基准指令 {i:05d}", addressee_unit_id=units[
                ORDER_UNITS[i % len(ORDER_UNITS)]], status=status, issued_at=at, issued_by="office",
                acknowledge_by=at + timedelta(hours=4), complete_by=at + timedelta(days=3), policy_version=version,
                overdue_acknowledge=late and status == "issued", overdue_report=late and status != "issued",
                reminders=3 if late and i % 8 == 0 else int(late), escalated=late and i % 8 == 0,
                acknowledged_at=None if status == "issued" else at + timedelta(minutes=30)))
        session.add_all(batch)
        session.commit()
    engine.dispose()


def inbox_plan(url: str, username: str = "liaison_icbc") -> list[str]:
    """The query plan of the liaison's inbox (open orders of the unit and the units below it, newest
    first, one page): SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN ANALYZE."""
    from sqlalchemy import text

    from domain.orders import service as orders

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            user = session.exec(select(User).where(User.username == username)).one()
            query = select(Order).where(Order.status.in_(OPEN_STATUSES))
            condition = orders.visibility(session=session, actor=user)
            if condition is not None:
                query = query.where(condition)
            query = query.order_by(Order.issued_at.desc(), Order.id.desc()).limit(50)
            sql = str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
            explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN ANALYZE "
            return [" | ".join(str(c) for c in row) for row in session.execute(text(explain + sql)).all()]
    finally:
        engine.dispose()


def sign_in(client: httpx.Client, username: str) -> None:
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', client.get("/login").text).group(1)
    response = client.post("/login", data={"username": username, "password": f"demo-{username}", "csrf_token": token})
    assert response.status_code in (200, 303), response.text


def first_byte_ms(client: httpx.Client, path: str, headers: dict | None = None) -> tuple[float, int]:
    started = time.perf_counter()
    with client.stream("GET", path, headers=headers) as response:
        elapsed = (time.perf_counter() - started) * 1000
        response.read()
    return elapsed, response.status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="web-bench-"))
    url = args.database_url or f"sqlite:///{folder / 'lianban.db'}"
    started = time.perf_counter()
    fill(url, args.cases)
    fill_orders(url, args.orders)
    print(f"database with {args.cases} cases and {args.orders} orders ready in {time.perf_counter() - started:.1f} s "
          f"({url.split('://')[0]})", file=sys.stderr)
    print(f"inbox query plan ({url.split(':')[0]}, liaison_icbc, {args.orders} orders):")
    for line in inbox_plan(url):
        print(f"    {line}")
    port = 18000 + os.getpid() % 1000
    env = {**os.environ, "LIANBAN_HOME": str(folder / "var"), "LIANBAN_DATABASE_URL": url,
           "LIANBAN_NUDGE_ENABLED": "false", "LIANBAN_DEMO": "true"}
    from server.serving import uvicorn_arguments

    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "server.main:app", "--port", str(port),
                               "--log-level", "warning", *uvicorn_arguments()], cwd=ROOT, env=env, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        office, leader, liaison = httpx.Client(base_url=base), httpx.Client(base_url=base), httpx.Client(base_url=base)
        sign_in(office, "office")
        sign_in(leader, "cid_head")
        sign_in(liaison, "liaison_icbc")
        version = re.search(r'data-version="([0-9a-f]+)"', leader.get("/leader/queue").text).group(1)
        some_case = re.search(r'href="/cases/(\d+)"', office.get("/cases").text).group(1)
        inbox_version = re.search(r'data-version="([0-9a-f]+)"', liaison.get("/inbox").text).group(1)
        some_order = re.search(r'href="/orders/(\d+)"', liaison.get("/inbox").text).group(1)
        pages = [
            (office, "/office", None), (office, "/cases", None), (office, "/cases?q=B-0012", None),
            (office, "/cases?stage=supervision&state=taken&page=20", None), (office, f"/cases/{some_case}", None),
            (leader, "/leader/queue", None), (leader, f"/leader/queue/rows?v={version}", {"HX-Request": "true"}),
            (leader, "/leader/cases", None),
            (office, "/orders", None), (office, "/orders?overdue=1&open=1", None),
            (office, "/orders?status=issued&kind=stop_payment&escalated=1", None), (office, "/orders?page=200", None),
            (office, f"/orders/{some_order}", None),
            (liaison, "/inbox", None), (liaison, f"/inbox/rows?v={inbox_version}", {"HX-Request": "true"}),
            (liaison, "/inbox?show=all&page=10", None), (liaison, f"/orders/{some_order}", None),
        ]
        print(f"{'page':<52} {'p50 ms':>8} {'p99 ms':>8}  status")
        for client, path, headers in pages:
            for _ in range(5):
                first_byte_ms(client, path, headers)  # warm-up
            timings, statuses = [], set()
            for _ in range(args.requests):
                elapsed, status = first_byte_ms(client, path, headers)
                timings.append(elapsed)
                statuses.add(status)
            print(f"{path:<52} {percentile(timings, 50):>8} {percentile(timings, 99):>8}  {sorted(statuses)}")
    finally:
        server.terminate()
        server.wait(20)


if __name__ == "__main__":
    main()
