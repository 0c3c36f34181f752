"""Benchmark: how fast does a "nudge" from the web process start a follow-up step?

(A) `task.delay()` -> task worker process (`prefect.task_worker.serve`)
(B) `emit_event()` -> DeploymentEventTrigger automation -> flow run served by `prefect.serve`

Usage: .venv/bin/python -m bench.nudge [--k 30] [--interval 1.0] [--no-outage]
(--role task-worker|runner is used internally.) Server DB, results and logs live in a temp dir.
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
                      PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_UI_ENABLED="false",
                      PREFECT_LOGGING_LEVEL="WARNING")

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
    created = FlowRunContext.get().flow_run.created  # when the automation created the run
    record_start("B", nudge, sent, created.timestamp())


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
    with open(os.path.join(os.environ["NUDGE_BENCH_DIR"], log), "ab") as out:
        return subprocess.Popen(args, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, **env}, start_new_session=True)


def proc_table() -> tuple:
    """pid -> CPU ticks (self + reaped children), ppid -> [child pids], read from /proc."""
    ticks, kids = {}, {}
    for p in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:  # process vanished meanwhile
            continue
        ticks[int(p)] = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
        kids.setdefault(int(fields[1]), []).append(int(p))
    return ticks, kids


def tree(pid: int, kids: dict) -> list:
    out = [pid]
    for p in out:  # the list grows while we walk it: breadth-first over descendants
        out += kids.get(p, [])
    return out


def tree_cpu(pid: int) -> float:  # CPU seconds of a process tree (live + reaped processes)
    ticks, kids = proc_table()
    return sum(ticks.get(p, 0) for p in tree(pid, kids)) / CLK


def stop(proc: subprocess.Popen) -> None:
    """Terminate a process we started plus its descendants (runner flow runs use new sessions)."""
    pids = tree(proc.pid, proc_table()[1]) if proc.poll() is None else []
    for sig in (signal.SIGTERM, signal.SIGKILL):  # polite first, then force the leftovers
        for p in pids:
            try:
                os.kill(p, sig)
            except ProcessLookupError:
                pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        pids = [p for p in pids if os.path.exists(f"/proc/{p}")]


def start_server() -> subprocess.Popen:
    port = os.environ["NUDGE_BENCH_PORT"]
    srv = start([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                 "--port", port], "server.log")
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2):
                return srv
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("Prefect server did not become healthy (see server.log)")


# ---------------------------------------------------------------- sender side
def send(mech: str, nudge: int) -> float:
    """Send one nudge; return how long the call blocked the caller (seconds)."""
    sent, t0 = time.time(), time.perf_counter()
    if mech == "A":
        nudge_task.delay(nudge, sent)
    else:
        from prefect.events import emit_event
        emit_event(event=EVENT, resource={"prefect.resource.id": f"{EVENT}.{nudge}"},
                   payload={"nudge": nudge, "sent": sent})
    return time.perf_counter() - t0


def arrivals(mech: str, col: str = "started") -> dict:
    """nudge -> seconds from send to consumer start (or to flow-run creation)."""
    con = sqlite3.connect(os.path.join(os.environ["NUDGE_BENCH_DIR"], "starts.db"), timeout=30)
    try:
        return dict(con.execute(f"SELECT nudge, {col} - sent FROM starts WHERE mech = ?", (mech,)))
    except sqlite3.OperationalError:  # table not created yet
        return {}
    finally:
        con.close()


def wait_for(mech: str, nudges: set, timeout: float) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if nudges <= arrivals(mech).keys():
            return True
        time.sleep(0.2)
    return False


def pct(xs: list, q: float) -> float:
    """Nearest-rank percentile; missing nudges are passed in as +inf."""
    xs = sorted(xs)
    return xs[max(0, math.ceil(q * len(xs)) - 1)] if xs else math.inf


def run_mechanism(mech: str, k: int, interval: float, outage: bool) -> None:
    role = "task-worker" if mech == "A" else "runner"
    env = {"PREFECT_RUNNER_POLL_FREQUENCY": "1"} if mech == "B" else {}
    consumer = start([sys.executable, "-m", "bench.nudge", "--role", role], f"{role}.log", **env)
    try:
        # Warm-up (not measured): nudge until the worker is subscribed / the automation is live,
        # then let every warm-up run finish so no backlog leaks into the measured window.
        warm, t_warm = 0, time.time()
        while not any(n < 0 for n in arrivals(mech)):
            if time.time() - t_warm > 90:
                raise RuntimeError(f"{mech}: no warm-up nudge arrived (see {role}.log)")
            warm -= 1
            send(mech, warm)
            wait_for(mech, {warm}, 3 if mech == "A" else 15)
        ready = time.time() - t_warm
        wait_for(mech, set(range(warm, 0)), 30)
        time.sleep(3)  # let the last warm-up flow-run process exit
        srv = SERVER[0]
        cpu0, srv0, t0 = tree_cpu(consumer.pid), tree_cpu(srv.pid), time.time()
        blocks = []
        for i in range(k):  # one nudge every `interval` seconds
            time.sleep(max(0.0, t0 + i * interval - time.time()))
            blocks.append(send(mech, i))
        wait_for(mech, set(range(k)), 30)
        got = arrivals(mech)
        lat = [got.get(i, math.inf) for i in range(k)]
        made = [v for n, v in arrivals(mech, "created").items() if 0 <= n < k and v is not None]
        row = dict(mech=mech, ready=ready, n=sum(v <= 30 for v in lat), k=k, first=lat[0],
                   p50=pct(lat, .5), p95=pct(lat, .95), max=max(lat), made=pct(made, .5),
                   b50=statistics.median(blocks), bmax=max(blocks), span=time.time() - t0,
                   cpu=tree_cpu(consumer.pid) - cpu0, srv_cpu=tree_cpu(srv.pid) - srv0,
                   load=os.getloadavg()[0])  # other work on the box skews B most (CPU-bound)
        print_row(row)  # print now, so a later abort still leaves the numbers
        if outage:
            print(outage_test(mech), flush=True)
    finally:
        stop(consumer)


def outage_test(mech: str) -> str:
    """Nudge while the server is down, restart it, and see what gets through."""
    stop(SERVER[0])
    t0, outcome = time.perf_counter(), "returned normally"
    try:
        send(mech, 1000)
    except Exception as exc:  # noqa: BLE001 - report whatever the caller would see
        outcome = f"raised {type(exc).__name__}"
    blocked, t_restart = time.perf_counter() - t0, time.time()
    SERVER[0] = start_server()
    restart = time.time() - t_restart
    wait_for(mech, {1000}, 15)
    after = send(mech, 1001)  # does the consumer come back? (it may also flush a buffered 1000)
    ok = wait_for(mech, {1001}, 25)
    got = arrivals(mech)
    fate = f"started {got[1000]:.0f}s after send" if 1000 in got else "LOST (not started by end of test)"
    return (f"outage {mech}: nudge sent while server down {outcome} after {blocked:.2f}s, {fate}; "
            f"server restart took {restart:.0f}s; next nudge "
            + (f"started {got[1001]:.2f}s after send (call {after * 1000:.0f}ms)"
               if ok else "NOT started within 25s"))


SERVER: list = [None]  # the current server process (the outage test replaces it)


def print_row(r: dict) -> None:
    def fmt(x: float) -> str:
        return f"{x:6.2f}s" if x <= 30 else "  >30s"
    name = {"A": "A task.delay -> task worker", "B": "B emit_event -> trigger -> flow"}[r["mech"]]
    made = fmt(r["made"]) if r["mech"] == "B" else "      -"
    print(f"{name:<32}{r['n']:>5}/{r['k']:<2}{fmt(r['first'])}{fmt(r['p50'])}{fmt(r['p95'])}"
          f"{fmt(r['max'])}{made:>9}{r['b50'] * 1000:>7.1f}ms{r['bmax'] * 1000:>7.1f}ms"
          f"{r['cpu']:>8.1f}s{r['srv_cpu']:>7.1f}s{r['span']:>6.0f}s{r['ready']:>7.1f}s{r['load']:>5.1f}",
          flush=True)


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
    signal.alarm(300)  # hard bound on the whole run; cleanup still happens in `finally`
    bench_dir = os.environ["NUDGE_BENCH_DIR"]
    try:
        import prefect
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "?")
        print(f"machine: {os.cpu_count()} cores, CPU {cpu}; Python {sys.version.split()[0]}, "
              f"Prefect {prefect.__version__}; load avg now {os.getloadavg()[0]:.1f}", flush=True)
        print("latency = consumer start - send time (first = nudge #0, p50/p95/max over all K, not "
              "arrived = >30s); arrived = started within 30 s;\nrun made = p50 of (flow-run creation by"
              " the automation - send time); call = time the sender call blocked; CPU = CPU seconds in"
              "\nthe measured window (consumer incl. its child processes); window = send phase + drain "
              "wait; load = 1-min load average at the end of the window\n")
        print(f"{'mechanism':<32}{'arrived':>8}{'first':>7}{'p50':>7}{'p95':>7}{'max':>7}{'run made':>9}"
              f"{'call p50':>9}{'call max':>9}{'cons CPU':>9}{'srv CPU':>8}{'window':>7}{'warm-up':>8}"
              f"{'load':>5}", flush=True)
        SERVER[0] = start_server()
        for mech in ("A", "B"):
            run_mechanism(mech, args.k, args.interval, not args.no_outage)
    except BaseException:
        for log in ("server.log", "task-worker.log", "runner.log"):
            p = os.path.join(bench_dir, log)
            if os.path.exists(p):
                print(f"--- tail of {log}\n" + open(p, errors="replace").read()[-3000:], file=sys.stderr)
        raise
    finally:
        signal.alarm(0)
        if SERVER[0]:
            stop(SERVER[0])
        shutil.rmtree(bench_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
