"""What every benchmark shares: the machine it ran on, percentiles, throw-away PostgreSQL
databases, and a sampler of the CPU and peak memory of process trees."""
import contextlib
import math
import os
import platform
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import psutil

PG_ADMIN_URL = os.environ.get("LIANBAN_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def machine() -> dict:
    """CPU model, cores, RAM, load average and the date: printed beside every figure."""
    model = platform.processor() or "unknown"
    with contextlib.suppress(OSError, StopIteration):
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    return {"cpu_model": model, "cores": os.cpu_count(), "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "load_average": [round(x, 2) for x in os.getloadavg()], "python": platform.python_version(),
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def machine_line(m: dict | None = None) -> str:
    m = m or machine()
    load = " ".join(f"{x:.2f}" for x in m["load_average"])
    return (f"machine: {m['cores']} cores, {m['cpu_model']}, {m['ram_gb']} GB RAM, Python {m['python']}; "
            f"load average {load}; {m['date']}")


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile, rounded to 0.1; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)], 1)


@contextlib.contextmanager
def postgres_database(prefix: str = "lianban_bench") -> Iterator[str]:
    """A fresh database on the local PostgreSQL for the block; yields its SQLAlchemy URL."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root] + root.children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and its descendants, the reaped ones included (they are added to
    their parent's children times when it waits for them)."""
    total = 0.0
    for process in _tree(pid):
        with contextlib.suppress(psutil.Error):
            t = process.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
    return total


def tree_rss_mb(pid: int) -> float:
    total = 0
    for process in _tree(pid):
        with contextlib.suppress(psutil.Error):
            total += process.memory_info().rss
    return total / 2**20


class PeakRss:
    """Samples the RSS of named process trees every `interval` seconds in a thread; keeps the peak."""

    def __init__(self, pids: dict[str, int], interval: float = 0.5):
        self.pids, self.interval = pids, interval
        self.peak_mb = {name: 0.0 for name in pids}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="rss-sampler")

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, pid in self.pids.items():
                self.peak_mb[name] = max(self.peak_mb[name], tree_rss_mb(pid))
            self._stop.wait(self.interval)

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)

    def rounded(self) -> dict[str, float]:
        return {name: round(mb, 1) for name, mb in self.peak_mb.items()}


def wait_http(url: str, timeout: float = 90, process=None) -> bool:
    """Poll `url` until it answers 200 (or the process dies / time runs out)."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (process is None or process.poll() is None):
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return True
        time.sleep(0.2)
    return False
