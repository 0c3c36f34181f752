"""Benchmark: how fast does a "nudge" from the web process start a follow-up step?

(A) background task: `task.delay()` -> task worker process (`prefect.task_worker.serve`)
(B) event: `emit_event()` -> DeploymentEventTrigger automation -> flow run of a deployment
    served by `prefect.serve` in a runner process

Usage:   .venv/bin/python -m bench.nudge [--k 30] [--interval 1.0] [--no-outage]
Roles started internally: --role task-worker | --role runner
Everything (Prefect server, SQLite results, logs) lives in a temp dir removed at exit.
"""
import argparse, math, os, shutil, signal, socket, sqlite3, statistics, subprocess, sys, tempfile, time
import urllib.request

# The controller picks the Prefect home and port *before* prefect is imported, because
# Prefect reads its settings from the environment at import time. Children inherit them.
if __name__ == "__main__" and "NUDGE_BENCH_DIR" not in os.environ:
    _dir = tempfile.mkdtemp(prefix="nudge-bench-")
    with socket.socket() as _s:
        _s.bind(("127.0.0.1", 0))
        _port = _s.getsockname()[1]
    os.environ.update(NUDGE_BENCH_DIR=_dir, NUDGE_BENCH_PORT=str(_port), PREFECT_HOME=_dir,
                      PREFECT_API_URL=f"http://127.0.0.1:{_port}/api",
                      PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_UI_ENABLED="false")

from prefect import flow, task  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EVENT = "lianban.bench.nudge"
CLK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- consumer side
def record_start(mech: str, nudge: int, sent: float, created: float = None) -> None:
    started = time.time()  # take the timestamp first, before any I/O
    con = sqlite3.connect(os.path.join(os.environ["NUDGE_BENCH_DIR"], "starts.db"), timeout=30)
    with con:
        con.execute("CREATE TABLE IF NOT EXISTS starts (mech TEXT, nudge INT, sent REAL, "
                    "started REAL, created REAL, PRIMARY KEY (mech, nudge))")
        con.execute("INSERT OR IGNORE INTO starts VALUES (?, ?, ?, ?, ?)",
                    (mech, nudge, sent, started, created))
    con.close()


@task(name="nudge-task")
def nudge_task(nudge: int, sent: float) -> None:
    record_start("A", nudge, sent)


@flow(name="nudge-flow")
def nudge_flow(nudge: int, sent: float) -> None:
    from prefect.context import FlowRunContext
    started = time.time()
    created = FlowRunContext.get().flow_run.created.timestamp()  # when the automation made the run
    record_start("B", nudge, sent, created)
    assert started  # (record_start takes its own timestamp; this one only documents ordering)


def run_role(role: str) -> None:
    if role == "task-worker":
        from prefect.task_worker import serve
        serve(nudge_task)
    elif role == "runner":
        from prefect import serve
        from prefect.events import DeploymentEventTrigger
        trigger = DeploymentEventTrigger(
            expect={EVENT}, match={"prefect.resource.id": f"{EVENT}.*"},
            parameters={"nudge": "{{ event.payload.nudge }}", "sent": "{{ event.payload.sent }}"})
        serve(nudge_flow.to_deployment(name="nudge", triggers=[trigger]))


# ---------------------------------------------------------------- process helpers
def start(args: list, log: str, **env) -> subprocess.Popen:
    out = open(os.path.join(os.environ["NUDGE_BENCH_DIR"], log), "ab")
    return subprocess.Popen(args, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                            env={**os.environ, **env}, start_new_session=True)


def proc_table() -> tuple:
    """pid -> CPU ticks (self + reaped children), ppid -> [child pids], read from /proc."""
    ticks, kids = {}, {}
    for p in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks[int(p)] = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
        kids.setdefault(int(fields[1]), []).append(int(p))
    return ticks, kids


def tree(pid: int, kids: dict) -> list:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += kids.get(p, [])
    return out


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and all its descendants (live ones + reaped ones)."""
    ticks, kids = proc_table()
    return sum(ticks.get(p, 0) for p in tree(pid, kids)) / CLK


def stop(proc: subprocess.Popen) -> None:
    """Terminate a process we started plus its descendants (runner flow runs use new sessions)."""
    if proc.poll() is not None:
        return
    pids = tree(proc.pid, proc_table()[1])
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for p in pids:
            try:
                os.kill(p, sig)
            except ProcessLookupError:
                pass
        try:
            proc.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


def start_server() -> subprocess.Popen:
    port = os.environ["NUDGE_BENCH_PORT"]
    srv = start([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                 "--port", port], "server.log")
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as r:
                if r.status == 200:
                    return srv
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("Prefect server did not become healthy (see server.log)")


# ---------------------------------------------------------------- sender side
def send(mech: str, nudge: int) -> float:
    """Send one nudge; return how long the call blocked the caller (seconds)."""
    sent = time.time()
    t0 = time.perf_counter()
    if mech == "A":
        nudge_task.delay(nudge, sent)
    else:
        from prefect.events import emit_event
        emit_event(event=EVENT, resource={"prefect.resource.id": f"{EVENT}.{nudge}"},
                   payload={"nudge": nudge, "sent": sent})
    return time.perf_counter() - t0


def arrivals(mech: str) -> dict:
    """nudge -> latency (consumer start - send time)."""
    path = os.path.join(os.environ["NUDGE_BENCH_DIR"], "starts.db")
    if not os.path.exists(path):
        return {}
    con = sqlite3.connect(path, timeout=30)
    try:
        rows = con.execute("SELECT nudge, started - sent FROM starts WHERE mech = ?", (mech,)).fetchall()
    except sqlite3.OperationalError:  # table not created yet
        rows = []
    con.close()
    return dict(rows)


def wait_for(mech: str, nudges: set, timeout: float) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if nudges <= arrivals(mech).keys():
            return True
        time.sleep(0.2)
    return False


def pct(xs: list, q: float) -> float:
    xs = sorted(xs)
    return xs[max(0, math.ceil(q * len(xs)) - 1)] if xs else float("nan")


def run_mechanism(mech: str, srv: subprocess.Popen, k: int, interval: float, outage: bool) -> tuple:
    role = "task-worker" if mech == "A" else "runner"
    env = {"PREFECT_RUNNER_POLL_FREQUENCY": "1"} if mech == "B" else {}
    consumer = start([sys.executable, "-m", "bench.nudge", "--role", role], f"{role}.log", **env)
    try:
        # Warm-up (not measured): repeat until the consumer is subscribed / automation is live.
        warm, t_warm = 0, time.time()
        while not any(n < 0 for n in arrivals(mech)):
            if time.time() - t_warm > 90:
                raise RuntimeError(f"{mech}: consumer never received a warm-up nudge ({role}.log)")
            warm -= 1
            send(mech, warm)
            wait_for(mech, {warm}, 3)
        t_ready = time.time() - t_warm
        cpu0, srv0, t0 = tree_cpu(consumer.pid), tree_cpu(srv.pid), time.time()
        blocks = []
        for i in range(k):
            time.sleep(max(0.0, t0 + i * interval - time.time()))
            blocks.append(send(mech, i))
        wait_for(mech, set(range(k)), 30)
        lat = [v for n, v in arrivals(mech).items() if 0 <= n < k]
        row = dict(mech=mech, ready=t_ready, n=sum(v <= 30 for v in lat), k=k,
                   p50=pct(lat, .5), p95=pct(lat, .95), max=max(lat, default=float("nan")),
                   b50=statistics.median(blocks), bmax=max(blocks), span=time.time() - t0,
                   cpu=tree_cpu(consumer.pid) - cpu0, srv_cpu=tree_cpu(srv.pid) - srv0)
        note = outage_test(mech, srv) if outage else ""
        return row, note
    finally:
        stop(consumer)


def outage_test(mech: str, srv: subprocess.Popen) -> str:
    """Nudge while the server is down, restart it, and see what gets through."""
    stop(srv)
    try:
        blocked, err = send(mech, 1000), "returned"
    except Exception as exc:  # noqa: BLE001 - we want to report any failure
        blocked, err = float("nan"), f"raised {type(exc).__name__}"
    t_restart = time.time()
    SERVERS[0] = srv = start_server()
    lost = not wait_for(mech, {1000}, 20)
    blocks = send(mech, 1001)
    recovered = wait_for(mech, {1001}, 30)
    lat = arrivals(mech).get(1001)
    return (f"{mech}: nudge sent while server down {err} (blocked {blocked:.2f}s) -> "
            f"{'LOST' if lost else 'delivered'} within 20s of restart (restart took "
            f"{time.time() - t_restart:.0f}s incl. waits); nudge after restart "
            + (f"started after {lat:.2f}s (call blocked {blocks:.3f}s)" if recovered else "NOT delivered in 30s"))


SERVERS: list = [None]  # the current server process (replaced by the outage test)


def machine() -> str:
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    import prefect
    return (f"machine: {os.cpu_count()} cores, CPU {model}; Python {sys.version.split()[0]}, "
            f"Prefect {prefect.__version__}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--role", choices=["task-worker", "runner"])
    ap.add_argument("--k", type=int, default=30)
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--no-outage", action="store_true", help="skip the server-restart test")
    args = ap.parse_args()
    if args.role:
        return run_role(args.role)

    def on_alarm(*_):
        raise TimeoutError("benchmark aborted after 300 s")
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(300)
    bench_dir = os.environ["NUDGE_BENCH_DIR"]
    rows, notes = [], []
    try:
        print(machine(), flush=True)
        SERVERS[0] = start_server()
        for mech in ("A", "B"):
            row, note = run_mechanism(mech, SERVERS[0], args.k, args.interval, not args.no_outage)
            rows.append(row)
            notes.append(note)
            print(f"done {mech}", flush=True)
    except BaseException:
        for log in ("server.log", "task-worker.log", "runner.log"):
            p = os.path.join(bench_dir, log)
            if os.path.exists(p):
                print(f"--- tail of {log}\n" + open(p, errors="replace").read()[-3000:], file=sys.stderr)
        raise
    finally:
        signal.alarm(0)
        if SERVERS[0]:
            stop(SERVERS[0])
        shutil.rmtree(bench_dir, ignore_errors=True)

    names = {"A": "A task.delay -> task worker", "B": "B emit_event -> trigger -> flow run"}
    print(f"\n{'mechanism':<37}{'ready':>7}{'arrived':>9}{'p50':>7}{'p95':>7}{'max':>7}"
          f"{'call p50':>10}{'call max':>10}{'cons CPU':>10}{'srv CPU':>9}{'window':>8}")
    for r in rows:
        print(f"{names[r['mech']]:<37}{r['ready']:>6.1f}s{r['n']:>5}/{r['k']:<3}{r['p50']:>6.2f}s"
              f"{r['p95']:>6.2f}s{r['max']:>6.2f}s{r['b50'] * 1000:>8.1f}ms{r['bmax'] * 1000:>8.1f}ms"
              f"{r['cpu']:>9.1f}s{r['srv_cpu']:>8.1f}s{r['span']:>7.0f}s")
    print("latency = consumer start - send time; arrived = started within 30 s; CPU = seconds "
          "during the measured window (consumer incl. child processes); ready = warm-up time")
    for n in filter(None, notes):
        print(n)


if __name__ == "__main__":
    main()
