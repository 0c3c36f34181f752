#!/usr/bin/env bash
# The main job on the embedded default: SQLite + a local Prefect server + runner + web app.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/lianban up "$@"
