#!/usr/bin/env bash
# Installs what Pulse needs to run and test on a fresh machine: uv, then the
# locked Python environment. Java 17, Maven and Go are checked by infra.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

command -v python3 >/dev/null || { echo "[bootstrap] error: python3 (3.11) is required" >&2; exit 1; }
if ! command -v uv >/dev/null 2>&1; then
  echo "[bootstrap] installing uv from PyPI" >&2
  python3 -m pip install --quiet --disable-pip-version-check uv \
    || { echo "[bootstrap] error: could not install uv (pip install uv)" >&2; exit 1; }
  hash -r
fi
uv sync --frozen --quiet
# The console's browser libraries (htmx, Chart.js) from its npm lockfile; served by the console itself.
if [ -f services/console/package-lock.json ] && command -v npm >/dev/null 2>&1; then npm ci --prefix services/console --no-audit --no-fund --silent; else echo "[bootstrap] warning: npm missing; the console's pages will lack htmx and Chart.js" >&2; fi
