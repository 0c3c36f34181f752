"""Monthly circulation ranking over one city-year, on SQLite and on PostgreSQL.

A city at DOMAIN.md's sizes: 10 counties × 10 towns × 10 villages (with populations), 30 banks
(city branch, 5 sub-branches each, 3 outlets per sub-branch), 3 carriers (60 outlets each);
≈5,000 cases, 3,000 fraud-involved accounts and 3,000 phone cards over twelve months.
Prints the time to rank one month (`compute`, target ≤ 2 s) and to circulate it end to end
(record, cards, listing orders, the 通报 PDF).

    python -m bench.circulation [--cases 5000] [--postgres]
"""
import argparse
import os
import random
import tempfile
import time
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session, select

from bench.common import postgres_database
from bench.deadline_sweep import machine

MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]


def fill(engine, cases: int, accounts: int, cards: int, seed: int = 6) -> None:
    from domain import demo
    from domain.circulation.models import FraudCard
    from domain.cases.models import Case
    from domain.processes.models import FraudAccount
    from domain.timeutil import SHANGHAI, as_utc
    from domain.units.models import Unit
    from domain.users.models import User

    rng = random.Random(seed)
    with Session(engine) as s:
        demo.load(session=s, with_cases=False)
        s.commit()
        city = s.exec(select(Unit.id).where(Unit.code == "city")).one()
        registrar = s.exec(select(User.id).where(User.username == "office")).one()
    villages, bank_units, outlets = [], [], []

    def add(conn, code, name, kind, parent, population=None) -> int:
        return conn.execute(text("INSERT INTO units (code, name, kind, parent_id, population) VALUES "
                                 "(:c, :n, :k, :p, :pop) RETURNING id"),
                            {"c": code, "n": name, "k": kind, "p": parent, "pop": population}).scalar_one()

    with engine.begin() as conn:
        for c in range(10):
            county = add(conn, f"b.c{c}", f"测试县{c}", "county", city, 500_000)
            for t in range(10):
                # one town in fifty without population: the towns fall back to counts that month
                town = add(conn, f"b.c{c}.t{t}", f"测试镇{c}-{t}", "town", county, None if (c, t) == (9, 9) else 50_000)
                for v in range(10):
                    villages.append(add(conn, f"b.c{c}.t{t}.v{v}", f"测试村{c}-{t}-{v}", "village", town,
                                        rng.randint(1_000, 8_000)))
        for b in range(30):
            bank = add(conn, f"b.bank{b}", f"测试银行{b}", "bank", city)
            branch = add(conn, f"b.bank{b}.jz", f"测试银行{b}荆州分行", "bank_branch", bank)
            for sb in range(5):
                sub = add(conn, f"b.bank{b}.jz.s{sb}", f"测试银行{b}支行{sb}", "bank_branch", branch)
                bank_units.append(sub)
                for o in range(3):
                    bank_units.append(add(conn, f"b.bank{b}.jz.s{sb}.o{o}", f"测试银行{b}网点{sb}-{o}", "bank_outlet", sub))
        for k in range(3):
            carrier = add(conn, f"b.carrier{k}", f"测试运营商{k}", "carrier", city)
            company = add(conn, f"b.carrier{k}.jz", f"测试运营商{k}荆州分公司", "carrier_outlet", carrier)
            for o in range(60):
                outlets.append(add(conn, f"b.carrier{k}.jz.o{o}", f"测试运营商{k}营业厅{o}", "carrier_outlet", company))

    def moment():
        month = rng.choice(MONTHS)
        return as_utc(datetime(2025, int(month[5:]), rng.randint(1, 28), rng.randint(0, 23), tzinfo=SHANGHAI))

    hot = villages[:40]  # a few villages with many cases, as in life
    with engine.begin() as conn:
        rows = []
        for n in range(cases):
            at = moment()
            rows.append({"case_number": f"B-{n:06d}", "amount_fen": rng.randint(1_000, 50_000_000),
                         "fraud_type": "刷单返利", "victim_name": "某", "victim_phone": "13800000000",
                         "area_unit_id": rng.choice(hot) if rng.random() < 0.3 else rng.choice(villages),
                         "reported_at": at, "registered_at": at, "registered_by_id": registrar, "stage": "research",
                         "escalation_state": "none", "tier_policy_version": "bench", "supervised": False})
        conn.execute(Case.__table__.insert(), rows)
        conn.execute(FraudAccount.__table__.insert(), [
            {"account_number": f"6222{n:012d}", "opening_unit_id": rng.choice(bank_units), "opened_on": moment(),
             "recorded_at": moment(), "recorded_by": "bench"} for n in range(accounts)])
        conn.execute(FraudCard.__table__.insert(), [
            {"phone_number": f"171{n:08d}", "selling_unit_id": rng.choice(outlets), "sold_on": moment(),
             "recorded_at": moment(), "recorded_by": "bench"} for n in range(cards)])
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def run(url: str, label: str, cases: int, months: int = 12) -> None:
    from domain.bootstrap import migrate
    from domain.circulation import circular
    from domain.circulation import service as circulation
    from domain.db import make_engine, session_scope, use_engine

    migrate(url)
    engine = make_engine(url)
    use_engine(engine)
    started = time.perf_counter()
    fill(engine, cases, 3_000, 3_000)
    print(f"[{label}] filled in {time.perf_counter() - started:.1f} s")
    timings = []
    for month in MONTHS[:6]:
        with Session(engine) as s:
            t0 = time.perf_counter()
            result = circulation.compute(session=s, month=month)
            timings.append(time.perf_counter() - t0)
    top = result["county"].rows[0]
    print(f"[{label}] rank one month (compute, 6 months): best {min(timings) * 1000:.0f} ms, "
          f"worst {max(timings) * 1000:.0f} ms; e.g. {MONTHS[5]} county #1 {top.tally.name} {top.tally.count} cases")
    full = []
    for month in MONTHS[:months]:
        t0 = time.perf_counter()
        with session_scope(engine) as s:
            circular.run(session=s, month=month)
        full.append(time.perf_counter() - t0)
    with session_scope(engine, reading=True) as s:
        from sqlmodel import func

        from domain.circulation.models import Card, Listing
        cards = s.exec(select(func.count(Card.id))).one()
        listings = s.exec(select(func.count(Listing.id))).one()
    print(f"[{label}] circulate a month end to end (record, cards, listing orders, PDF), {len(full)} months: "
          f"median {sorted(full)[len(full) // 2] * 1000:.0f} ms, worst {max(full) * 1000:.0f} ms; {cards} cards, {listings} listings")
    use_engine(None)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=5_000)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL (needs a local server)")
    parser.add_argument("--months", type=int, default=12, help="months circulated end to end (default all 12)")
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as folder:
        os.environ.setdefault("LIANBAN_HOME", folder)  # the bench's PDFs go to a throw-away home
        run(f"sqlite:///{folder}/bench.db", "sqlite", args.cases, args.months)
        if args.postgres:
            with postgres_database() as url:
                run(url, "postgres", args.cases, args.months)

if __name__ == "__main__":
    main()
