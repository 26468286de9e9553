#!/usr/bin/env bash
# Set up the app on a fresh machine and start it on the bundled sample history.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -r requirements.txt

exec .venv/bin/python -m streamlit run app.py "$@"
