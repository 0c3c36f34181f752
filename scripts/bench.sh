#!/usr/bin/env bash
# Set up, then run every benchmark on the embedded default (SQLite) and on PostgreSQL
# (127.0.0.1:5432, user postgres; override with LIANBAN_BENCH_PG_URL) and print one table with
# the machine, its load average and the date. Options go to bench.run_all:
#   --quick   tiny sizes, to see that everything runs (a minute or two)
#   --full    the issue's sizes (10,000 intakes per client count, 1,000 follow-ups, 1,000,000
#             open orders, 1.2 million warnings): about an hour and a half on 2 cores
#   (none)    capped sizes, printed above the table: about half an hour on 2 cores
#   --only intake,followup   --no-postgres   --out DIR
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m bench.run_all "$@"
