"""Follow-up latency: from a leader's decision, or from a passed deadline, to the flow's follow-up
step being recorded, with the real orchestrator running; its idle CPU; lianban side by side with
Prefect alone; peak memory of every process.

    python -m bench.followup [--processes 1000] [--rate 10] [--postgres] [--idle-seconds 60] [--json]
    python -m bench.followup --url http://127.0.0.1:8001 --url http://127.0.0.1:8002 \\
        --prefect-url http://127.0.0.1:4200/api --database-url postgresql+psycopg://… [--pids 11,12,13]

Without --url the bench starts what `lianban up` starts, each its own process: a Prefect server
(on SQLite; with --postgres on its own PostgreSQL database), the runner (`lianban worker`: the watch
and the other deployments), the task worker (`lianban task-worker`: the nudges) and the web app
(uvicorn), on a fresh database (SQLite, or PostgreSQL with --postgres) with the demo city. With
--url it drives a deployment that is already running (its database must hold the demo city; give
--pids of its orchestrator processes to measure their idle CPU).

Phases, each printed:
1. warm-up: one case registered and decided until its follow-up is recorded (the watch is live);
2. idle: CPU of Prefect server + runner + task worker (their child processes included) over
   --idle-seconds with nothing to do, as % of one core;
3. decision: N cases registered, then their leaders approve them over the API at --rate a second;
   latency = approvals.followed_up_at - approvals.decided_at (both stamped by the database's
   writers on this machine's clock): the 包案 recorded by the task worker (nudge) or the watch;
4. deadline: N pending approvals whose deadlines are set to pass at --rate a second; latency =
   the upper tier's approval requested_at - the passed due_at: the escalation recorded by the watch;
5. side by side: N escalations through lianban (register + approve over the API, 10 clients, until
   every follow-up is recorded) against N runs of a flow that does nothing, on the same Prefect
   server (10 at a time, async, from a separate process); the ratio of the wall times.
Peak RSS of each process tree is sampled throughout (web, server, runner, task worker).
"""
import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from bench.common import (PeakRss, machine, machine_line, percentile, postgres_database, tree_cpu_seconds,
                          wait_http)

ROOT = Path(__file__).resolve().parent.parent
OFFICE = {"Authorization": "Bearer demo-office"}
LEADERS = {"cid_head": "280000.00", "deputy": "600000.00", "chief": "2750000.00"}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- the topology this bench starts

class Topology:
    """Prefect server, runner, task worker and web app, started like `lianban up` starts them."""

    def __init__(self, home: Path, database_url: str, prefect_database_url: str | None,
                 scheduler_loop_seconds: float | None = None):
        self.home, self.procs = home, {}
        prefect_port, self.web_port = free_port(), free_port()
        self.prefect_url = f"http://127.0.0.1:{prefect_port}/api"
        self.web_url = f"http://127.0.0.1:{self.web_port}"
        self.env = {**os.environ, "LIANBAN_HOME": str(home), "LIANBAN_DATABASE_URL": database_url, "LIANBAN_DEMO": "true",
                    "LIANBAN_PREFECT_PORT": str(prefect_port), "LIANBAN_NUDGE_ENABLED": "true",
                    "PREFECT_HOME": str(home / "prefect"), "PREFECT_API_URL": self.prefect_url,
                    "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_RUNNER_POLL_FREQUENCY": "2",
                    "PREFECT_LOGGING_LEVEL": "WARNING"}
        if prefect_database_url:
            self.env["PREFECT_API_DATABASE_CONNECTION_URL"] = prefect_database_url
        if scheduler_loop_seconds:  # quick mode: the first scheduled watch run comes sooner
            self.env["PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS"] = str(scheduler_loop_seconds)
        (home / "prefect").mkdir(parents=True, exist_ok=True)
        self.prefect_port = prefect_port

    def _start(self, name: str, argv: list[str]) -> subprocess.Popen:
        with (self.home / f"{name}.log").open("ab") as out:
            self.procs[name] = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                                start_new_session=True)
        return self.procs[name]

    def start(self) -> None:
        py = sys.executable
        server = self._start("server", [py, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                                        "--port", str(self.prefect_port)])
        if not wait_http(f"{self.prefect_url}/health", 120, server):
            raise RuntimeError(f"Prefect server did not start:\n{self.tail('server')}")
        self._start("runner", [py, "-m", "cli.main", "worker"])
        self._start("task-worker", [py, "-m", "cli.main", "task-worker"])
        from server.serving import uvicorn_arguments

        web = self._start("web", [py, "-m", "uvicorn", "server.main:app", "--host", "127.0.0.1",
                                  "--port", str(self.web_port), "--log-level", "warning", *uvicorn_arguments()])
        if not wait_http(f"{self.web_url}/healthz", 90, web):
            raise RuntimeError(f"web app did not start:\n{self.tail('web')}")

    def tail(self, name: str) -> str:
        path = self.home / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self) -> None:
        for name in ("web", "task-worker", "runner", "server"):
            process = self.procs.get(name)
            if process is None or process.poll() is not None:
                continue
            for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
                try:
                    os.killpg(process.pid, sig)
                    process.wait(wait)
                    break
                except (subprocess.TimeoutExpired, ProcessLookupError):
                    continue


# ---------------------------------------------------------------- the work

async def register(clients: list[httpx.AsyncClient], bases: list[str], prefix: str, count: int,
                   concurrency: int = 10) -> list[dict]:
    """Register `count` escalated cases; return their approvals (id, leader tier)."""
    out, numbers = [], iter(range(count))
    tiers = list(LEADERS)

    async def worker(client: httpx.AsyncClient) -> None:
        for i in numbers:
            body = {"case_number": f"{prefix}-{i:06d}", "amount_cny": LEADERS[tiers[i % 3]], "fraud_type": "冒充领导",
                    "victim_name": "张三", "victim_phone": "13800001234", "area": "jiangling.haoxue",
                    "reported_at": "2026-06-09T10:15:00+08:00"}
            r = await client.post(f"{bases[i % len(bases)]}/api/v1/cases", json=body, headers=OFFICE)
            r.raise_for_status()
            out.append(r.json()["approval"])

    await asyncio.gather(*(worker(clients[k % len(clients)]) for k in range(concurrency)))
    return out


async def decide(client: httpx.AsyncClient, base: str, approval: dict) -> None:
    r = await client.post(f"{base}/api/v1/approvals/{approval['id']}/decision", json={"decision": "approve"},
                          headers={"Authorization": f"Bearer demo-{approval['leader_tier']}"})
    r.raise_for_status()


async def decide_at_rate(bases: list[str], approvals: list[dict], rate: float) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        start, tasks = time.perf_counter(), []
        for i, approval in enumerate(approvals):
            await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(decide(client, bases[i % len(bases)], approval)))
        await asyncio.gather(*tasks)


def _engine(database_url: str):
    from domain.db import make_engine

    return make_engine(database_url)


def wait_followed_up(engine, ids: list[int], timeout: float) -> list[float]:
    """Wait until each approval's follow-up is recorded; return followed_up_at - decided_at (ms)."""
    from sqlalchemy import select

    from domain.db import read_only
    from domain.escalation.models import Approval

    deadline = time.monotonic() + timeout
    while True:
        with read_only(engine).connect() as conn:
            rows = conn.execute(select(Approval.decided_at, Approval.followed_up_at)
                                .where(Approval.id.in_(ids), Approval.followed_up_at.is_not(None))).all()
        if len(rows) == len(ids) or time.monotonic() > deadline:
            from domain.timeutil import as_utc

            return [(as_utc(f) - as_utc(d)).total_seconds() * 1000 for d, f in rows]
        time.sleep(0.5)


def set_deadlines(engine, ids: list[int], rate: float, lead_s: float = 3.0) -> None:
    """Make the approvals fall due one after another, `rate` a second, from `lead_s` from now."""
    from sqlalchemy import update

    from domain.escalation.models import Approval
    from domain.timeutil import utcnow

    from datetime import timedelta

    first = utcnow() + timedelta(seconds=lead_s)
    with engine.begin() as conn:
        for i, approval_id in enumerate(ids):
            conn.execute(update(Approval).where(Approval.id == approval_id)
                         .values(due_at=first + timedelta(seconds=i / rate)))


def wait_escalated(engine, ids: list[int], timeout: float) -> list[float]:
    """Latency from each approval's passed deadline to its escalation one tier up being recorded."""
    from sqlalchemy import select
    from sqlalchemy.orm import aliased

    from domain.db import read_only
    from domain.escalation.models import Approval
    from domain.timeutil import as_utc

    upper = aliased(Approval)
    deadline = time.monotonic() + timeout
    while True:
        with read_only(engine).connect() as conn:
            rows = conn.execute(select(Approval.due_at, upper.requested_at)
                                .join(upper, upper.escalated_from_id == Approval.id)
                                .where(Approval.id.in_(ids))).all()
        if len(rows) == len(ids) or time.monotonic() > deadline:
            return [(as_utc(r) - as_utc(d)).total_seconds() * 1000 for d, r in rows]
        time.sleep(0.5)


def summary(latencies: list[float], expected: int) -> dict:
    return {"n": expected, "recorded": len(latencies), "p50_s": _s(percentile(latencies, 50)),
            "p99_s": _s(percentile(latencies, 99)), "max_s": _s(percentile(latencies, 100))}


def _s(ms: float | None) -> float | None:
    return None if ms is None else round(ms / 1000, 2)


# ---------------------------------------------------------------- Prefect alone

def prefect_alone(env: dict, count: int, concurrency: int, budget_s: float) -> dict:
    """`count` runs of a flow that does nothing, in a separate process against the same server."""
    argv = [sys.executable, "-m", "bench.followup", "--role", "prefect-alone", "--processes", str(count),
            "--concurrency", str(concurrency), "--budget", str(budget_s)]
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=budget_s + 120)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"error": (done.stderr or done.stdout)[-1500:]}
    return json.loads(lines[-1])


def run_prefect_alone(count: int, concurrency: int, budget_s: float) -> None:
    from prefect import flow

    @flow(name="bench-plain-escalation", persist_result=False)
    async def plain_escalation(i: int) -> int:
        return i

    async def main() -> dict:
        semaphore, durations, errors = asyncio.Semaphore(concurrency), [], 0
        stop_at = time.monotonic() + budget_s

        async def one(i: int) -> None:
            nonlocal errors
            async with semaphore:
                if time.monotonic() > stop_at:
                    return
                t = time.perf_counter()
                try:
                    await plain_escalation(i)
                    durations.append((time.perf_counter() - t) * 1000)
                except Exception:  # noqa: BLE001 - counted and reported
                    errors += 1

        await plain_escalation(-1)  # warm-up: the client and the flow registered
        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(count)))
        wall = time.perf_counter() - start
        return {"runs": len(durations), "asked": count, "errors": errors, "wall_s": round(wall, 2),
                "per_run_ms_p50": percentile(durations, 50), "per_run_ms_p99": percentile(durations, 99),
                "runs_per_s": round(len(durations) / wall, 2) if wall else None}

    print(json.dumps(asyncio.run(main())), flush=True)


# ---------------------------------------------------------------- main

def run(args, home: Path, database_url: str, prefect_database_url: str | None) -> dict:
    from domain.bootstrap import migrate

    result = {"machine": machine(), "processes": args.processes, "rate_per_s": args.rate}
    topology = None
    engine = _engine(database_url)
    try:
        if args.url:
            bases, prefect_env = [u.rstrip("/") for u in args.url], {**os.environ}
            if args.prefect_url:
                prefect_env["PREFECT_API_URL"] = args.prefect_url
            pids = {f"orchestrator {i}": int(p) for i, p in enumerate(args.pids.split(",")) if p.strip()} \
                if args.pids else {}
            result["target"] = " ".join(bases)
        else:
            migrate(database_url)
            from sqlmodel import Session

            from domain import demo

            with Session(engine) as session:
                demo.load(session=session, with_cases=False)
                session.commit()
            topology = Topology(home, database_url, prefect_database_url, args.scheduler_loop_seconds)
            log("starting Prefect server, runner, task worker, web …")
            topology.start()
            bases, prefect_env = [topology.web_url], topology.env
            pids = {name: topology.procs[name].pid for name in ("server", "runner", "task-worker")}
            result["target"] = "started by the bench (as lianban up)"
        result["database"] = engine.dialect.name
        result["prefect_database"] = ("PostgreSQL" if prefect_database_url else "SQLite") if topology else "(deployment's)"
        rss_pids = {**pids, **({"web": topology.procs["web"].pid} if topology else {})}
        tag = uuid.uuid4().hex[:6]
        with PeakRss(rss_pids) as rss:
            # 1. warm-up: a decision followed up (the task worker is live) and a deadline escalated
            # (only the watch does that: the scheduled watch flow is running)
            log("warm-up: one decision and one passed deadline until both are recorded …")
            started = time.monotonic()
            warm = asyncio.run(_with_clients(1, lambda c: register(c, bases, f"FU-{tag}-warm", 2, 1)))
            asyncio.run(decide_at_rate(bases, warm[:1], 1))
            set_deadlines(engine, [warm[1]["id"]], 1, lead_s=0)
            if len(wait_followed_up(engine, [warm[0]["id"]], 240)) != 1 or \
                    len(wait_escalated(engine, [warm[1]["id"]], 240)) != 1:
                raise RuntimeError("the warm-up's follow-ups were not recorded within 240 s"
                                   + (f"\n{topology.tail('runner')}\n{topology.tail('task-worker')}" if topology else ""))
            result["warm_up_s"] = round(time.monotonic() - started, 1)
            time.sleep(5)  # let the warm-up's task runs end

            # 2. idle CPU of the orchestrator
            if pids and args.idle_seconds > 0:
                log(f"idle: {args.idle_seconds} s …")
                cpu0, t0 = {n: tree_cpu_seconds(p) for n, p in pids.items()}, time.monotonic()
                time.sleep(args.idle_seconds)
                span = time.monotonic() - t0
                per = {n: round((tree_cpu_seconds(p) - cpu0[n]) / span * 100, 1) for n, p in pids.items()}
                result["idle_cpu_pct_of_one_core"] = {"total": round(sum(per.values()), 1), **per,
                                                      "seconds": round(span), "load_average_1m": round(os.getloadavg()[0], 2)}

            # 3. decisions
            n = args.processes
            log(f"decision: registering {n} cases …")
            approvals = asyncio.run(_with_clients(10, lambda c: register(c, bases, f"FU-{tag}-d", n)))
            log(f"decision: {n} approvals at {args.rate}/s …")
            t0 = time.monotonic()
            asyncio.run(decide_at_rate(bases, approvals, args.rate))
            latencies = wait_followed_up(engine, [a["id"] for a in approvals], args.drain_seconds)
            result["decision"] = {**summary(latencies, n), "seconds": round(time.monotonic() - t0, 1),
                                  "load_average_1m": round(os.getloadavg()[0], 2)}
            log(f"  {result['decision']}")

            # 4. deadlines
            log(f"deadline: registering {n} cases, deadlines passing at {args.rate}/s …")
            pending = asyncio.run(_with_clients(10, lambda c: register(c, bases, f"FU-{tag}-t", n)))
            pending = [a for a in pending if a["leader_tier"] != "chief"]  # the chief has nobody above
            t0 = time.monotonic()
            set_deadlines(engine, [a["id"] for a in pending], args.rate)
            time.sleep(3 + len(pending) / args.rate)
            latencies = wait_escalated(engine, [a["id"] for a in pending], args.drain_seconds)
            result["deadline"] = {**summary(latencies, len(pending)), "seconds": round(time.monotonic() - t0, 1),
                                  "load_average_1m": round(os.getloadavg()[0], 2)}
            log(f"  {result['deadline']}")

            # 5. side by side with Prefect alone
            if args.side_by_side:
                k = args.side_by_side
                log(f"side by side: {k} escalations through lianban …")
                t0 = time.monotonic()
                burst = asyncio.run(_with_clients(10, lambda c: register(c, bases, f"FU-{tag}-s", k)))
                asyncio.run(_decide_all(bases, burst, 10))
                done = wait_followed_up(engine, [a["id"] for a in burst], args.drain_seconds)
                lianban_s = time.monotonic() - t0
                log(f"side by side: {k} runs of a flow that does nothing …")
                alone = prefect_alone(prefect_env, k, 10, args.prefect_alone_budget)
                result["side_by_side"] = {"escalations": k, "lianban_recorded": len(done),
                                          "lianban_wall_s": round(lianban_s, 1), "prefect_alone": alone}
                if alone.get("runs"):
                    per_lianban = lianban_s / max(len(done), 1)
                    per_alone = alone["wall_s"] / alone["runs"]
                    result["side_by_side"]["ratio_lianban_to_prefect"] = round(per_lianban / per_alone, 3)
        result["peak_rss_mb"] = rss.rounded()
    finally:
        if topology:
            result["tracebacks"] = {n: topology.tail(n).count("Traceback") for n in topology.procs}
            topology.stop()
        engine.dispose()
    return result


async def _with_clients(count: int, work):
    clients = [httpx.AsyncClient(timeout=60) for _ in range(count)]
    try:
        return await work(clients)
    finally:
        for c in clients:
            await c.aclose()


async def _decide_all(bases: list[str], approvals: list[dict], concurrency: int) -> None:
    queue = iter(enumerate(approvals))

    async def worker() -> None:
        async with httpx.AsyncClient(timeout=60) as client:
            for i, approval in queue:
                await decide(client, bases[i % len(bases)], approval)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


def print_report(r: dict) -> None:
    print(machine_line(r["machine"]))
    print(f"database: {r['database']}; Prefect server on {r['prefect_database']}; target: {r['target']}; "
          f"{r['processes']} processes per kind at {r['rate_per_s']}/s; warm-up {r.get('warm_up_s')} s")
    for kind, label in (("decision", "decision → 包案 recorded"), ("deadline", "deadline passed → one tier up")):
        d = r.get(kind)
        if d:
            print(f"followup {kind}: {label}: p50 {d['p50_s']} s, p99 {d['p99_s']} s, max {d['max_s']} s; "
                  f"{d['recorded']}/{d['n']} recorded (load {d['load_average_1m']})")
    idle = r.get("idle_cpu_pct_of_one_core")
    if idle:
        parts = ", ".join(f"{k} {v}%" for k, v in idle.items() if k not in ("total", "seconds", "load_average_1m"))
        print(f"followup idle: orchestrator CPU {idle['total']}% of one core over {idle['seconds']} s ({parts}; "
              f"load {idle['load_average_1m']})")
    side = r.get("side_by_side")
    if side:
        alone = side["prefect_alone"]
        print(f"followup side-by-side: {side['escalations']} escalations through lianban (register + approve + "
              f"follow-up, 10 clients) {side['lianban_wall_s']} s ({side['lianban_recorded']} recorded); "
              + (f"Prefect alone {alone['runs']} empty flow runs (10 at a time) {alone['wall_s']} s, "
                 f"per run p50 {alone['per_run_ms_p50']} ms; ratio lianban/Prefect per escalation "
                 f"{side.get('ratio_lianban_to_prefect')}" if alone.get("runs") else f"Prefect alone failed: {alone}"))
    if r.get("peak_rss_mb"):
        print("followup peak RSS (MB): " + ", ".join(f"{k} {v}" for k, v in r["peak_rss_mb"].items()))
    if r.get("tracebacks") and any(r["tracebacks"].values()):
        print(f"  tracebacks logged: {r['tracebacks']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--role", choices=["prefect-alone"], help=argparse.SUPPRESS)
    parser.add_argument("--processes", type=int, default=1000, help="decisions and deadlines measured (each)")
    parser.add_argument("--rate", type=float, default=10.0, help="decisions (deadlines) a second")
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--side-by-side", type=int, default=1000, help="escalations compared with Prefect alone (0: skip)")
    parser.add_argument("--prefect-alone-budget", type=float, default=600.0,
                        help="stop the Prefect-alone runs after this many seconds (the ratio uses the ones done)")
    parser.add_argument("--drain-seconds", type=float, default=300.0, help="wait this long for the last follow-ups")
    parser.add_argument("--scheduler-loop-seconds", type=float,
                        help="the Prefect scheduler's loop (default Prefect's 60 s; the quick mode uses 2)")
    parser.add_argument("--concurrency", type=int, default=10, help=argparse.SUPPRESS)
    parser.add_argument("--budget", type=float, default=600.0, help=argparse.SUPPRESS)
    parser.add_argument("--postgres", action="store_true",
                        help="our data and the Prefect server's on fresh PostgreSQL databases")
    parser.add_argument("--url", action="append", default=[], help="a running web process (repeat: round robin)")
    parser.add_argument("--prefect-url", help="the running deployment's Prefect API (for the Prefect-alone runs)")
    parser.add_argument("--database-url", help="the running deployment's database (to read the recorded steps)")
    parser.add_argument("--pids", help="comma-separated pids of the deployment's orchestrator processes (idle CPU)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.role == "prefect-alone":
        run_prefect_alone(args.processes, args.concurrency, args.budget)
        return 0
    if args.url and not args.database_url:
        parser.error("--url needs --database-url (the bench reads the recorded follow-ups from the database)")

    home = Path(tempfile.mkdtemp(prefix="lianban-followup-"))
    try:
        if args.url:
            result = run(args, home, args.database_url, None)
        elif args.postgres:
            with postgres_database() as ours, postgres_database("prefect_bench") as theirs:
                result = run(args, home, ours, theirs.replace("postgresql+psycopg://", "postgresql+asyncpg://"))
        else:
            result = run(args, home, f"sqlite:///{home / 'lianban.db'}", None)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print_report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
