#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests (tests/test_ui_browser*.py).
# Idempotent: does nothing when /usr/bin/chromium is already there. Never runs `playwright install`:
# Playwright drives this system Chromium through executable_path.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends chromium chromium-driver fonts-dejavu-core
/usr/bin/chromium --version || true
