"""The attacks of issue 16, repeated against running web processes started as an operator starts
them (`lianban web`, no trusted proxy), on a fresh SQLite database. Prints one row per attack:
attempts, and successes (what the attacker wanted and got) — every success count must be 0 —
plus the web process's peak memory under the large-body attack. Exit code 1 if any succeeded.

    python -m proofs.security [--keep]        # bash scripts/prove.sh security
"""
import argparse
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')
BIG = 48 * 1024 * 1024


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Web:
    """One `lianban web` process on the proof's database."""

    def __init__(self, folder: Path, env: dict, name: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(folder / f"{name}.log", "wb")
        self.process = subprocess.Popen([sys.executable, "-m", "cli.main", "web", "--port", str(self.port)], env=env,
                                        cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        raise RuntimeError(f"web did not start: see {folder / f'{name}.log'}")

    def rss_mb(self) -> float:
        try:
            return psutil.Process(self.process.pid).memory_info().rss / 2**20
        except psutil.Error:
            return 0.0

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)


def bearer(username: str) -> dict:
    return {"Authorization": f"Bearer demo-{username}"}


def browser_token(client: httpx.Client, page: str = "/login") -> str:
    return TOKEN.search(client.get(page).text).group(1)


def signed_in(url: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30)
    client.post("/login", data={"username": username, "password": f"demo-{username}",
                                "csrf_token": browser_token(client)})
    return client


def pdf_bytes() -> bytes:
    from pypdf import PdfWriter

    out = io.BytesIO()
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.write(out)
    return out.getvalue()


# ---- the attacks: each returns (attempts, successes, note) ----

def forged_forwarded_for_sign_in(web: Web):
    """10 wrong passwords, a new X-Forwarded-For each, then the right one: did it sign in?"""
    with httpx.Client(base_url=web.url, timeout=10) as client:
        token = browser_token(client)
        answers = [client.post("/login", headers={"X-Forwarded-For": f"203.0.113.{n}"}, data={
            "username": "office", "password": f"guess-{n}", "csrf_token": token}).status_code for n in range(10)]
        right = client.post("/login", headers={"X-Forwarded-For": "203.0.113.99"}, data={
            "username": "office", "password": "demo-office", "csrf_token": token}, follow_redirects=False)
    checked = answers.count(401)
    return 11, int(right.status_code == 303), f"{checked} of 10 guesses checked, then {right.status_code}"


def forged_forwarded_for_verification(web: Web):
    with httpx.Client(base_url=web.url, timeout=10) as client:
        answers = [client.get(f"/verify/NOPE{n}", headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code
                   for n in range(40)]
    answered = sum(code != 429 for code in answers)
    return 40, max(0, answered - 30), f"{answered} answered, limit 30 a minute"


def lock_someone_out(web: Web):
    """An attacker fails 20 times on the deputy's account: how long must the deputy wait?"""
    with httpx.Client(base_url=web.url, timeout=10) as client:
        token = browser_token(client)
        for n in range(20):
            client.post("/login", data={"username": "deputy", "password": f"x{n}", "csrf_token": token})
    with httpx.Client(base_url=web.url, timeout=10) as victim:
        answer = victim.post("/login", data={"username": "deputy", "password": "demo-deputy",
                                             "csrf_token": browser_token(victim)}, follow_redirects=False)
    wait = int(m.group(1)) if (m := re.search(r"请 (\d+) 秒后再试", answer.text)) else 0
    return 20, int(wait > 60), f"the deputy waits {wait} s (cap 60 s), answer {answer.status_code}"


def password_change_guessing(web: Web):
    client = signed_in(web.url, "liaison_ccb")
    answers = []
    for n in range(10):
        answers.append(client.post("/account/password", data={
            "current_password": f"guess-{n}", "new_password": "a long new passphrase",
            "confirm_password": "a long new passphrase", "csrf_token": browser_token(client, "/account/password")}
        ).status_code)
    client.close()
    checked = answers.count(422)
    return 10, max(0, checked - 3), f"{checked} current-password guesses checked, {answers.count(429)} refused"


def large_bodies(web: Web):
    """Eight parallel 48 MB multipart POSTs to /login without the CSRF header, cookie or not."""
    peak, stop = [web.rss_mb()], threading.Event()

    def sample():
        while not stop.wait(0.05):
            peak.append(web.rss_mb())

    def post(n: int) -> int:
        body = b"--zzz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\n" + b"0" * BIG
        headers = {"Content-Type": "multipart/form-data; boundary=zzz"}
        cookies = {"lianban_anon": f"anon-{n}"} if n % 2 else {}
        try:
            with httpx.Client(base_url=web.url, timeout=60, cookies=cookies) as client:
                return client.post("/login", content=body, headers=headers).status_code
        except httpx.HTTPError:
            return 0  # the server closed the connection before taking the body: refused

    threading.Thread(target=sample, daemon=True).start()
    before = web.rss_mb()
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(post, range(8)))
    stop.set()
    web.peak_mb = max(peak)
    return 8, sum(code not in (0, 413, 403) for code in codes), \
        f"answers {sorted(set(codes))}; web RSS {before:.0f} → peak {max(peak):.0f} MB"


def echo_large_input(web: Web):
    items = [{"warning_number": "Y" * 60, "area": "nowhere", "risk_level": "x", "received_at": "x"}] * 5000
    answer = httpx.post(f"{web.url}/api/v1/warnings", headers=bearer("office"), json={"warnings": items}, timeout=60)
    return 1, int(len(answer.content) > 100_000), f"{answer.status_code}, {len(answer.content):,} bytes back"


def reforge_audit_chain(web: Web, env: dict):
    """Change one entry's actor, re-hash every later entry and the head; does verification notice?"""
    from sqlmodel import Session, select

    from domain.audit import service as audit
    from domain.audit.models import AuditEvent, AuditHead
    from domain.db import make_engine

    run = lambda *args: subprocess.run([sys.executable, "-m", "cli.main", *args], env=env, cwd=ROOT,  # noqa: E731
                                       capture_output=True, text=True)
    run("audit", "checkpoint")
    engine = make_engine(env["LIANBAN_DATABASE_URL"])
    with Session(engine) as session:
        entries = session.exec(select(AuditEvent).where(AuditEvent.seq >= 3).order_by(AuditEvent.seq)).all()
        prev = entries[0].prev_hash
        entries[0].actor = "chief"
        for entry in entries:
            entry.prev_hash = prev
            entry.hash = prev = audit._link_hash(seq=entry.seq, at=entry.at, actor=entry.actor, action=entry.action,
                                                 entity_type=entry.entity_type, entity_id=entry.entity_id,
                                                 before=entry.before, after=entry.after, rule=entry.rule,
                                                 prev_hash=entry.prev_hash)
            session.add(entry)
        head = session.get(AuditHead, 1)
        head.last_hash = prev
        session.add(head)
        session.commit()
    engine.dispose()
    cli = run("audit", "verify")
    api = httpx.get(f"{web.url}/api/v1/audit/verify", headers=bearer("auditor"), timeout=30).json()
    return 2, int(cli.returncode == 0) + int(api["ok"]), f"cli exit {cli.returncode}; API ok={api['ok']}"


def default_credentials(prod: Web):
    """A web process outside demo mode, on a database that holds the demo city."""
    token = httpx.get(f"{prod.url}/api/v1/cases", headers=bearer("admin"), timeout=10).status_code
    with httpx.Client(base_url=prod.url, timeout=10) as client:
        signed = client.post("/login", data={"username": "admin", "password": "demo-admin",
                                             "csrf_token": browser_token(client)}, follow_redirects=False).status_code
    return 2, int(token == 200) + int(signed == 303), f"token → {token}, password → {signed}"


def order_for_icbc(web: Web) -> int:
    units = httpx.get(f"{web.url}/api/v1/units?code=bank.icbc.jz", headers=bearer("office")).json()
    unit = units[0]["id"] if isinstance(units, list) else units["items"][0]["id"]
    order = httpx.post(f"{web.url}/api/v1/orders", headers=bearer("office"), json={
        "kind": "supervision", "addressee_unit_id": unit, "title": "核查"}).json()
    httpx.post(f"{web.url}/api/v1/orders/{order['id']}/acknowledge", headers=bearer("liaison_icbc"))
    return order["id"]


def hostile_upload_names(web: Web):
    order = order_for_icbc(web)
    kept = 0
    for name, data in (("回执.hta", pdf_bytes()), ("setup.exe", b"MZ\x90\x00" + b"0" * 200),
                       ("回执.pdf.lnk", pdf_bytes()), ("setup.exe", pdf_bytes())):
        answer = httpx.post(f"{web.url}/api/v1/orders/{order}/evidence", headers=bearer("liaison_icbc"),
                            files={"file": (name, data, "application/pdf")})
        if answer.status_code == 201:
            kept += not answer.json()["filename"].endswith(".pdf")
    return 4, kept, "stored names end in the parsed type's extension"


def refused_reports_leave_files(web: Web, home: Path):
    order = order_for_icbc(web)
    before = {p for p in (home / "evidence").rglob("*") if p.is_file()} if (home / "evidence").exists() else set()
    client = signed_in(web.url, "liaison_icbc")
    for n in range(21):
        client.post(f"/orders/{order}/report", data={"text": " ", "csrf_token": browser_token(client, "/inbox")},
                    files={"file": (f"回执{n}.pdf", pdf_bytes() + b" " * (n + 2), "application/pdf")})
    client.close()
    after = {p for p in (home / "evidence").rglob("*") if p.is_file()} if (home / "evidence").exists() else set()
    return 21, len(after - before), "files left on disk by refused reports"


def implausible_dates(web: Web):
    bad = 0
    dates = ("0001-01-01T00:00:00+08:00", "1900-05-01T10:00:00+08:00", "1970-01-01T00:00:00", "9999-12-31T23:00:00-08:00")
    for n, when in enumerate(dates):
        answer = httpx.post(f"{web.url}/api/v1/cases", headers=bearer("office"), json={
            "case_number": f"DATE-{n}", "amount_cny": "1万", "fraud_type": "刷单返利", "victim_name": "某",
            "victim_phone": "13800000000", "area": "jiangling.haoxue", "reported_at": when})
        bad += answer.status_code != 422
    return len(dates), bad, "each a 422 naming reported_at"


def case_number_spellings(web: Web):
    body = {"amount_cny": "1万", "fraud_type": "刷单返利", "victim_name": "某", "victim_phone": "13800000000",
            "area": "jiangling.haoxue", "reported_at": "2026-01-05T10:00:00+08:00"}
    httpx.post(f"{web.url}/api/v1/cases", headers=bearer("office"), json={**body, "case_number": "JZ-SEC-1"})
    spellings = ("jz-sec-1", "Jz-Sec-1", "ＪＺ－ＳＥＣ－１", "ｊｚ-ｓｅｃ-1")
    new = sum(httpx.post(f"{web.url}/api/v1/cases", headers=bearer("office"),
                         json={**body, "case_number": s}).status_code == 201 for s in spellings)
    return len(spellings), new, "registered again as new cases"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="lianban-security-"))
    home = folder / "var"
    env = {**os.environ, "LIANBAN_HOME": str(home), "LIANBAN_DATABASE_URL": f"sqlite:///{folder / 'lianban.db'}",
           "LIANBAN_NUDGE_ENABLED": "false", "LIANBAN_DEMO": "true", "LIANBAN_TRUSTED_PROXIES": ""}
    env.pop("PREFECT_API_URL", None)
    for command in ("migrate", "demo"):
        subprocess.run([sys.executable, "-m", "cli.main", command], env=env, cwd=ROOT, check=True, capture_output=True)
    os.environ.update({k: env[k] for k in ("LIANBAN_HOME", "LIANBAN_DATABASE_URL")})
    web = Web(folder, env, "web")
    prod = Web(folder, {**env, "LIANBAN_DEMO": "false"}, "web-production")
    rows = []
    try:
        for name, attack in [
            ("1 sign-in guesses with a new X-Forwarded-For each", lambda: forged_forwarded_for_sign_in(web)),
            ("1 verification look-ups with rotating X-Forwarded-For", lambda: forged_forwarded_for_verification(web)),
            ("1 lock another person out by failing on purpose", lambda: lock_someone_out(web)),
            ("1 guess the current password on the change form", lambda: password_change_guessing(web)),
            ("2 8 × 48 MB unauthenticated POST /login in parallel", lambda: large_bodies(web)),
            ("2 a large refused batch echoed back", lambda: echo_large_input(web)),
            ("3 re-forge the audit chain (actor changed, re-hashed)", lambda: reforge_audit_chain(web, env)),
            ("5 demo token and password outside demo mode", lambda: default_credentials(prod)),
            ("6 uploads kept under .hta/.exe/.lnk names", lambda: hostile_upload_names(web)),
            ("7 files left by refused web reports", lambda: refused_reports_leave_files(web, home)),
            ("8 implausible dates accepted or 500", lambda: implausible_dates(web)),
            ("9 case numbers in other case/width as new cases", lambda: case_number_spellings(web)),
        ]:
            started = time.monotonic()
            attempts, successes, note = attack()
            rows.append((name, attempts, successes, note, time.monotonic() - started))
    finally:
        web.stop()
        prod.stop()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"\nsecurity proof — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
          f"Python {sys.version.split()[0]}\n")
    print("| finding / attack | attempts | successes | observed |")
    print("|---|---|---|---|")
    for name, attempts, successes, note, _ in rows:
        print(f"| {name} | {attempts} | {successes} | {note} |")
    print(f"\nweb process peak RSS under the large-body attack: {getattr(web, 'peak_mb', 0):.0f} MB (target < 400 MB)")
    failed = sum(row[2] for row in rows) or getattr(web, "peak_mb", 0) >= 400
    print("RESULT:", "FAIL" if failed else "PASS (every success count is 0)")
    if args.keep:
        print(f"scratch folder kept: {folder}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
