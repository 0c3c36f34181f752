"""Intake benchmark: register cases over HTTP and time until each approval is visible to its leader.

    python -m bench.intake [--cases N] [--clients 1,10,100] [--database-url URL | --postgres]
                           [--workers N] [--verify-every K] [--json]
    python -m bench.intake --url http://127.0.0.1:8001 --url http://127.0.0.1:8002 [...]

The web app runs as a separate uvicorn process (`--workers` of them); the load comes from asyncio
workers in this one (async httpx, one connection per client). With `--url` the load goes, round
robin, to web processes already running (their database must hold the demo city).

Visibility: the API commits the case, its tier decision and its approval in one transaction
before it answers, so the approval is readable by its leader the moment the POST returns; the
POST latency is the time to visibility. Every K-th escalated case (`--verify-every`) is then read
back as its leader (GET /api/v1/cases/{id}/approvals) to show it: 'read-after-write' counts the
reads that found the pending approval on the first try, and 'visible' is POST + that read.
Setup (migration, demo city, a few serial warm-up intakes) is done once; the client counts then
run in turn against the same server and database. Progress goes to stderr.
"""
import argparse
import asyncio
import json
import math
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url
from sqlmodel import Session

from bench.common import PeakRss, machine as bench_machine, machine_line, tree_cpu_seconds
from domain import demo
from domain.bootstrap import migrate
from domain.db import make_engine

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
AMOUNTS = ["280000.00", "600000.00", "2750000.00", "36000.00"]  # cid_head, deputy, chief, no leader
OFFICE = {"Authorization": "Bearer demo-office"}
VISIBLE_TIMEOUT_S = 10.0
WARMUP = 20  # serial intakes before measuring: first-request costs stay out of the figures


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile, rounded to 0.1 ms; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)], 1)


def machine() -> dict:
    model = platform.processor()
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name")) or model
    except (OSError, StopIteration):
        pass
    return {"cpus": os.cpu_count(), "cpu_model": model or "unknown", "python": platform.python_version(),
            "platform": platform.platform()}


def prepare_database(url: str) -> str:
    """Migrate, load the demo city without cases; return what the database is."""
    migrate(url)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            demo.load(session=session, with_cases=False)
            session.commit()
        with engine.connect() as conn:
            version = ".".join(map(str, conn.dialect.server_version_info or ()))
    finally:
        engine.dispose()
    kind = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}.get(engine.dialect.name, engine.dialect.name)
    return f"{kind} {version}"


def start_server(url: str, home: Path, workers: int = 1) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:  # a free port
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "LIANBAN_DATABASE_URL": url, "LIANBAN_HOME": str(home), "LIANBAN_NUDGE_ENABLED": "false",
           "LIANBAN_DEMO": "true"}
    from server.serving import uvicorn_arguments

    with (home / "server.log").open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "uvicorn", "server.main:app", "--host", "127.0.0.1",
                                    "--port", str(port), "--log-level", "warning", "--workers", str(workers),
                                    *uvicorn_arguments()],
                                   cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.1)
    stop_server(process)
    raise RuntimeError(f"server did not answer /healthz:\n{(home / 'server.log').read_text()[-3000:]}")


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def intake(client: httpx.AsyncClient, base: str, number: str, amount: str, run: dict, verify: bool) -> None:
    """One case: POST it; if escalated and `verify`, read its approvals as the leader until one is pending."""
    body = {"case_number": number, "amount_cny": amount, "fraud_type": "冒充领导", "victim_name": "张三",
            "victim_phone": "13800001234", "area": "jiangling.haoxue", "reported_at": "2026-06-09T10:15:00+08:00"}
    start = time.perf_counter()
    response = await client.post(f"{base}/api/v1/cases", json=body, headers=OFFICE)
    posted = time.perf_counter()
    if not response.is_success:
        run["non_2xx"] += 1
        run["errors"][f"POST /api/v1/cases {response.status_code}: {response.text[:160]}"] += 1
        return
    run["post_ms"].append((posted - start) * 1000)
    case, approval = response.json(), response.json().get("approval")
    if approval is None:  # below every tier: no leader to see it
        return
    run["escalated"] += 1
    if not verify:
        return
    leader = {"Authorization": f"Bearer demo-{approval['leader_tier']}"}
    first = True
    while True:
        got = await client.get(f"{base}/api/v1/cases/{case['id']}/approvals", headers=leader)
        if not got.is_success:
            run["non_2xx"] += 1
            run["errors"][f"GET /api/v1/cases/{{id}}/approvals {got.status_code}: {got.text[:160]}"] += 1
            return
        if any(a["id"] == approval["id"] and a["status"] == "pending" for a in got.json()):
            run["visible_ms"].append((time.perf_counter() - start) * 1000)
            run["read_after_write_first_try"] += first
            return
        first = False
        run["retries"] += 1
        if time.perf_counter() - posted > VISIBLE_TIMEOUT_S:
            run["errors"][f"approval not visible to its leader after {VISIBLE_TIMEOUT_S:.0f} s"] += 1
            return
        await asyncio.sleep(0.01)


async def run_load(bases: list[str], prefix: str, cases: int, clients: int, max_errors: int,
                   verify_every: int = 10) -> dict:
    run = {"clients": clients, "cases": cases, "escalated": 0, "retries": 0, "non_2xx": 0,
           "read_after_write_first_try": 0, "errors": Counter(), "post_ms": [], "visible_ms": []}
    numbers = iter(range(cases))  # shared by the workers: each takes the next case

    async def worker(client: httpx.AsyncClient) -> None:
        for i in numbers:
            if sum(run["errors"].values()) >= max_errors:
                return  # the run is aborted: the figures would only measure timeouts
            try:
                await intake(client, bases[i % len(bases)], f"{prefix}-{i:06d}", AMOUNTS[i % len(AMOUNTS)], run,
                             verify=verify_every > 0 and i % verify_every == 0)
            except httpx.HTTPError as exc:
                run["errors"][f"{type(exc).__name__} {exc}".strip()] += 1

    # One client with one connection per simulated client: a single httpx pool of 100 connections
    # costs the generator ~9 ms of CPU per request (its pool is scanned on every request), 1 ms this way.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    pool = [httpx.AsyncClient(limits=limits, timeout=120) for _ in range(clients)]
    try:
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for client in pool))
        run["wall_s"] = time.perf_counter() - start
    finally:
        for client in pool:
            await client.aclose()
    return run


def summarize(run: dict) -> dict:
    post, visible = run["post_ms"], run["visible_ms"]
    return {"clients": run["clients"], "cases": run["cases"], "completed": len(post),
            "escalated": run["escalated"], "wall_s": round(run["wall_s"], 3),
            "intakes_per_s": round(len(post) / run["wall_s"], 1),
            "post_p50_ms": percentile(post, 50), "post_p99_ms": percentile(post, 99),
            "post_max_ms": percentile(post, 100),
            "visible_checked": len(visible), "read_after_write_first_try": run["read_after_write_first_try"],
            "visible_p50_ms": percentile(visible, 50), "visible_p99_ms": percentile(visible, 99),
            "visibility_retries": run["retries"], "non_2xx": run["non_2xx"],
            "errors": dict(run["errors"].most_common()), "load_average_1m": round(os.getloadavg()[0], 2)}


def print_report(header: dict, results: list[dict]) -> None:
    print(machine_line(header["machine"]))
    print(f"database: {header['database']}   target: {header['target']}   cases per run: {header['cases']}   "
          f"warm-up: {WARMUP} serial intakes")
    print("latency : ms. POST = request until the committed answer (approval readable by its leader from then on);"
          "\n          visible = POST + the leader's first read of it, every K-th escalated case; "
          "RAW = reads that saw it on the first try\n")
    columns = ["clients", "completed", "wall s", "intakes/s", "POST p50", "POST p99", "POST max", "vis p50",
               "vis p99", "RAW", "non-2xx", "errors", "load 1m"]
    print("  ".join(f"{c:>9}" for c in columns))
    for r in results:
        cells = [r["clients"], r["completed"], f"{r['wall_s']:.2f}", f"{r['intakes_per_s']:.1f}"]
        cells += ["-" if r[k] is None else f"{r[k]:.1f}" for k in
                  ("post_p50_ms", "post_p99_ms", "post_max_ms", "visible_p50_ms", "visible_p99_ms")]
        cells += [f"{r['read_after_write_first_try']}/{r['visible_checked']}", r["non_2xx"], sum(r["errors"].values()),
                  r["load_average_1m"]]
        print("  ".join(f"{c:>9}" for c in cells))
    for r in results:
        for error, count in r["errors"].items():
            print(f"  {r['clients']} clients: {count} × {error}")
    if header.get("server"):
        srv = header["server"]
        print(f"web server ({srv['workers']} worker(s)): peak RSS {srv['peak_rss_mb']} MB, "
              f"CPU {srv['cpu_ms_per_intake']} ms per intake (measured runs, reads included)")
    if header.get("server_tracebacks"):
        print(f"  the server logged {header['server_tracebacks']} tracebacks")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000, help="cases registered per client count")
    parser.add_argument("--clients", default="1,10,100", help="concurrent clients, comma-separated runs")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--database-url", help="an existing database (default: a fresh SQLite file)")
    where.add_argument("--postgres", action="store_true", help="a fresh database on the local PostgreSQL")
    where.add_argument("--url", action="append", default=[],
                       help="a running web process to load (repeat for several: round robin); its database "
                            "must hold the demo city")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("LIANBAN_WEB_WORKERS", "1") or 1),
                        help="uvicorn worker processes of the server this bench starts (default: "
                             "LIANBAN_WEB_WORKERS, else 1)")
    parser.add_argument("--verify-every", type=int, default=10,
                        help="read back every K-th escalated case as its leader (0: never)")
    parser.add_argument("--max-errors", type=int, default=100, help="abort a run after this many failed requests")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    client_counts = [int(part) for part in args.clients.split(",") if part.strip()]

    home = Path(tempfile.mkdtemp(prefix="lianban-bench-"))
    pg_name, server = None, None
    try:
        header = {"benchmark": "intake", "machine": bench_machine(), "cases": args.cases}
        if args.url:
            bases = [u.rstrip("/") for u in args.url]
            header.update(database="(the deployment's)", target=" ".join(bases))
        else:
            url = args.database_url or f"sqlite:///{home / 'bench.db'}"
            if args.postgres:
                import psycopg

                pg_name = f"lianban_bench_{uuid.uuid4().hex[:10]}"
                with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                    conn.execute(f'CREATE DATABASE "{pg_name}"')
                url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{pg_name}"
            log(f"database {make_url(url).render_as_string(hide_password=True)}: migrating, loading the demo city")
            header["database"] = prepare_database(url)
            server, base = start_server(url, home, args.workers)
            bases = [base]
            header["target"] = f"uvicorn, {args.workers} worker(s), started by the bench"
        tag = uuid.uuid4().hex[:6]  # case numbers stay unique in a reused database
        asyncio.run(run_load(bases, f"BENCH-{tag}-warm", WARMUP * len(bases), len(bases), args.max_errors, 1))
        results, cpu0 = [], tree_cpu_seconds(server.pid) if server else 0.0
        with PeakRss({"web": server.pid} if server else {}) as rss:
            for clients in client_counts:
                log(f"{args.cases} cases with {clients} clients …")
                run = asyncio.run(run_load(bases, f"BENCH-{tag}-c{clients}", args.cases, clients, args.max_errors,
                                           args.verify_every))
                results.append(summarize(run))
                log(f"  {results[-1]['intakes_per_s']} intakes/s, POST p99 {results[-1]['post_p99_ms']} ms, "
                    f"{sum(run['errors'].values())} errors")
        if server:
            done = sum(r["completed"] for r in results) or 1
            header["server"] = {"workers": args.workers, "peak_rss_mb": rss.rounded()["web"],
                                "cpu_ms_per_intake": round((tree_cpu_seconds(server.pid) - cpu0) / done * 1000, 1)}
            header["server_tracebacks"] = (home / "server.log").read_text(errors="replace").count("Traceback")
        if args.json:
            print(json.dumps({**header, "runs": results}, ensure_ascii=False, indent=2))
        else:
            print_report(header, results)
        return 1 if any(r["errors"] for r in results) else 0
    finally:
        if server is not None:
            stop_server(server)
        if pg_name is not None:
            import psycopg

            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
