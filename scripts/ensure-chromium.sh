#!/usr/bin/env bash
# Make Debian's headless Chromium available for the console's browser tests (tests/e2e/console),
# which drive /usr/bin/chromium with Playwright (no browser download). Installs it with apt-get
# when missing and running as root; otherwise says what to install and exits non-zero, so a run
# fails loudly instead of skipping. Fonts with Vietnamese glyphs come along for the screenshots.
set -euo pipefail

CHROMIUM="${PULSE_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
    echo "ensure-chromium: $CHROMIUM present"
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-chromium: $CHROMIUM is missing; install it (Debian: apt-get install chromium fonts-noto-core)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Another install step may hold the dpkg lock: wait for it rather than fail.
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends chromium fonts-noto-core fonts-liberation
echo "ensure-chromium: installed $("$CHROMIUM" --version 2>/dev/null || echo chromium)"
