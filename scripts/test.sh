#!/usr/bin/env bash
# Set up everything the test suite needs on a fresh machine, then run it.
# Installs Debian's Chromium for the browser tests when it is missing (needs
# root or sudo), makes .venv from the project's requirements, runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then apt_get="apt-get"; else apt_get="sudo apt-get"; fi
  echo "Installing Chromium for the browser tests ..."
  DEBIAN_FRONTEND=noninteractive $apt_get update -q
  DEBIAN_FRONTEND=noninteractive $apt_get install -y -q chromium chromium-driver
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -r requirements-dev.txt

exec .venv/bin/python -m pytest "$@"
