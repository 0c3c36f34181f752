#!/usr/bin/env bash
# The long reliability proofs of issue #8; results go into docs/reliability.md.
#   bash scripts/prove.sh crash                    # 20 rounds of kill -9, 200 cases (~15 min)
#   bash scripts/prove.sh crash --rounds 3 --cases 20 --postgres
#   bash scripts/prove.sh short                    # 3 rounds, 20 cases (~3 min)
#   bash scripts/prove.sh fuzz [EXAMPLES]          # schemathesis at length, every role (100 examples: ~20 min)
#   bash scripts/prove.sh security                 # issue 16's attacks against running web processes (~1 min)
#   bash scripts/prove.sh all                      # crash, then fuzz
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-crash}"
shift || true
case "$what" in
  crash) exec .venv/bin/python -m proofs.crash_loop "$@" ;;
  short) exec .venv/bin/python -m proofs.crash_loop --rounds 3 --cases 20 "$@" ;;
  security) exec .venv/bin/python -m proofs.security "$@" ;;
  fuzz) LIANBAN_FUZZ_EXAMPLES="${1:-100}" exec .venv/bin/python -m pytest -q -p no:warnings tests/test_api_fuzz.py ;;
  all) .venv/bin/python -m proofs.crash_loop "$@"
       LIANBAN_FUZZ_EXAMPLES=100 exec .venv/bin/python -m pytest -q -p no:warnings tests/test_api_fuzz.py ;;
  *) echo "usage: bash scripts/prove.sh crash|short|security|fuzz|all [--rounds N] [--cases N] [--postgres] [--seed S] [--keep]" >&2; exit 2 ;;
esac
