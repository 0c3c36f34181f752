"""The statistics dashboard and the monthly ranking over one city-year, on SQLite and PostgreSQL.

One city-year at DOMAIN.md's sizes: the unit tree of bench/circulation.py (10 counties × 10 towns
× 10 villages, 30 banks with branches and outlets, 3 carriers with outlets), ≈5,000 cases (40% of
them solved, some money returned), ≈1.2 million warnings (most dissuaded), 13,200 stop-payments
and 854 freezes reported by the banks (Jingzhou's year). Prints the time to rank one month
(target ≤ 2 s) and to compute the dashboard (target ≤ 1 s) for a month, a quarter and a year,
for the whole city, one county and one bank.

    python -m bench.statistics [--warnings 1200000] [--cases 5000] [--postgres]
"""
import argparse
import os
import random
import tempfile
import time
from datetime import date, datetime, timedelta

from sqlalchemy import text
from sqlmodel import Session, select

from bench.circulation import fill as fill_city
from bench.common import postgres_database
from bench.deadline_sweep import machine

YEAR = 2025
CHUNK = 50_000


def fill(engine, *, cases: int, warnings: int, stops: int, freezes: int, seed: int = 7) -> None:
    from domain.timeutil import SHANGHAI, UTCDateTime, as_utc
    from domain.warnings.models import FraudWarning
    from domain.warnings.service import rebuild_month_counts

    fill_city(engine, cases, 3_000, 3_000)
    rng = random.Random(seed)
    bind = UTCDateTime().process_bind_param
    with engine.begin() as conn:
        villages = [r[0] for r in conn.execute(text("SELECT id FROM units WHERE kind = 'village' AND code LIKE 'b.%'"))]
        banks = [r[0] for r in conn.execute(text("SELECT id FROM units WHERE kind IN ('bank_branch', 'bank_outlet') "
                                                 "AND code LIKE 'b.%'"))]
        case_rows = conn.execute(text("SELECT id, reported_at, amount_fen FROM cases")).all()

    def moment() -> datetime:
        start = datetime(YEAR, 1, 1, tzinfo=SHANGHAI)
        return as_utc(start + timedelta(seconds=rng.randrange(365 * 86_400)))

    outcomes = ["dissuaded"] * 8 + ["not_reached", "became_case"]
    for first in range(0, warnings, CHUNK):
        rows = [{"warning_number": f"YJ{n:09d}", "area_unit_id": rng.choice(villages),
                 "risk_level": rng.choice(("high", "medium", "low")), "received_at": moment(),
                 "outcome": rng.choice(outcomes), "handled_at": None, "process_id": None}
                for n in range(first, min(first + CHUNK, warnings))]
        with engine.begin() as conn:
            conn.execute(FraudWarning.__table__.insert(), rows)

    with Session(engine) as s:  # the bulk load bypassed the service: recount the monthly counts
        started = time.perf_counter()
        rows = rebuild_month_counts(session=s)
        s.commit()
        print(f"  warning_months rebuilt: {rows:,} rows in {time.perf_counter() - started:.1f} s")

    results = []
    for case_id, reported_at, amount in case_rows:
        if rng.random() < 0.4:
            reported = reported_at if isinstance(reported_at, datetime) else datetime.fromisoformat(str(reported_at))
            solved = reported + timedelta(days=rng.randint(1, 40))
            results.append({"id": case_id, "solved": solved, "caught": rng.randint(0, 6),
                            "recovered": rng.randint(0, amount // 3)})
    with engine.begin() as conn:
        conn.execute(text("UPDATE cases SET solved_at = :solved, suspects_caught = :caught, recovered_fen = :recovered, "
                          "recovered_at = :solved WHERE id = :id"), results)

    insert = text("INSERT INTO orders (kind, title, instructions, details, addressee_unit_id, case_id, status, "
                  "issued_at, issued_by, acknowledge_by, complete_by, reported_at, reported_amount_fen, step_key, "
                  "policy_version, overdue_acknowledge, overdue_report, reminders, escalated, escalations) VALUES "
                  "(:kind, 'bench', '', '{}', :unit, :case, 'accepted', :at, 'bench', :at, :at, :at, :amount, :step, "
                  "'bench', false, false, 0, false, 0)")
    rows = []
    for n in range(stops + freezes):
        at = bind(moment(), None)
        kind = "stop_payment" if n < stops else "freeze"
        rows.append({"kind": kind, "unit": rng.choice(banks), "at": at, "amount": rng.randint(10_000, 5_000_000),
                     "case": rng.choice(case_rows)[0] if rng.random() < 0.7 else None,
                     "step": None if kind == "stop_payment" else "freeze_1"})
    with engine.begin() as conn:
        conn.execute(insert, rows)
        conn.execute(text("ANALYZE"))


def timed(action, repeat: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - started)
    return best, result


def run(url: str, label: str, args) -> None:
    from domain.bootstrap import migrate
    from domain.circulation import service as circulation
    from domain.db import make_engine, use_engine
    from domain.statistics import service as statistics
    from domain.users.models import User

    migrate(url)
    engine = make_engine(url)
    use_engine(engine)
    started = time.perf_counter()
    fill(engine, cases=args.cases, warnings=args.warnings, stops=args.stops, freezes=args.freezes)
    print(f"[{label}] filled one city-year in {time.perf_counter() - started:.0f} s: {args.warnings:,} warnings, "
          f"{args.cases:,} cases, {args.stops:,} stop-payments, {args.freezes:,} freezes")
    with Session(engine) as s:
        office = s.exec(select(User).where(User.username == "office")).one()
        rank_times = [timed(lambda m=month: circulation.compute(session=s, month=m), repeat=1)[0]
                      for month in (f"{YEAR}-{m:02d}" for m in range(1, 13, 2))]
        print(f"[{label}] ranking one month (6 months): worst {max(rank_times) * 1000:.0f} ms, "
              f"best {min(rank_times) * 1000:.0f} ms (target ≤ 2000 ms)")
        spans = {"month": statistics.month_period(f"{YEAR}-10"),
                 "quarter": statistics.Period(date(YEAR, 7, 1), date(YEAR, 9, 30)),
                 "year": statistics.Period(date(YEAR, 1, 1), date(YEAR, 12, 31)),
                 # not whole months: the odd days are counted from the warnings themselves
                 "30 days": statistics.Period(date(YEAR, 6, 10), date(YEAR, 7, 9))}
        worst = 0.0
        for unit, unit_label in ((None, "city"), ("b.c3", "county"), ("b.bank4", "bank")):
            for name, span in spans.items():
                seconds, board = timed(lambda sp=span, u=unit: statistics.dashboard(session=s, actor=office, span=sp,
                                                                                   unit=u))
                worst = max(worst, seconds)
                figures = {row.metric.key: row.value for row in board.rows}
                print(f"[{label}] dashboard {unit_label:<6} {name:<7} {seconds * 1000:7.0f} ms  "
                      f"warnings {figures['warnings']:>9,}  cases {figures['cases_reported']:>5,}  "
                      f"stopped {figures['stopped_accounts']:>6,}")
        print(f"[{label}] dashboard worst {worst * 1000:.0f} ms (target ≤ 1000 ms)")
    use_engine(None)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--warnings", type=int, default=1_200_000)
    parser.add_argument("--cases", type=int, default=5_000)
    parser.add_argument("--stops", type=int, default=13_200)
    parser.add_argument("--freezes", type=int, default=854)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL (needs a local server)")
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as folder:
        os.environ.setdefault("LIANBAN_HOME", folder)
        run(f"sqlite:///{folder}/bench.db", "sqlite", args)
        if args.postgres:
            with postgres_database() as url:
                run(url, "postgres", args)


if __name__ == "__main__":
    main()
