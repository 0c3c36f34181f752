#!/usr/bin/env bash
# The main job on the embedded default: SQLite + a local Prefect server + runner + task worker +
# web app, in DEMO MODE: the demo city is loaded and its public credentials (demo-<username>) work.
# Production runs `lianban up` without --demo (first start: an admin with a one-time password).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "lianban: starting in DEMO MODE (demo city, tokens and passwords demo-<username>); never on real data" >&2
exec .venv/bin/lianban up --demo "$@"
