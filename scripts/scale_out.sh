#!/usr/bin/env bash
# The scale-out mode on this one machine, benchmarked beside the embedded default (docs/scaling.md).
#
#   bash scripts/scale_out.sh     # CASES=2000 CLIENTS=1,10,100 FOLLOWUPS=200 RATE=10 IDLE=30 SIDE=200
#   CASES=10000 FOLLOWUPS=1000 SIDE=1000 IDLE=60 bash scripts/scale_out.sh     # the issue's sizes
#
# 1. creates the PostgreSQL database lianban_scale if missing, prefect_scale afresh (and empties
#    Prefect's Redis database, 12);
# 2. starts the scaled topology with `lianban up` and an env file (LIANBAN_TOPOLOGY=scaled): two
#    Prefect API servers (--no-services) + the services apart + Redis, a process work pool with two
#    workers, the task worker, two web processes; waits until every part answers;
# 3. runs the intake benchmark (bench.intake --url web1 --url web2) and the follow-up benchmark
#    (bench.followup --url web1 --url web2 --prefect-url … --database-url … --pids <orchestrator>)
#    against it, then stops it;
# 4. starts the embedded default (`lianban up`, SQLite) on other ports, measures it the same way, stops it;
# 5. prints both side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY="$ROOT/.venv/bin/python"
CASES=${CASES:-2000}
CLIENTS=${CLIENTS:-1,10,100}
FOLLOWUPS=${FOLLOWUPS:-200}
RATE=${RATE:-10}
IDLE=${IDLE:-30}
SIDE=${SIDE:-200}
PG=${PG:-postgres@127.0.0.1:5432}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/12}
WORK=$(mktemp -d /tmp/lianban-scale-out-XXXXXX)
UP_PID=""

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

stop_up() {  # the supervisor stops its children (and their flow runs) on SIGTERM
  [ -n "$UP_PID" ] || return 0
  if kill -0 "$UP_PID" 2>/dev/null; then
    kill -TERM "$UP_PID" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$UP_PID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$UP_PID" 2>/dev/null || true  # its children get SIGTERM from the kernel (PR_SET_PDEATHSIG)
  fi
  wait "$UP_PID" 2>/dev/null || true
  UP_PID=""
}
trap 'stop_up; log "logs and figures in $WORK"' EXIT

wait_http() {  # url timeout-seconds
  local deadline=$((SECONDS + $2))
  until curl -sf -o /dev/null --max-time 2 "$1"; do
    kill -0 "$UP_PID" 2>/dev/null || { log "topology exited; see $WORK"; tail -30 "$WORK"/*.log >&2; exit 1; }
    [ $SECONDS -lt $deadline ] || { log "no answer from $1 within $2 s"; exit 1; }
    sleep 1
  done
}

start_up() {  # name env-file
  log "starting the $1 topology (lianban up, settings from $2)"
  ( set -a; . "$2"; set +a; exec "$ROOT/.venv/bin/lianban" up --demo ) >"$WORK/$1-up.log" 2>&1 &
  UP_PID=$!
}

# A small follow-up check of our own, used only if bench.followup lacks the options below: register
# on one web process, approve on the other, time until the case shows 包案, 10 at a time.
followup_fallback() {  # name url...
  local name=$1; shift
  "$PY" - "$FOLLOWUPS" "$@" >"$WORK/followup-$name.json" <<'EOF'
import asyncio, json, math, sys, time, uuid
import httpx
count, urls = int(sys.argv[1]), sys.argv[2:]
office, chief = {"Authorization": "Bearer demo-office"}, {"Authorization": "Bearer demo-chief"}
tag = uuid.uuid4().hex[:6]

async def one(client, i, gate):
    async with gate:
        a, b = urls[i % len(urls)], urls[(i + 1) % len(urls)]
        body = {"case_number": f"FU-{tag}-{i}", "amount_cny": "2750000", "fraud_type": "冒充领导",
                "victim_name": "张三", "victim_phone": "13800001234", "area": "jiangling.haoxue",
                "reported_at": "2026-06-09T10:15:00+08:00"}
        case = (await client.post(f"{a}/api/v1/cases", json=body, headers=office)).raise_for_status().json()
        (await client.post(f"{b}/api/v1/approvals/{case['approval']['id']}/decision",
                           json={"decision": "approve"}, headers=chief)).raise_for_status()
        decided = time.monotonic()
        while time.monotonic() - decided < 60:
            state = (await client.get(f"{a}/api/v1/cases/{case['id']}", headers=office)).json()["escalation_state"]
            if state == "taken":
                return (time.monotonic() - decided) * 1000
            await asyncio.sleep(0.25)
        return None

async def main():
    gate = asyncio.Semaphore(10)
    async with httpx.AsyncClient(timeout=30) as client:
        return await asyncio.gather(*(one(client, i, gate) for i in range(count)))

done = asyncio.run(main())
ok = sorted(v for v in done if v is not None)
pct = lambda p: round(ok[max(0, math.ceil(p / 100 * len(ok)) - 1)] / 1000, 2) if ok else None
print(json.dumps({"decision": {"n": count, "recorded": len(ok), "p50_s": pct(50), "p99_s": pct(99), "max_s": pct(100)}}))
EOF
}

orchestrator_pids() {  # name: the Prefect servers, services, workers/runner and task worker under `lianban up`
  "$PY" - "$UP_PID" "$WORK/roles-$1.json" <<'EOF'
import json, sys
import psutil
picked = {}
for p in psutil.Process(int(sys.argv[1])).children():  # the supervisor's direct children: one per role
    cmd = " ".join(p.cmdline())
    role = ("prefect-services" if "services start" in cmd else "prefect-api" if "prefect server" in cmd
            else "pool-worker" if "worker start" in cmd else "task-worker" if "task-worker" in cmd
            else "runner" if "cli.main worker" in cmd else None)
    if role:
        picked[str(p.pid)] = role
json.dump(list(picked.values()), open(sys.argv[2], "w"))
print(",".join(picked))
EOF
}

rss() {  # name: resident memory of the topology's processes by role, while it runs
  "$PY" - "$UP_PID" "$1" >"$WORK/rss-$1.json" <<'EOF'
import json, sys
import psutil
up = psutil.Process(int(sys.argv[1]))
roles = {}
for p in [up] + up.children(recursive=True):
    try:
        cmd = " ".join(p.cmdline())
        mb = p.memory_info().rss / 2**20
    except psutil.Error:
        continue
    role = ("prefect-services" if "services start" in cmd else "prefect-api" if "prefect server start" in cmd
            else "pool-worker" if "worker start" in cmd else "flow-run" if "prefect.engine" in cmd
            else "task-worker" if "task-worker" in cmd else "runner" if "cli.main worker" in cmd
            else "supervisor + web" if p.pid == up.pid and sys.argv[2] == "embedded"
            else "supervisor" if p.pid == up.pid else "web")
    n, total = roles.get(role, (0, 0))
    roles[role] = (n + 1, total + mb)
print(json.dumps({k: f"{n}× {t:.0f} MB" for k, (n, t) in sorted(roles.items())}))
EOF
}

bench_topology() {  # name database-url web-url...
  local name=$1 database=$2; shift 2
  local urls=()
  for u in "$@"; do urls+=(--url "$u"); done
  log "$name: intake, $CASES cases per client count ($CLIENTS)"
  "$PY" -m bench.intake "${urls[@]}" --cases "$CASES" --clients "$CLIENTS" --json >"$WORK/intake-$name.json" \
    2>"$WORK/intake-$name.err" || log "$name: intake reported errors (see $WORK/intake-$name.err)"
  local pids; pids=$(orchestrator_pids "$name")
  if "$PY" -m bench.followup --help 2>/dev/null | grep -q -- '--database-url'; then
    log "$name: bench.followup ${urls[*]} --prefect-url $PREFECT_URL --database-url $database --pids $pids" \
        "--processes $FOLLOWUPS --rate $RATE --idle-seconds $IDLE --side-by-side $SIDE"
    "$PY" -m bench.followup "${urls[@]}" --prefect-url "$PREFECT_URL" --database-url "$database" --pids "$pids" \
      --processes "$FOLLOWUPS" --rate "$RATE" --idle-seconds "$IDLE" --side-by-side "$SIDE" --json \
      >"$WORK/followup-$name.json" 2>"$WORK/followup-$name.err" \
      || log "$name: bench.followup failed (see $WORK/followup-$name.err)"
  else
    log "$name: bench.followup has no --database-url yet: the script's own follow-up check instead"
    followup_fallback "$name" "$@"
  fi
  rss "$name"
}

# --- 1. databases ------------------------------------------------------------------------------
# Ours is created if missing and kept (the benches tag their cases). Prefect's is scratch for a
# benchmark: it is made afresh, and its Redis database emptied, so that no scheduled runs or
# concurrency leases of an earlier run (a killed flow run holds its slot for 5 minutes) carry over.
"$PY" - "$PG" "$REDIS_URL" <<'EOF'
import sys, psycopg, redis
with psycopg.connect(f"postgresql://{sys.argv[1]}/postgres", autocommit=True) as conn:
    if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'lianban_scale'").fetchone():
        conn.execute('CREATE DATABASE "lianban_scale"')
        print("created database lianban_scale", file=sys.stderr)
    conn.execute('DROP DATABASE IF EXISTS "prefect_scale" WITH (FORCE)')
    conn.execute('CREATE DATABASE "prefect_scale"')
redis.Redis.from_url(sys.argv[2]).flushdb()
EOF

# --- 2-3. the scaled topology --------------------------------------------------------------------
cat >"$WORK/scaled.env" <<EOF
LIANBAN_TOPOLOGY=scaled
LIANBAN_HOME=$WORK/scaled-home
LIANBAN_DATABASE_URL=postgresql+psycopg://$PG/lianban_scale
LIANBAN_PREFECT_DATABASE_URL=postgresql+asyncpg://$PG/prefect_scale
LIANBAN_REDIS_URL=$REDIS_URL
LIANBAN_PREFECT_PORTS=${SCALED_PREFECT_PORTS:-4310,4311}
LIANBAN_WEB_PORTS=${SCALED_WEB_PORTS:-8310,8311}
LIANBAN_POOL_WORKERS=2
LIANBAN_WORK_POOL=lianban
EOF
IFS=, read -r P1 P2 <<<"${SCALED_PREFECT_PORTS:-4310,4311}"
IFS=, read -r W1 W2 <<<"${SCALED_WEB_PORTS:-8310,8311}"
started=$SECONDS
start_up scaled "$WORK/scaled.env"
for port in "$W1" "$W2"; do wait_http "http://127.0.0.1:$port/healthz" 240; done
for port in "$P1" "$P2"; do wait_http "http://127.0.0.1:$port/api/health" 30; done
log "scaled topology healthy after $((SECONDS - started)) s"
PREFECT_URL="http://127.0.0.1:$P1/api"
bench_topology scaled "postgresql+psycopg://$PG/lianban_scale" "http://127.0.0.1:$W1" "http://127.0.0.1:$W2"
started=$SECONDS; stop_up; log "scaled topology stopped in $((SECONDS - started)) s"

# --- 4. the embedded default, measured the same way ----------------------------------------------
E_WEB=${EMBEDDED_WEB_PORT:-8320}; E_PREFECT=${EMBEDDED_PREFECT_PORT:-4320}
cat >"$WORK/embedded.env" <<EOF
LIANBAN_HOME=$WORK/embedded-home
LIANBAN_PORT=$E_WEB
LIANBAN_PREFECT_PORT=$E_PREFECT
EOF
started=$SECONDS
start_up embedded "$WORK/embedded.env"
wait_http "http://127.0.0.1:$E_WEB/healthz" 240
log "embedded topology healthy after $((SECONDS - started)) s"
PREFECT_URL="http://127.0.0.1:$E_PREFECT/api"
bench_topology embedded "sqlite:///$WORK/embedded-home/lianban.db" "http://127.0.0.1:$E_WEB"
started=$SECONDS; stop_up; log "embedded topology stopped in $((SECONDS - started)) s"

# --- 5. side by side -----------------------------------------------------------------------------
"$PY" - "$WORK" <<'EOF'
import json, os, platform, sys
from pathlib import Path
work = Path(sys.argv[1])
def load(name):
    try:
        return json.loads((work / name).read_text())
    except (OSError, ValueError):
        return None
cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
            if l.startswith("model name")), platform.processor())
print(f"\nscale-out on one machine: {os.cpu_count()} cores, {cpu}, load average now {os.getloadavg()[0]:.1f}")
print("scaled   = PostgreSQL + 2 Prefect API servers (--no-services) + services + Redis, process pool with "
      "2 workers, task worker, 2 web processes (load round-robin)")
print("embedded = `lianban up`: SQLite + Prefect server (SQLite) + runner (serve) + task worker + 1 web process\n")
rows = {}
def put(label, name, value):
    rows.setdefault(label, {})[name] = value
for name in ("embedded", "scaled"):
    for run in (load(f"intake-{name}.json") or {"runs": []})["runs"]:
        c = f"{run['clients']:>3}"
        put(f"intake {c} clients: intakes/s", name, run["intakes_per_s"])
        put(f"intake {c} clients: POST p50 / p99 ms", name, f"{run['post_p50_ms']} / {run['post_p99_ms']}")
        put(f"intake {c} clients: errors (non-2xx)", name, f"{sum(run['errors'].values())} ({run['non_2xx']})")
    fu = load(f"followup-{name}.json") or {}
    for kind, label in (("decision", "decision → 包案"), ("deadline", "deadline → one tier up")):
        d = fu.get(kind)
        if d:
            put(f"follow-up {label}: p50 / p99 / max s", name, f"{d['p50_s']} / {d['p99_s']} / {d['max_s']}")
            put(f"follow-up {label}: recorded", name, f"{d['recorded']}/{d['n']}")
    idle = fu.get("idle_cpu_pct_of_one_core")
    if idle:
        put("orchestrator idle CPU, % of one core", name, idle["total"])
        roles = load(f"roles-{name}.json") or []
        by_role = {}
        for i, role in enumerate(roles):
            by_role[role] = round(by_role.get(role, 0) + idle.get(f"orchestrator {i}", 0), 1)
        for role, pct in by_role.items():
            put(f"  idle CPU {role} (+ its flow runs) %", name, pct)
    side = fu.get("side_by_side")
    if side:
        put("lianban / Prefect alone, per escalation", name, side.get("ratio_lianban_to_prefect"))
    up_log = (work / f"{name}-up.log").read_text(errors="replace") if (work / f"{name}-up.log").exists() else ""
    put("requests refused: PostgreSQL 'too many clients'", name, up_log.count("too many clients already") // 2)
    for role, value in (load(f"rss-{name}.json") or {}).items():
        put(f"RSS {role}", name, value)
groups = ("intake", "follow-up", "orchestrator idle", "  idle", "lianban", "requests", "RSS")
order = sorted(rows, key=lambda label: next(i for i, g in enumerate(groups + ("",)) if label.startswith(g)))
print(f"{'':46}  {'embedded':>22}  {'scaled':>22}")
for label in order:
    values = rows[label]
    print(f"{label:46}  {str(values.get('embedded', '-')):>22}  {str(values.get('scaled', '-')):>22}")
EOF
