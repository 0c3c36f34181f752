"""Crash and restart: `lianban up` on a fresh folder, a driver pushing cases and their orders
through every process over HTTP, and kill -9 in turn of the web process, the Prefect runner, the
task worker and the Prefect server at random moments. Then: every case and order accounted for,
none duplicated, document numbers without a gap or a repeat, the audit chain intact, every due
follow-up done. Prints a table of counts; exit code 1 if any check fails.

    python -m proofs.crash_loop --rounds 20 --cases 200        # the long proof (~15 min)
    python -m proofs.crash_loop --rounds 3 --cases 20          # the short one (CI)

The web app is a child of the `lianban up` supervisor like the other three (issue 16, finding 4):
killing it leaves the orchestrator running and the supervisor restarts it within a second. If
`lianban up` itself dies, the proof starts it again, as an operator's systemd would.

The driver behaves like a careful client: after a request whose answer was lost (connection
reset, timeout, 5xx) it looks up whether the thing was created before sending it again.
"""
import argparse
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import psutil
import yaml
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ("web", "runner", "task-worker", "prefect-server")
# Which child is which, by its command line.
CHILD_MARKERS = {"prefect-server": ("prefect", "server", "start"), "runner": ("cli.main", "worker"),
                 "task-worker": ("cli.main", "task-worker"), "web": ("cli.main", "web")}
# Amounts that reach each tier of the default policy (CID head, deputy, chief) and one below all.
AMOUNTS = ("280000", "650000", "1200000", "36000")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def short_policy(folder: Path) -> Path:
    """The default policy with deadlines in seconds, so reminders, escalations and follow-ups come
    due while the proof runs."""
    shutil.copytree(ROOT / "policies" / "default", folder)
    escalation = yaml.safe_load((folder / "escalation.yaml").read_text(encoding="utf-8"))
    escalation["approval"].update(remind_after="20s", decide_within="45s")
    (folder / "escalation.yaml").write_text(yaml.safe_dump(escalation, allow_unicode=True), encoding="utf-8")
    orders = yaml.safe_load((folder / "orders.yaml").read_text(encoding="utf-8"))
    orders["escalate_after_reminders"] = 2
    orders["kinds"]["supervision"].update(acknowledge_within="30s", complete_within="10m", remind_every="30s")
    (folder / "orders.yaml").write_text(yaml.safe_dump(orders, allow_unicode=True), encoding="utf-8")
    return folder


# ---- the topology ------------------------------------------------------------------------------

class Topology:
    def __init__(self, folder: Path, database_url: str):
        self.folder = folder
        self.port, self.prefect_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "LIANBAN_HOME": str(folder / "var"), "LIANBAN_DATABASE_URL": database_url,
                    "LIANBAN_POLICY_DIR": str(short_policy(folder / "policy")), "LIANBAN_PORT": str(self.port),
                    "LIANBAN_PREFECT_PORT": str(self.prefect_port), "LIANBAN_PUBLIC_BASE_URL": self.url,
                    "PREFECT_UI_ENABLED": "false"}
        for leftover in ("PREFECT_HOME", "PREFECT_API_URL"):
            self.env.pop(leftover, None)
        self.up: subprocess.Popen | None = None
        self.killed: set[int] = set()
        self.starts = 0
        self.log = open(folder / "up.log", "ab")

    def start(self) -> None:
        self.starts += 1
        self.up = subprocess.Popen([sys.executable, "-m", "cli.main", "up", "--demo"], cwd=ROOT, env=self.env,
                                   stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def children(self) -> dict[str, psutil.Process]:
        found = {}
        try:
            children = psutil.Process(self.up.pid).children()
        except psutil.Error:
            return found
        for child in children:
            try:
                cmdline = child.cmdline()
            except psutil.Error:  # a zombie not reaped yet, or gone
                continue
            for name, marker in CHILD_MARKERS.items():
                if all(part in cmdline for part in marker):
                    found[name] = child
        return found

    def healthy(self) -> bool:
        children = self.children()
        if self.up is None or self.up.poll() is not None or len(children) < len(CHILD_MARKERS):
            return False
        if any(child.pid in self.killed for child in children.values()):
            return False  # the one just killed is not reaped and restarted yet
        try:
            web = httpx.get(f"{self.url}/healthz", timeout=3).status_code == 200
            prefect = httpx.get(f"http://127.0.0.1:{self.prefect_port}/api/health", timeout=3).status_code == 200
            return web and prefect
        except httpx.HTTPError:
            return False

    def wait_healthy(self, timeout: float = 240) -> float:
        began = time.monotonic()
        while time.monotonic() - began < timeout:
            if self.healthy():
                return time.monotonic() - began
            if self.up is not None and self.up.poll() is not None:
                self.start()  # `lianban up` itself died: start it again
            time.sleep(0.5)
        raise RuntimeError(f"topology not healthy after {timeout:.0f} s: see {self.folder / 'up.log'}")

    def kill(self, target: str) -> int:
        """kill -9 one component (its whole process group); returns the pid killed."""
        if target == "supervisor":
            victim = self.up.pid
            orphans = list(self.children().values())
            os.killpg(victim, signal.SIGKILL)
            self.up.wait()
            # The children get SIGTERM from the kernel when their parent dies; whatever still
            # runs after 20 s is killed too, so the new supervisor finds its ports free.
            _, alive = psutil.wait_procs(orphans, timeout=20)
            for process in alive:
                with_group(process.pid, signal.SIGKILL)
            self.start()
            return victim
        child = self.children().get(target)
        if child is None:
            raise RuntimeError(f"{target} is not running")
        self.killed.add(child.pid)
        with_group(child.pid, signal.SIGKILL)
        return child.pid

    def stop(self) -> None:
        if self.up is not None and self.up.poll() is None:
            orphans = list(self.children().values())
            os.killpg(self.up.pid, signal.SIGTERM)
            try:
                self.up.wait(40)
            except subprocess.TimeoutExpired:
                os.killpg(self.up.pid, signal.SIGKILL)
            _, alive = psutil.wait_procs(orphans, timeout=20)
            for process in alive:
                with_group(process.pid, signal.SIGKILL)


def with_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


# ---- the driver ----------------------------------------------------------------------------------

class Lost(Exception):
    """The request may or may not have been carried out (no answer)."""


@dataclass
class Driver:
    url: str
    engine: object
    total_cases: int
    retries: int = 0
    lost_answers: int = 0
    done: Counter = field(default_factory=Counter)
    expected: dict = field(default_factory=dict)  # case number -> what the driver did
    errors: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def call(self, method: str, path: str, user: str, ok=(200, 201), tolerated=(), **kwargs) -> httpx.Response:
        """Send until an answer comes; a lost answer raises Lost for the caller to look up."""
        deadline = time.monotonic() + 300
        while True:
            try:
                response = httpx.request(method, f"{self.url}{path}", headers={"Authorization": f"Bearer demo-{user}"},
                                         timeout=20, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                response = None  # nothing was sent: safe to send again
            except httpx.HTTPError as exc:
                with self.lock:
                    self.lost_answers += 1
                raise Lost(str(exc)) from None
            if response is not None and (response.status_code in ok or response.status_code in tolerated):
                return response
            if response is not None and response.status_code < 500:
                raise AssertionError(f"{method} {path} as {user}: {response.status_code} {response.text[:300]}")
            if response is not None and method == "POST":
                with self.lock:
                    self.lost_answers += 1
                raise Lost(f"{response.status_code}")  # a 5xx may or may not have committed
            if time.monotonic() > deadline:
                raise RuntimeError(f"{method} {path}: no answer within 300 s")
            with self.lock:
                self.retries += 1
            time.sleep(0.5)

    def once(self, create, find):
        """Create something once: on a lost answer, look it up before trying again."""
        for _ in range(50):
            try:
                return create()
            except Lost:
                time.sleep(1)
                found = find()
                if found is not None:
                    return found
        raise RuntimeError("gave up after 50 lost answers")

    def scalar(self, sql: str, **params):
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def unit_id(self, code: str) -> int:
        return self.scalar("SELECT id FROM units WHERE code = :c", c=code)

    def drive_case(self, index: int) -> None:
        number = f"CR-{index:04d}"
        amount = AMOUNTS[index % len(AMOUNTS)]
        plan = {"approval": amount != "36000", "decide": index % 4 != 1, "acknowledge": index % 5 != 2,
                "stop_payment": index % 5 == 0}
        body = {"case_number": number, "amount_cny": amount, "fraud_type": "冒充公检法", "victim_name": "张三丰",
                "victim_phone": "13800001234", "area": "jiangling.haoxue", "reported_at": "2026-11-20T10:15:00+08:00"}
        case_id = self.once(
            lambda: self.call("POST", "/api/v1/cases", "office", json=body).json()["id"],
            lambda: self.scalar("SELECT id FROM cases WHERE case_number = :n", n=number))
        if plan["approval"] and plan["decide"]:
            approval_id = self.scalar("SELECT id FROM approvals WHERE case_id = :c AND escalated_from_id IS NULL",
                                      c=case_id)
            leader = self.scalar("SELECT username FROM users WHERE id = (SELECT approver_id FROM approvals "
                                 "WHERE id = :a)", a=approval_id)
            try:
                self.call("POST", f"/api/v1/approvals/{approval_id}/decision", leader, tolerated=(409,),
                          json={"decision": "approve", "comment": "同意，包案"})
            except Lost:
                pass  # a decision is idempotent: the first one counts, a repeat gets 409
        bank = self.unit_id("bank.icbc.jz")
        order_body = {"kind": "supervision", "addressee_unit_id": bank, "title": f"{number} 核查涉案账户",
                      "instructions": "请核查开户资料并反馈", "case_id": case_id}
        order_id = self.once(
            lambda: self.call("POST", "/api/v1/orders", "office", json=order_body).json()["id"],
            lambda: self.scalar("SELECT id FROM orders WHERE case_id = :c AND kind = 'supervision' AND issued_by = 'office'",
                                c=case_id))
        if plan["stop_payment"]:
            account = f"6222020200{index:06d}"
            self.once(
                lambda: self.call("POST", "/api/v1/processes/stop-payment", "office", json={
                    "bank_unit_id": bank, "account_number": account, "amount_cny": amount, "case_id": case_id}).json()["id"],
                lambda: self.scalar("SELECT id FROM processes WHERE case_id = :c AND kind = 'stop_payment'", c=case_id))
        if plan["acknowledge"]:
            for step, user, body in (("acknowledge", "liaison_icbc", None), ("report", "liaison_icbc", {"text": "已核查，见附件"}),
                                     ("accept", "office", {"comment": "验收通过"})):
                while True:
                    try:
                        self.call("POST", f"/api/v1/orders/{order_id}/{step}", user, tolerated=(409,), json=body)
                        break
                    except Lost:
                        time.sleep(1)  # a repeated transition answers 409: safe to send again
        with self.lock:
            self.expected[number] = {"case_id": case_id, "order_id": order_id, **plan}
            self.done["cases"] += 1

    def run(self, workers: int = 3, pace: float = 0.0) -> None:
        def one(index: int) -> None:
            try:
                self.drive_case(index)
            except Exception as exc:  # noqa: BLE001 - reported in the summary
                with self.lock:
                    self.errors.append(f"case {index}: {type(exc).__name__}: {exc}")
            time.sleep(pace)

        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(one, range(1, self.total_cases + 1)))


# ---- the checks ----------------------------------------------------------------------------------

def rows(engine, sql: str, **params) -> list:
    with engine.connect() as conn:
        return list(conn.execute(text(sql), params).all())


def due_follow_ups(engine, now: datetime) -> dict[str, int]:
    """What the flows still owe: each must be zero once they have caught up."""
    grace = now - timedelta(seconds=90)  # the deadline watch runs once a minute
    return {
        "approval decisions not followed up": rows(engine, "SELECT count(*) FROM approvals WHERE follow_up_pending")[0][0],
        "approvals past due, not escalated": rows(engine, "SELECT count(*) FROM approvals WHERE status = 'pending' AND "
                                                          "due_at < :g AND leader_tier != 'chief'", g=grace)[0][0],
        "approvals past reminder, not reminded": rows(engine, "SELECT count(*) FROM approvals WHERE status = 'pending' "
                                                              "AND reminded_at IS NULL AND remind_at < :g", g=grace)[0][0],
        "processes waiting to advance": rows(engine, "SELECT count(*) FROM processes WHERE needs_advance OR "
                                                     "(wake_at IS NOT NULL AND wake_at < :g)", g=grace)[0][0],
        "order documents not issued": rows(engine, "SELECT count(*) FROM orders WHERE document_due")[0][0],
        "order deadlines not checked": rows(engine, "SELECT count(*) FROM orders WHERE next_check_at < :g", g=grace)[0][0],
    }


def check(engine, driver: Driver, database_url: str, env: dict) -> tuple[list[tuple[str, str, bool]], dict]:
    results: list[tuple[str, str, bool]] = []

    def expect(name: str, shown, ok: bool) -> None:
        results.append((name, str(shown), bool(ok)))

    n = driver.total_cases
    cases = rows(engine, "SELECT case_number, count(*) FROM cases WHERE case_number LIKE 'CR-%' GROUP BY case_number")
    expect("cases registered (once each)", f"{len(cases)} of {n}", len(cases) == n and all(c == 1 for _, c in cases))
    expect("driver finished every case", f"{len(driver.expected)} of {n}; errors {len(driver.errors)}",
           len(driver.expected) == n and not driver.errors)
    registered = Counter(r[0] for r in rows(engine, "SELECT entity_id FROM audit_events WHERE action = 'case.registered'"))
    expect("case.registered audit entries", f"{sum(registered.values())}",
           all(v == 1 for v in registered.values()) and len(registered) >= n)

    office_orders = rows(engine, "SELECT case_id, count(*) FROM orders WHERE issued_by = 'office' GROUP BY case_id")
    expect("office orders (one per case)", f"{sum(c for _, c in office_orders)} for {len(office_orders)} cases",
           len(office_orders) == n and all(c == 1 for _, c in office_orders))
    process_orders = rows(engine, "SELECT process_id, step_key, count(*) FROM orders WHERE process_id IS NOT NULL "
                                  "GROUP BY process_id, step_key")
    expect("process orders (one per step)", f"{sum(r[2] for r in process_orders)} in {len(process_orders)} steps",
           all(r[2] == 1 for r in process_orders))
    stop_payments = rows(engine, "SELECT case_id, count(*) FROM processes WHERE kind = 'stop_payment' GROUP BY case_id")
    wanted = sum(1 for e in driver.expected.values() if e["stop_payment"])
    stopped_orders = rows(engine, "SELECT count(*) FROM orders WHERE kind = 'stop_payment'")[0][0]
    expect("stop-payment processes (one per case) and their orders", f"{len(stop_payments)} of {wanted}; orders {stopped_orders}",
           len(stop_payments) == wanted and all(c == 1 for _, c in stop_payments) and stopped_orders == wanted)
    issued = Counter(r[0] for r in rows(engine, "SELECT entity_id FROM audit_events WHERE action = 'order.issued'"))
    all_orders = rows(engine, "SELECT count(*) FROM orders")[0][0]
    expect("order.issued audit entries (one per order)", f"{sum(issued.values())} for {all_orders} orders",
           len(issued) == all_orders and all(v == 1 for v in issued.values()))

    statuses = dict(rows(engine, "SELECT status, count(*) FROM orders WHERE issued_by = 'office' GROUP BY status"))
    accepted_expected = sum(1 for e in driver.expected.values() if e["acknowledge"])
    expect("office orders accepted as driven", f"{statuses.get('accepted', 0)} of {accepted_expected}",
           statuses.get("accepted", 0) == accepted_expected)
    acks = Counter(r[0] for r in rows(engine, "SELECT entity_id FROM audit_events WHERE action = 'order.acknowledged'"))
    expect("acknowledgements recorded once", f"{sum(acks.values())}", all(v == 1 for v in acks.values()))

    reminded = Counter(r[0] for r in rows(engine, "SELECT entity_id FROM audit_events WHERE action = 'order.reminded'"))
    counters = dict(rows(engine, "SELECT id, reminders FROM orders WHERE reminders > 0"))
    expect("reminders: one audit entry per reminder", f"{sum(reminded.values())} entries, {sum(counters.values())} counted",
           dict(reminded) == counters)
    escalated = Counter(r[0] for r in rows(engine, "SELECT entity_id FROM audit_events WHERE action = 'order.escalated'"))
    expect("orders escalated (挂牌督办) at most once", f"{sum(escalated.values())} orders", all(v == 1 for v in escalated.values()))
    left = sum(1 for e in driver.expected.values() if not e["acknowledge"])
    expect("unacknowledged orders reminded", f"{sum(1 for o in counters)} of ≥{left}", len(counters) >= left)

    decided = rows(engine, "SELECT count(*) FROM approvals WHERE status = 'approved'")[0][0]
    taken = rows(engine, "SELECT count(*) FROM cases c JOIN approvals a ON a.case_id = c.id AND a.status = 'approved' "
                         "WHERE c.leader_id = a.approver_id AND c.escalation_state = 'taken'")[0][0]
    expect("approved cases taken by their leader (包案)", f"{taken} of {decided}", taken == decided and decided > 0)
    pending = rows(engine, "SELECT case_id, count(*) FROM approvals WHERE status = 'pending' GROUP BY case_id")
    up_chain = rows(engine, "SELECT count(*) FROM approvals WHERE status = 'escalated'")[0][0]
    expect("undecided approvals moved up the chain", f"{up_chain} moves; pending {len(pending)}",
           all(c == 1 for _, c in pending) and (up_chain > 0 or not any(e["approval"] and not e["decide"]
                                                                          for e in driver.expected.values())))

    documents = rows(engine, "SELECT issuing_code, year, serial, version, number FROM documents")
    firsts = [d for d in documents if d[3] == 1]
    by_code: dict = {}
    for code, year, serial, _, _ in firsts:
        by_code.setdefault((code, year), []).append(serial)
    gap_free = all(sorted(s) == list(range(1, len(s) + 1)) for s in by_code.values())
    expect("document numbers gap-free, none repeated",
           ", ".join(f"{c}〔{y}〕1–{len(s)}" for (c, y), s in by_code.items()) or "none",
           gap_free and len({d[4] for d in firsts}) == len(firsts) and len(firsts) > 0)
    per_order = rows(engine, "SELECT order_id, count(*) FROM documents WHERE order_id IS NOT NULL AND version = 1 "
                             "GROUP BY order_id")
    with_document = rows(engine, "SELECT count(*) FROM orders WHERE document_id IS NOT NULL")[0][0]
    expect("one document per order", f"{len(per_order)} orders with documents ({with_document} linked)",
           all(c == 1 for _, c in per_order) and with_document == len(per_order) >= driver.total_cases)
    doc_events = Counter(r[0] for r in rows(engine, "SELECT entity_id FROM audit_events WHERE action = 'document.issued'"))
    expect("document.issued audit entries", f"{sum(doc_events.values())} for {len(firsts)}",
           len(doc_events) == len(firsts) and all(v == 1 for v in doc_events.values()))

    owed = due_follow_ups(engine, datetime.now(timezone.utc).replace(tzinfo=None))
    expect("due follow-ups done", ", ".join(f"{k}: {v}" for k, v in owed.items() if v) or "all done",
           not any(owed.values()))

    verify = subprocess.run([sys.executable, "-m", "cli.main", "audit", "verify"], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    expect("audit chain (lianban audit verify)", (verify.stdout or verify.stderr).strip(), verify.returncode == 0)

    counts = {"cases": len(cases), "orders": all_orders, "office orders": sum(c for _, c in office_orders),
              "orders accepted": statuses.get("accepted", 0), "stop-payment processes": len(stop_payments),
              "approvals approved": decided, "approvals moved up": up_chain, "documents": len(documents),
              "reminders": sum(reminded.values()), "escalations (挂牌督办)": sum(escalated.values()),
              "audit entries": rows(engine, "SELECT count(*) FROM audit_events")[0][0]}
    return results, counts


# ---- the proof -----------------------------------------------------------------------------------

def prove(*, rounds: int, cases: int, postgres: bool = False, seed: int | None = None, keep: bool = False,
          settle_timeout: float = 900, workers: int = 3) -> bool:
    from domain.db import make_engine

    seed = seed if seed is not None else random.randrange(1_000_000)
    rng = random.Random(seed)
    folder = Path(tempfile.mkdtemp(prefix="lianban-crash-"))
    pg_name = None
    if postgres:
        import psycopg

        admin = os.environ.get("LIANBAN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
        pg_name = f"lianban_crash_{os.getpid()}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{pg_name}"')
        database_url = f"{admin.rsplit('/', 1)[0].replace('postgresql://', 'postgresql+psycopg://', 1)}/{pg_name}"
    else:
        database_url = f"sqlite:///{folder / 'var' / 'lianban.db'}"
    topology = Topology(folder, database_url)
    began = time.monotonic()
    kills: list[tuple[int, str, float, float]] = []  # round, target, at (s since start), recovery (s)
    print(f"crash loop: {rounds} rounds, {cases} cases, seed {seed}, folder {folder}, "
          f"database {'PostgreSQL' if postgres else 'SQLite'}", flush=True)
    engine = None
    try:
        topology.start()
        first = topology.wait_healthy(300)
        print(f"topology up in {first:.1f} s", flush=True)
        engine = make_engine(database_url)
        driver = Driver(url=topology.url, engine=engine, total_cases=cases)
        # Spread the cases over the rounds (about 12 s each), so every kill lands among live work.
        pace = max(0.0, rounds * 12.0 * workers / cases - 1.0)
        driving = threading.Thread(target=driver.run, kwargs={"workers": workers, "pace": pace}, daemon=True)
        driving.start()
        for index in range(rounds):
            target = TARGETS[index % len(TARGETS)]
            time.sleep(rng.uniform(1.0, 8.0))
            at = time.monotonic() - began
            pid = topology.kill(target)
            recovery = topology.wait_healthy()
            kills.append((index + 1, target, at, recovery))
            print(f"round {index + 1:2d}: kill -9 {target:<14} (pid {pid}) at {at:6.1f} s; healthy again after "
                  f"{recovery:5.1f} s; cases driven {driver.done['cases']}/{cases}", flush=True)
        driving.join()
        driven = time.monotonic() - began
        print(f"driver done at {driven:.1f} s: {driver.retries} retries, {driver.lost_answers} lost answers", flush=True)
        settle_began = time.monotonic()
        while time.monotonic() - settle_began < settle_timeout:
            owed = due_follow_ups(engine, datetime.now(timezone.utc).replace(tzinfo=None))
            if not any(owed.values()):
                break
            time.sleep(2)
        settled = time.monotonic() - settle_began
        print(f"flows caught up {settled:.1f} s after the driver finished", flush=True)
        results, counts = check(engine, driver, database_url, topology.env)
    finally:
        topology.stop()
        if engine is not None:
            engine.dispose()
    ok = all(r[2] for r in results)
    print_summary(rounds=rounds, cases=cases, seed=seed, postgres=postgres, kills=kills, driver=driver,
                  results=results, counts=counts, seconds=time.monotonic() - began, settled=settled,
                  restarts=topology.starts - 1)
    if driver.errors:
        print("driver errors:", *driver.errors[:10], sep="\n  ")
    if ok and not keep:
        shutil.rmtree(folder, ignore_errors=True)
        if pg_name:
            import psycopg

            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
    else:
        print(f"kept for inspection: {folder}" + (f", database {pg_name}" if pg_name else ""))
    return ok


def print_summary(*, rounds, cases, seed, postgres, kills, driver, results, counts, seconds, settled, restarts) -> None:
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    cpu = f"{psutil.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GB"
    by_target = Counter(k[1] for k in kills)
    recoveries = [k[3] for k in kills]
    print()
    print(f"### Crash loop {when} — {platform.node()} ({platform.machine()}, {cpu}, Python "
          f"{platform.python_version()}), {'PostgreSQL' if postgres else 'SQLite'}, seed {seed}")
    print()
    print(f"{rounds} rounds, {cases} cases, {seconds:.0f} s in all; kill -9: " +
          ", ".join(f"{t} ×{by_target[t]}" for t in TARGETS if by_target[t]) +
          f"; recovery to healthy p50 {sorted(recoveries)[len(recoveries) // 2] if recoveries else 0:.1f} s, "
          f"max {max(recoveries, default=0):.1f} s; driver retries {driver.retries}, lost answers "
          f"{driver.lost_answers}; `lianban up` restarted {restarts}×; flows caught up {settled:.0f} s after the driver")
    print()
    print("| count | value |")
    print("|---|---|")
    for name, value in counts.items():
        print(f"| {name} | {value} |")
    print()
    print("| check | observed | result |")
    print("|---|---|---|")
    for name, shown, ok in results:
        print(f"| {name} | {shown.replace('|', '/')} | {'PASS' if ok else '**FAIL**'} |")
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--postgres", action="store_true", help="our database on PostgreSQL (default SQLite)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--workers", type=int, default=3, help="driver threads")
    parser.add_argument("--settle", type=float, default=900, help="seconds to wait for the flows to catch up")
    parser.add_argument("--keep", action="store_true", help="keep the folder (and database) afterwards")
    args = parser.parse_args(argv)
    return 0 if prove(rounds=args.rounds, cases=args.cases, postgres=args.postgres, seed=args.seed, keep=args.keep,
                      workers=args.workers, settle_timeout=args.settle) else 1


if __name__ == "__main__":
    sys.exit(main())
