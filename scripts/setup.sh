#!/usr/bin/env bash
# Set up everything lianban needs on a fresh machine (Debian 12, Python 3.11), idempotently:
# Debian packages (Chromium for browser tests, CJK fonts, HarfBuzz subsetting, poppler),
# the Fandol FangSong fonts, the front-end assets from the npm registry, and the virtualenv
# with the exact pinned Python packages.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  chromium                 # browser tests (Playwright drives Debian's Chromium; no browser download)
  fonts-noto-cjk           # Noto Serif/Sans CJK SC (OFL): rare characters, headings
  fonts-hanazono           # 花园明朝 A/B: CJK Extension B (𪚥, 𤭢 …) that neither Fandol nor Noto draws
  libharfbuzz-subset0      # WeasyPrint subsets CJK fonts in ~0.15 s instead of 2-10 s
  libpango-1.0-0 libpangoft2-1.0-0   # WeasyPrint's text layout
  poppler-utils            # pdffonts / pdftoppm: tests read the PDFs back
  fontconfig
)

missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# FangSong (仿宋) for GB/T 9704 bodies: the Fandol fonts inside texlive-lang-chinese, extracted
# rather than installing all of TeX.
FONT_DIR=/usr/local/share/fonts/fandol
if [ ! -f "$FONT_DIR/FandolFang-Regular.otf" ]; then
  echo "setup: extracting the Fandol fonts from texlive-lang-chinese"
  work=$(mktemp -d)
  (cd "$work" && apt-get download texlive-lang-chinese >/dev/null 2>&1) || { apt-get update -qq && (cd "$work" && apt-get download texlive-lang-chinese >/dev/null); }
  dpkg-deb -x "$work"/texlive-lang-chinese_*.deb "$work/root"
  mkdir -p "$FONT_DIR"
  find "$work/root" -name 'Fandol*.otf' \( -name 'FandolFang*' -o -name 'FandolKai*' -o -name 'FandolSong*' -o -name 'FandolHei*' \) \
    -exec cp {} "$FONT_DIR/" \;
  rm -rf "$work"
  fc-cache -f "$FONT_DIR" >/dev/null
fi

# Front-end assets (htmx and its SSE extension) from the npm registry, served by the app itself.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing front-end assets (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

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
  .venv/bin/python -m pip --version >/dev/null 2>&1 || .venv/bin/python -m ensurepip --upgrade >/dev/null
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
  echo "$want" > "$stamp"
fi
echo "setup: ready ($(.venv/bin/python -c 'import prefect, fastapi, sqlalchemy; print(f"prefect {prefect.__version__}, fastapi {fastapi.__version__}, SQLAlchemy {sqlalchemy.__version__}")'))"
