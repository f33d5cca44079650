#!/usr/bin/env bash
# Starts the four Pulse services in the background (pid files in var/run, logs
# in var/log) and waits until every /readyz answers 200; stops them by pid.
#
# usage: scripts/services.sh up|down|status
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VAR="${PULSE_VAR_DIR:-$ROOT/var}"
SERVICES=(intake triage notify reporting)
declare -A PORTS=([intake]="${PULSE_INTAKE_PORT:-8001}" [triage]="${PULSE_TRIAGE_PORT:-8002}" \
                  [notify]="${PULSE_NOTIFY_PORT:-8003}" [reporting]="${PULSE_REPORTING_PORT:-8004}")

log() { printf '[services] %s\n' "$*" >&2; }

alive() { [[ -f "$VAR/run/$1.pid" ]] && kill -0 "$(cat "$VAR/run/$1.pid")" 2>/dev/null; }

up() {
  mkdir -p "$VAR/run" "$VAR/log"
  for s in "${SERVICES[@]}"; do
    if alive "$s"; then log "$s already running"; continue; fi
    log "starting $s on 127.0.0.1:${PORTS[$s]}"
    (cd "$ROOT" && nohup "$ROOT/.venv/bin/python" -m "pulse_$s" >>"$VAR/log/$s.log" 2>&1 & echo $! > "$VAR/run/$s.pid")
  done
  for s in "${SERVICES[@]}"; do
    local ok=0
    for _ in $(seq 1 300); do
      if curl -fsS "http://127.0.0.1:${PORTS[$s]}/readyz" >/dev/null 2>&1; then ok=1; break; fi
      if ! alive "$s"; then break; fi
      sleep 0.2
    done
    if [[ $ok -ne 1 ]]; then
      tail -n 30 "$VAR/log/$s.log" >&2 || true
      log "error: $s did not become ready (log: $VAR/log/$s.log)"; exit 1
    fi
  done
  log "all services ready"
}

down() {
  for s in "${SERVICES[@]}"; do
    if alive "$s"; then
      local pid; pid="$(cat "$VAR/run/$s.pid")"
      log "stopping $s (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 125); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$VAR/run/$s.pid"
  done
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) for s in "${SERVICES[@]}"; do if alive "$s"; then echo "$s: running"; else echo "$s: stopped"; fi; done ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
