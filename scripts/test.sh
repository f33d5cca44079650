#!/usr/bin/env bash
# `make test`: installs what is missing, starts the real Kafka and store if they
# are not running (and stops them afterwards), checks the generated event
# documents and runs every test suite. Exits non-zero if anything fails.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

scripts/bootstrap.sh
# The console's browser tests drive Debian's Chromium; the briefing tests render with LibreOffice.
scripts/ensure-chromium.sh
scripts/ensure-office.sh
started=0
status="$(scripts/infra.sh status)"
if [[ "$status" != *"kafka: running"* || "$status" != *"ferretdb: running"* || "$status" != *"postgres: running"* ]]; then
  scripts/infra.sh up
  started=1
fi
cleanup() { if [[ $started -eq 1 ]]; then scripts/infra.sh down; fi; }
trap cleanup EXIT

.venv/bin/python -m pulse_libs.events.schema --check --out docs/events
if [[ $# -gt 0 ]]; then
  .venv/bin/python -m pytest "$@"
else
  # Browser and CLI tests run in pytest processes of their own: Playwright's sync API leaves an event loop
  # marked running in the main thread (reproduced: console tests, then any async test -> "Runner.run()
  # cannot be called from a running event loop"), and the CLI tests start a stack of their own.
  .venv/bin/python -m pytest tests --ignore=tests/e2e/console --ignore=tests/integration/cli --durations=25
  .venv/bin/python -m pytest tests/e2e/console
  .venv/bin/python -m pytest tests/integration/cli
fi
