#!/usr/bin/env bash
# `make run`: installs what is missing, starts Kafka, FerretDB and the four
# services, loads the demo data, prints the URLs and stops everything on Ctrl-C.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

scripts/bootstrap.sh
cleanup() { echo; scripts/services.sh down; scripts/infra.sh down; }
trap cleanup EXIT
trap 'exit 0' INT TERM
scripts/infra.sh up
scripts/services.sh up
.venv/bin/python -m pulse_intake.demo
.venv/bin/python -m pulse_notify.demo
cat <<MSG

Pulse is running with demo data (Lào Cai: Phường Yên Bái, Văn Phú, Nam Cường, Âu Lâu):
  console    http://127.0.0.1:8000   <- open this: the web console (Vietnamese)
  intake     http://127.0.0.1:8001/docs
  triage     http://127.0.0.1:8002/docs
  notify     http://127.0.0.1:8003/docs
  reporting  http://127.0.0.1:8004/docs
Demo sign-in (password pulse-demo-2026 unless shown):
  admin               admin / pulse-admin-dev-password
  department          pham.thu.ha
  duty officer        do.minh.tuan      (department officer on the demo duty rota; paged at level 1)
  standing_committee  nguyen.van.thanh
  unit_officer        cb.yenbai         (Phường Yên Bái)
  collaborator        ctv.yenbai1       (Phường Yên Bái; report form at /reports/new)
  agency              see docs/DEMO.md
Walkthrough: docs/DEMO.md. Logs in var/log/. Press Ctrl-C to stop.
MSG
while true; do sleep 3600; done
