#!/usr/bin/env bash
# Set up everything lianban needs on a fresh machine (Debian, Python 3.11), idempotently:
# the virtualenv with the exact pinned packages, and the project itself.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi

# Reinstall only when the lock changed since the last successful install.
stamp=.venv/.lianban-lock.sha256
want=$(sha256sum requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing pinned packages (requirements.lock)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
  echo "$want" > "$stamp"
fi
echo "setup: ready ($(.venv/bin/python -c 'import prefect, fastapi, sqlalchemy; print(f"prefect {prefect.__version__}, fastapi {fastapi.__version__}, SQLAlchemy {sqlalchemy.__version__}")'))"
