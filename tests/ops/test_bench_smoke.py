"""The benchmarks run end to end: `bench.run_all --quick` on the embedded default prints the table.

No figure is checked (timings on a shared machine prove nothing); the test fails when a benchmark
breaks, so `scripts/bench.sh` keeps working on a fresh clone. About 90 s on an idle 2-core machine;
the timeout below only stops a hang.
"""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_benchmarks_print_the_table(tmp_path):
    done = subprocess.run([sys.executable, "-m", "bench.run_all", "--quick", "--no-postgres", "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    table = done.stdout
    assert done.returncode == 0, done.stderr[-3000:]
    assert "machine:" in table and "load average" in table
    for row in ("intake 100 clients: p50 / p99 ms", "intake read-after-write (leader sees it)",
                "follow-up decision → 包案 p50 / p99 s", "follow-up deadline → tier up p50 / p99 s",
                "orchestrator idle CPU % of a core", "lianban ÷ Prefect-alone time per escalation",
                "peak RSS MB web / server / runner+runs / task worker", "deadline sweep: due query p50 ms",
                "monthly ranking (circulation) worst ms", "inbox page p50 / p99 ms", "PDF warm render median ms"):
        line = next((line for line in table.splitlines() if line.startswith(row)), None)
        assert line is not None, f"row {row!r} missing:\n{table}\n{done.stderr[-3000:]}"
        assert line[len(row):].split()[0] != "-", f"row {row!r} has no SQLite figure:\n{table}"
    assert "query plan: deadline sweep, SQLite" in table and "query plan: inbox, SQLite" in table
    assert "ix_orders_next_check_at" in table  # the sweep is one indexed query
