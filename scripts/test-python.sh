#!/usr/bin/env bash
# The unit suite under another supported CPython (default 3.13), in an environment of its own built from the
# same uv.lock (.cache/py<version>; the main .venv keeps its interpreter). CI runs it after `make test`, so
# Pulse is tested on at least two Pythons: the main environment's (3.11 on this machine) and this one.
#
#   scripts/test-python.sh [VERSION] [pytest args...]     e.g. scripts/test-python.sh 3.12 tests/unit/libs
#
# No CPython is downloaded (uv's builds come from outside the package registries, which are all CI reaches):
# the interpreter must already be on the machine. The first of these that runs and has the right version:
#   1. PULSE_PYTHON_<major><minor> (e.g. PULSE_PYTHON_313=/opt/python3.13/bin/python3.13);
#   2. python<VERSION> on PATH (Debian 13 and Ubuntu 25.04 ship python3.13, Ubuntu 24.04 python3.12);
#   3. pyenv's builds under ${PYENV_ROOT:-~/.pyenv}/versions/<VERSION>.* (this machine's image has 3.12.1 and
#      3.13.0 there);
#   4. /usr/local/bin and /opt/python*/bin.
# If none is found it fails and says so: a fresh Debian 12 has python3.11 only and no package of it provides
# 3.12 or 3.13, so such a machine cannot run this step without an interpreter installed by other means.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VERSION="${1:-3.13}"
[[ $# -gt 0 ]] && shift
[[ $VERSION =~ ^3\.(11|12|13)$ ]] || { echo "[test-python] supported versions: 3.11, 3.12, 3.13" >&2; exit 2; }
export UV_PYTHON_DOWNLOADS=never

log() { echo "[test-python] $*" >&2; }
is_version() { [[ -x $1 ]] && [[ $("$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) == "$VERSION" ]]; }

var="PULSE_PYTHON_${VERSION/./}"
candidates=("${!var:-}")
if found=$(command -v "python$VERSION" 2>/dev/null); then candidates+=("$found"); fi
shopt -s nullglob
candidates+=("${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$VERSION".*/bin/"python$VERSION")
candidates+=(/usr/local/bin/"python$VERSION" /opt/python*/bin/"python$VERSION")
shopt -u nullglob
PYTHON=""
for candidate in "${candidates[@]}"; do
  if [[ -n $candidate ]] && is_version "$candidate"; then PYTHON="$candidate"; break; fi
done
if [[ -z $PYTHON ]]; then
  log "error: no Python $VERSION on this machine (looked at \$$var, python$VERSION on PATH, pyenv's versions,"
  log "/usr/local/bin, /opt/python*/bin); install one, or set $var to its path"
  exit 1
fi

if ! command -v uv >/dev/null 2>&1; then
  # bootstrap.sh's private uv (it installs one if missing), else pipx's.
  cache="${PULSE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pulse}"
  compgen -G "$cache/uv-*/bin/uv" >/dev/null || scripts/bootstrap.sh
  for dir in "$cache"/uv-*/bin "${PIPX_BIN_DIR:-$HOME/.local/bin}"; do
    [[ -x $dir/uv ]] && export PATH="$dir:$PATH" && break
  done
  command -v uv >/dev/null 2>&1 || { log "error: uv is not installed (run scripts/bootstrap.sh)"; exit 1; }
fi

env_dir=".cache/py$VERSION"
log "Python $("$PYTHON" -c 'import platform; print(platform.python_version())') ($PYTHON), environment $env_dir"
UV_PROJECT_ENVIRONMENT="$env_dir" uv sync --frozen --quiet --python "$PYTHON"
# The unit suite: pure logic, no Kafka or store; the same tests as the main environment's.
if [[ $# -gt 0 ]]; then
  "$env_dir/bin/python" -m pytest "$@"
else
  "$env_dir/bin/python" -m pytest tests/unit -q
fi
