#!/usr/bin/env bash
# Starts the Pulse services in the background (pid files in var/run, logs in
# var/log) and waits until every /readyz answers 200; stops them by pid.
# Each service is its own process-group leader (setsid) and its pid file holds
# the service's own pid, so `down` ends the service and anything it started.
#
# usage: scripts/services.sh up|down|status
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VAR="${PULSE_VAR_DIR:-$ROOT/var}"
SERVICES=(intake triage notify reporting)
# The console joins once its package exists in this checkout.
[[ -f "$ROOT/services/console/pulse_console/__main__.py" ]] && SERVICES+=(console)
declare -A PORTS=([intake]="${PULSE_INTAKE_PORT:-8001}" [triage]="${PULSE_TRIAGE_PORT:-8002}" \
                  [notify]="${PULSE_NOTIFY_PORT:-8003}" [reporting]="${PULSE_REPORTING_PORT:-8004}" \
                  [console]="${PULSE_CONSOLE_PORT:-8000}")

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] error: %s\n' "$*" >&2; exit 1; }

alive() { [[ -f "$VAR/run/$1.pid" ]] && kill -0 "$(cat "$VAR/run/$1.pid")" 2>/dev/null; }

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && exec 3>&- 3<&- && return 0
  return 1
}

start() {
  local s="$1"
  # A port answering without our pid file is an old or foreign process: never report it as ours.
  port_open "${PORTS[$s]}" && die "port ${PORTS[$s]} ($s) is taken by a process we did not start; stop it first (ss -ltnp 'sport = :${PORTS[$s]}')"
  log "starting $s on 127.0.0.1:${PORTS[$s]}"
  cd "$ROOT"
  # Not a group leader (background job of a non-interactive shell), so setsid execs in place:
  # $! is the service's own pid.
  nohup setsid "$ROOT/.venv/bin/python" -m "pulse_$s" >>"$VAR/log/$s.log" 2>&1 </dev/null &
  echo $! > "$VAR/run/$s.pid"
}

up() {
  mkdir -p "$VAR/run" "$VAR/log"
  for s in "${SERVICES[@]}"; do
    if alive "$s"; then log "$s already running (pid $(cat "$VAR/run/$s.pid"))"; continue; fi
    start "$s"
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
      die "$s did not become ready (log: $VAR/log/$s.log)"
    fi
  done
  log "all services ready"
}

stop() {
  local s="$1" pid
  pid="$(cat "$VAR/run/$s.pid")"
  log "stopping $s (pid $pid)"
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 125); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    log "$s did not stop in 25 s, killing"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
}

down() {
  for s in intake triage notify reporting console; do
    if alive "$s"; then stop "$s"; fi
    rm -f "$VAR/run/$s.pid"
  done
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) for s in "${SERVICES[@]}"; do if alive "$s"; then echo "$s: running (pid $(cat "$VAR/run/$s.pid"))"; else echo "$s: stopped"; fi; done ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
