#!/usr/bin/env bash
# The web UI's gettext catalogues (web/i18n): extract the messages of web/ (templates and Python)
# into messages.pot, merge them into each language's .po, compile the .mo files the app loads.
# After adding UI text: run this, translate the new (empty) entries of
# web/i18n/zh_CN/LC_MESSAGES/messages.po, run it again. tests/test_web_i18n.py checks that
# nothing is left untranslated and that the committed .mo files match the .po files.
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL=.venv/bin/pybabel
$PYBABEL extract -F web/i18n/babel.cfg -k N_ -k tr:2 --no-location --sort-output \
  --project lianban --version 0.1.0 --copyright-holder lianban -o web/i18n/messages.pot web
$PYBABEL update -i web/i18n/messages.pot -d web/i18n -D messages --no-fuzzy-matching \
  --ignore-obsolete --width 100
$PYBABEL compile -d web/i18n -D messages --statistics
