#!/usr/bin/env bash
# Headless Chromium for the browser tests (tests/helpers/browser.py): installs
# Debian's `chromium` package when /usr/bin/chromium is missing. Needs apt and root (or sudo).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium
/usr/bin/chromium --version
