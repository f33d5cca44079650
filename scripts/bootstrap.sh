#!/usr/bin/env bash
# Installs what Pulse needs to run and test on a fresh machine: uv, then the locked Python environment
# (.venv). Java 17, Maven and Go are checked by infra.sh.
#
# uv is installed WITHOUT touching the system Python (Debian 12 and Ubuntu 24.04 refuse `pip install` there:
# "externally-managed-environment"). The first of these that works is used:
#   1. a uv already on PATH;
#   2. a private virtual environment under ~/.cache/pulse/uv-<version> (python3 -m venv, then pip install uv
#      from PyPI inside it; on Debian/Ubuntu that needs the python3-venv package);
#   3. pipx (Debian/Ubuntu package `pipx`): `pipx install uv==<version>`.
# uv's standalone installer is not used (it downloads from GitHub). uv is told never to download a CPython
# build either: it uses an installed Python 3.11, 3.12 or 3.13 (Debian 12: python3.11; Ubuntu 24.04: 3.12;
# Debian 13: 3.13); PULSE_PYTHON picks one.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

UV_VERSION=0.13.9
CACHE="${PULSE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pulse}"
export UV_PYTHON_DOWNLOADS=never

log() { echo "[bootstrap] $*" >&2; }
die() { log "error: $*"; exit 1; }

python_ok() { "$1" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 14) else 1)' 2>/dev/null; }

PYTHON="${PULSE_PYTHON:-}"
if [[ -z $PYTHON ]]; then
  for candidate in python3 python3.13 python3.12 python3.11; do
    if command -v "$candidate" >/dev/null 2>&1 && python_ok "$candidate"; then PYTHON=$(command -v "$candidate"); break; fi
  done
fi
[[ -n $PYTHON ]] && python_ok "$PYTHON" || die "Python 3.11, 3.12 or 3.13 is required (Debian/Ubuntu: apt-get install python3 python3-venv)"

if ! command -v uv >/dev/null 2>&1; then
  venv="$CACHE/uv-$UV_VERSION"
  if [[ -x $venv/bin/uv ]] || { log "installing uv $UV_VERSION into a private venv ($venv)";
       rm -rf "$venv" && "$PYTHON" -m venv "$venv" >&2 \
       && "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION" >&2; }; then
    export PATH="$venv/bin:$PATH"
  elif command -v pipx >/dev/null 2>&1; then
    log "no venv module (apt-get install python3-venv); installing uv $UV_VERSION with pipx"
    rm -rf "$venv"
    pipx install --quiet "uv==$UV_VERSION" >&2 || die "pipx install uv==$UV_VERSION failed"
    export PATH="${PIPX_BIN_DIR:-$HOME/.local/bin}:$PATH"
  else
    rm -rf "$venv"
    die "cannot install uv without touching the system Python: apt-get install python3-venv (or pipx), or install uv"
  fi
  hash -r
fi
log "uv $(uv --version | cut -d' ' -f2), Python $("$PYTHON" -c 'import platform; print(platform.python_version())')"
if [[ -d .venv ]]; then
  uv sync --frozen --quiet   # keeps the environment's interpreter
else
  uv sync --frozen --quiet --python "$PYTHON"
fi
# The console's browser libraries (htmx, Chart.js) from its npm lockfile; the console serves them itself
# (no CDN), and its /readyz stays 503 without them. Reinstalled only when the lockfile changes.
lock=services/console/package-lock.json
if [[ -f $lock ]]; then
  command -v npm >/dev/null 2>&1 || die "npm is required for the console's assets (Debian: apt-get install npm)"
  stamp=services/console/node_modules/.pulse-lock.sha256
  want=$(sha256sum "$lock" | cut -d' ' -f1)
  if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
    log "installing the console's assets from its npm lockfile"
    npm ci --prefix services/console --no-audit --no-fund --silent >&2 || die "npm ci of the console's lockfile failed"
    echo "$want" > "$stamp"
  fi
fi
