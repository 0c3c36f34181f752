"""Every benchmark, on the embedded default (SQLite) and on PostgreSQL, in one table.

    python -m bench.run_all            # capped sizes: about 25 minutes on 2 cores (printed below)
    python -m bench.run_all --full     # the issue's sizes: about an hour and a half on 2 cores
    python -m bench.run_all --quick    # tiny sizes: does everything run end to end? (a minute or two)
    python -m bench.run_all --only intake,followup --no-postgres

Each benchmark runs as its own process, one after another (they would share the CPU otherwise);
its whole output goes to artifacts/bench/<date>/<name>.txt, and the figures that matter go into
one side-by-side table, printed with the machine, its load average before and after each
benchmark, and the date. The query plans of the deadline sweep and of the inbox follow the table.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from bench.common import machine, machine_line, postgres_database

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

# name: (quick, capped default, full) arguments
SIZES = {
    "intake": (["--cases", "60", "--clients", "1,10,100"],
               ["--cases", "1500", "--clients", "1,10,100"],
               ["--cases", "10000", "--clients", "1,10,100"]),
    "followup": (["--processes", "10", "--rate", "5", "--idle-seconds", "5", "--side-by-side", "10",
                  "--drain-seconds", "60", "--scheduler-loop-seconds", "2"],
                 ["--processes", "200", "--rate", "10", "--idle-seconds", "60", "--side-by-side", "200"],
                 ["--processes", "1000", "--rate", "10", "--idle-seconds", "60", "--side-by-side", "1000"]),
    "deadline_sweep": (["--orders", "1000", "--due", "20"],
                       ["--orders", "200000", "--due", "1000"],
                       ["--orders", "1000000", "--due", "1000"]),
    "circulation": (["--cases", "200", "--months", "1"], ["--cases", "5000"], ["--cases", "5000"]),
    "statistics": (["--warnings", "2000", "--cases", "200", "--stops", "100", "--freezes", "10"],
                   ["--warnings", "200000"],
                   ["--warnings", "1200000"]),
    "web_pages": (["--cases", "200", "--orders", "300", "--requests", "3"],
                  ["--cases", "10000", "--orders", "10000", "--requests", "50"],
                  ["--cases", "10000", "--orders", "10000", "--requests", "200"]),
    "pdf": (["--warm", "3", "--orders", "5", "--uncached", "0"],
            ["--warm", "20", "--orders", "100", "--uncached", "0"],
            ["--warm", "30", "--orders", "100", "--uncached", "0"]),
}
TARGETS = {"intake p99 at 100 clients": "≤ 50 ms", "intakes/s": "≥ 1,000 (PG)", "followup p99": "≤ 5 s",
           "idle CPU": "≤ 10 %", "ratio": "≤ 1", "sweep": "", "ranking": "≤ 2,000 ms", "dashboard": "≤ 1,000 ms",
           "pdf warm": "≤ 100 ms", "pdf batch": "≤ 10 s"}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Runner:
    def __init__(self, folder: Path, timeout: float, replay: list[Path] | None = None):
        self.folder, self.timeout, self.loads, self.replay = folder, timeout, {}, replay or []
        self.commands: dict[str, str] = {}
        folder.mkdir(parents=True, exist_ok=True)

    def run(self, name: str, argv: list[str], env: dict | None = None) -> str:
        """Run one benchmark process; return its stdout (stderr goes to the log only)."""
        if self.replay:  # --from: the table of earlier runs, nothing is run
            saved = next((f / f"{name}.txt" for f in self.replay if (f / f"{name}.txt").exists()), None)
            if saved is None:
                return ""
            text = saved.read_text()
            self.commands[name] = text.split("\n", 1)[0].removeprefix("$ python -m ")
            found = re.search(r"\n--- load (\S+) → (\S+), (\S+) s\n", text)
            self.loads[name] = found.groups() if found else ("?", "?", "?")
            return text.split("\n", 1)[1].split("\n--- stderr\n")[0]
        log(f"── {name}: {' '.join(argv)}")
        load_before, started = os.getloadavg()[0], time.monotonic()
        try:
            done = subprocess.run([PY, "-m", *argv], cwd=ROOT, capture_output=True, text=True,
                                  timeout=self.timeout, env={**os.environ, **(env or {})})
            out, err, code = done.stdout, done.stderr, done.returncode
        except subprocess.TimeoutExpired as exc:
            out, err, code = (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) else (
                exc.stdout or ""), f"timed out after {self.timeout:.0f} s", -1
        seconds = time.monotonic() - started
        self.loads[name] = (round(load_before, 2), round(os.getloadavg()[0], 2), round(seconds))
        (self.folder / f"{name}.txt").write_text(f"$ python -m {' '.join(argv)}\n{out}\n--- stderr\n{err}"
                                                 f"\n--- load {load_before:.2f} → {os.getloadavg()[0]:.2f}, "
                                                 f"{seconds:.0f} s\n")
        log(f"   {seconds:.0f} s, exit {code}" + ("" if code == 0 else f": {err.strip()[-600:]}"))
        return out


def _json(text: str) -> dict | None:
    start = text.find("{")
    try:
        return json.loads(text[start:]) if start >= 0 else None
    except json.JSONDecodeError:
        return None


def _find(pattern: str, text: str, group: int = 1) -> str | None:
    match = re.search(pattern, text)
    return match.group(group) if match else None


def intake_rows(result: dict | None) -> dict[str, str]:
    rows = {}
    if not result:
        return rows
    for r in result.get("runs", []):
        c = r["clients"]
        rows[f"intake {c:>3} clients: intakes/s"] = f"{r['intakes_per_s']:.0f}"
        rows[f"intake {c:>3} clients: p50 / p99 ms"] = f"{r['post_p50_ms']} / {r['post_p99_ms']}"
        if c == 100:
            rows["intake read-after-write (leader sees it)"] = (
                f"{r['read_after_write_first_try']}/{r['visible_checked']} first try")
    server = result.get("server")
    if server:
        rows["intake web CPU ms / intake; peak RSS MB"] = f"{server['cpu_ms_per_intake']}; {server['peak_rss_mb']}"
    rows["intake cases per client count"] = str(result.get("cases"))
    return rows


def followup_rows(r: dict | None) -> dict[str, str]:
    rows = {}
    if not r:
        return rows
    for kind, label in (("decision", "follow-up decision → 包案 p50 / p99 s"),
                        ("deadline", "follow-up deadline → tier up p50 / p99 s")):
        d = r.get(kind)
        if d:
            rows[label] = f"{d['p50_s']} / {d['p99_s']} ({d['recorded']}/{d['n']})"
    idle = r.get("idle_cpu_pct_of_one_core")
    if idle:
        rows["orchestrator idle CPU % of a core (60 s)"] = f"{idle['total']}"
    side = r.get("side_by_side")
    if side and side.get("ratio_lianban_to_prefect") is not None:
        alone = side["prefect_alone"]
        rows["lianban ÷ Prefect-alone time per escalation"] = (
            f"{side['ratio_lianban_to_prefect']} ({side['lianban_wall_s']} s vs {alone['wall_s']} s"
            f"{'' if alone['runs'] == side['escalations'] else ', ' + str(alone['runs']) + ' runs'})")
    rss = r.get("peak_rss_mb") or {}
    if rss:
        rows["peak RSS MB web / server / runner+runs / task worker"] = " / ".join(
            str(rss.get(k, "-")) for k in ("web", "server", "runner", "task-worker"))
    return rows


def sweep_rows(text: str) -> tuple[dict, dict, dict]:
    sqlite, pg, plans = {}, {}, {}
    for label, rows in (("SQLite", sqlite), ("PostgreSQL", pg)):
        p50 = _find(rf"\[{label}\] due query: ([\d,]+) due of ([\d,]+); p50 ([\d.]+) ms", text, 3)
        n = _find(rf"\[{label}\] due query: [\d,]+ due of ([\d,]+)", text)
        if p50:
            rows[f"deadline sweep: due query p50 ms (open orders)"] = f"{p50} ({n})"
        rate = _find(rf"\[{label}\] sweep: ([\d,]+) reminded in ([\d.]+) s \(([\d,]+) orders/s", text, 3)
        if rate:
            rows["deadline sweep: reminders / s (own txn + audit each)"] = rate
        plan = re.search(rf"\[{label}\] query plan:\n((?:    .*\n)+)", text)
        if plan:
            plans[label] = plan.group(1).rstrip()
    return sqlite, pg, plans


def circulation_rows(text: str) -> tuple[dict, dict]:
    out = ({}, {})
    for i, label in enumerate(("sqlite", "postgres")):
        worst = _find(rf"\[{label}\] rank one month \(compute, 6 months\): best (\d+) ms, worst (\d+) ms", text, 2)
        if worst:
            out[i]["monthly ranking (circulation) worst ms"] = worst
        end = _find(rf"\[{label}\] circulate a month end to end.*?median (\d+) ms, worst (\d+) ms", text, 1)
        if end:
            out[i]["circulate a month end to end (PDF incl.) median ms"] = end
    return out


def statistics_rows(text: str) -> tuple[dict, dict]:
    out = ({}, {})
    for i, label in enumerate(("sqlite", "postgres")):
        worst = _find(rf"\[{label}\] dashboard worst (\d+) ms", text)
        if worst:
            out[i]["dashboard worst ms (city-year)"] = worst
        rank = _find(rf"\[{label}\] ranking one month \(6 months\): worst (\d+) ms", text)
        if rank:
            out[i]["ranking one month worst ms (statistics bench)"] = rank
        filled = _find(rf"\[{label}\] filled one city-year in \d+ s: ([\d,]+) warnings", text)
        if filled:
            out[i]["dashboard warnings in the city-year"] = filled
    return out


PAGES = {"/inbox": "inbox page p50 / p99 ms", "/inbox/rows?": "inbox poll (204) p50 / p99 ms",
         "/leader/queue": "leader queue page p50 / p99 ms", "/orders?page=200": "office orders page 200 p50 / p99 ms"}


def web_rows(text: str) -> tuple[dict, str | None]:
    rows = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0].startswith("/"):
            for prefix, label in PAGES.items():
                if (parts[0] == prefix or (prefix.endswith("?") and parts[0].startswith(prefix))) and label not in rows:
                    rows[label] = f"{parts[1]} / {parts[2]}"
    orders = _find(r"with \d+ cases and (\d+) orders", text)
    if orders:
        rows["inbox page p50 / p99 ms"] = rows.get("inbox page p50 / p99 ms", "-") + f" ({orders} orders)"
    plan = re.search(r"inbox query plan.*\n((?:    .*\n)+)", text)
    return rows, plan.group(1).rstrip() if plan else None


def pdf_rows(r: dict | None) -> dict:
    if not r:
        return {}
    one, batch = r["one_page_order"], r["batch"]
    return {"PDF warm render median ms": f"{one['warm_median_ms']}",
            f"PDF batch of {batch['orders']} orders s (peak RSS MB)": f"{batch['seconds']} ({batch['peak_rss_mb']})"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test of the whole chain")
    size.add_argument("--full", action="store_true", help="the issue's sizes (long)")
    parser.add_argument("--only", default="", help=f"comma-separated subset of {','.join(SIZES)}")
    parser.add_argument("--no-postgres", action="store_true", help="the embedded default only")
    parser.add_argument("--out", type=Path, help="folder for the raw outputs (default artifacts/bench/<date>)")
    parser.add_argument("--timeout", type=float, default=5400, help="seconds one benchmark process may take")
    parser.add_argument("--from", dest="replay", type=Path, action="append", default=[],
                        help="print the table from the raw outputs of earlier runs (repeatable; runs nothing)")
    args = parser.parse_args()
    which = 0 if args.quick else 2 if args.full else 1
    mode = ("quick (tiny sizes: a smoke test, not figures)", "capped sizes (see the caps below)",
            "full (the issue's sizes)")[which]
    chosen = [n for n in SIZES if not args.only or n in args.only.split(",")]
    if "statistics" in chosen and not (ROOT / "bench" / "statistics.py").exists():
        chosen.remove("statistics")
    pg = not args.no_postgres
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    runner = Runner(args.out or ROOT / "artifacts" / "bench" / stamp, args.timeout, args.replay)
    before = machine()
    log(f"{machine_line(before)}\nmode: {mode}; raw outputs in {runner.folder}")
    columns: dict[str, dict[str, str]] = {"SQLite": {}, "PostgreSQL": {}}
    plans: dict[str, str] = {}

    def both(rows_sqlite: dict, rows_pg: dict) -> None:
        columns["SQLite"].update(rows_sqlite)
        columns["PostgreSQL"].update(rows_pg)

    for name in chosen:
        sizes = SIZES[name][which]
        if name == "intake":
            both(intake_rows(_json(runner.run("intake-sqlite", ["bench.intake", "--json", *sizes]))),
                 intake_rows(_json(runner.run("intake-postgres", ["bench.intake", "--json", "--postgres", *sizes])))
                 if pg else {})
        elif name == "followup":
            both(followup_rows(_json(runner.run("followup-sqlite", ["bench.followup", "--json", *sizes]))),
                 followup_rows(_json(runner.run("followup-postgres", ["bench.followup", "--json", "--postgres",
                                                                      *sizes]))) if pg else {})
        elif name == "deadline_sweep":
            s, p, found = sweep_rows(runner.run(name, ["bench.deadline_sweep", *sizes, *(["--postgres"] if pg else [])]))
            both(s, p)
            plans.update({f"deadline sweep, {k}": v for k, v in found.items()})
        elif name == "circulation":
            both(*circulation_rows(runner.run(name, ["bench.circulation", *sizes, *(["--postgres"] if pg else [])])))
        elif name == "statistics":
            both(*statistics_rows(runner.run(name, ["bench.statistics", *sizes, *(["--postgres"] if pg else [])])))
        elif name == "web_pages":
            rows, plan = web_rows(runner.run("web_pages-sqlite", ["bench.web_pages", *sizes]))
            columns["SQLite"].update(rows)
            if plan:
                plans["inbox, SQLite"] = plan
            if pg:
                with postgres_database() as url:
                    rows, plan = web_rows(runner.run("web_pages-postgres",
                                                     ["bench.web_pages", *sizes, "--database-url", url]))
                columns["PostgreSQL"].update(rows)
                if plan:
                    plans["inbox, PostgreSQL"] = plan
        elif name == "pdf":
            rows = pdf_rows(_json(runner.run(name, ["bench.pdf", "--json", *sizes])))
            columns["SQLite"].update(rows)  # no database involved: one figure for both columns
            columns["PostgreSQL"].update({k: "(same process, no database)" for k in rows})

    after = machine()
    print_table(before, after, mode, chosen, which, columns, plans, runner)
    (runner.folder / "table.json").write_text(json.dumps({"machine_before": before, "machine_after": after,
                                                          "mode": mode, "columns": columns, "plans": plans,
                                                          "loads": runner.loads}, ensure_ascii=False, indent=2))
    return 0 if any(columns["SQLite"].values()) else 1


def print_table(before: dict, after: dict, mode: str, chosen: list[str], which: int, columns: dict, plans: dict,
                runner: Runner) -> None:
    if runner.replay:
        written = max(datetime.fromtimestamp(f.stat().st_mtime, timezone.utc) for f in runner.replay)
        print(f"replayed from the raw outputs in {', '.join(map(str, runner.replay))} (last written "
              f"{written:%Y-%m-%d %H:%M} UTC); the machine now:")
    print(machine_line(before))
    print(f"load average at the end: {' '.join(str(x) for x in after['load_average'])}  (2 cores shared with other "
          f"work: figures are noisy)")
    if runner.replay:
        print("runs: " + "; ".join(runner.commands.values()))
    else:
        print(f"mode: {mode}")
    if which != 2 and not runner.replay:
        print("sizes: " + "; ".join(f"{n} {' '.join(SIZES[n][which])}" for n in chosen))
    metrics = list(dict.fromkeys([*columns["SQLite"], *columns["PostgreSQL"]]))
    width = max([len(m) for m in metrics] + [10])
    cell = max([len(v) for col in columns.values() for v in col.values()] + [10])
    print()
    print(f"{'':<{width}}  {'SQLite (embedded)':<{cell}}  {'PostgreSQL':<{cell}}")
    for metric in metrics:
        print(f"{metric:<{width}}  {columns['SQLite'].get(metric, '-'):<{cell}}  "
              f"{columns['PostgreSQL'].get(metric, '-'):<{cell}}")
    print("\ntargets: intake p99 ≤ 50 ms at 100 clients and ≥ 1,000 intakes/s on PostgreSQL; follow-up p99 ≤ 5 s; "
          "orchestrator idle ≤ 10 % of a core; lianban ≤ Prefect alone; ranking ≤ 2 s; dashboard ≤ 1 s; "
          "PDF warm ≤ 100 ms, 100 orders ≤ 10 s")
    print("load average (1 min) before → after each benchmark, and its seconds: " + "; ".join(
        f"{n} {b}→{a} ({s} s)" for n, (b, a, s) in runner.loads.items()))
    for title, plan in plans.items():
        print(f"\nquery plan: {title}\n{plan}")
    print(f"\nraw outputs: {runner.folder}")


if __name__ == "__main__":
    sys.exit(main())
