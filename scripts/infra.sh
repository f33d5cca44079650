#!/usr/bin/env bash
# Starts and stops the local infrastructure Pulse needs: Apache Kafka (KRaft,
# single node) and FerretDB (MongoDB wire protocol, SQLite backend), both on
# loopback. Builds are cached in .cache/, data and logs live in var/.
# Processes are tracked by pid files and stopped by those pids only.
#
# usage: scripts/infra.sh up|down|status|reset
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${PULSE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pulse}"
VAR="${PULSE_VAR_DIR:-$ROOT/var}"
KAFKA_LIBS="$CACHE/kafka/libs"
FERRETDB_BIN="$CACHE/ferretdb/ferretdb"
KAFKA_PORT="${PULSE_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${PULSE_KAFKA_CONTROLLER_PORT:-9093}"
MONGO_PORT="${PULSE_MONGO_PORT:-27017}"
KAFKA_HEAP="${PULSE_KAFKA_HEAP:--Xms256m -Xmx768m}"

log() { printf '[infra] %s\n' "$*" >&2; }
die() { printf '[infra] error: %s\n' "$*" >&2; exit 1; }

need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is required but not installed. $2"
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && exec 3>&- 3<&- && return 0
  return 1
}

pid_alive() {
  local pidfile="$1"
  [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

wait_port() {
  local port="$1" name="$2" seconds="$3" pidfile="$4" logfile="$5"
  for _ in $(seq 1 $((seconds * 5))); do
    if port_open "$port"; then return 0; fi
    if ! pid_alive "$pidfile"; then
      tail -n 40 "$logfile" >&2 || true
      die "$name exited during start-up (log: $logfile)"
    fi
    sleep 0.2
  done
  tail -n 40 "$logfile" >&2 || true
  die "$name did not open port $port within ${seconds}s (log: $logfile)"
}

build_kafka() {
  if [[ -f "$KAFKA_LIBS/.complete" ]] && cmp -s "$ROOT/deploy/local/kafka/pom.xml" "$KAFKA_LIBS/.pom.xml"; then
    return 0
  fi
  need java "Install a Java 17+ runtime (Debian: apt-get install openjdk-17-jre-headless)."
  need mvn "Install Apache Maven (Debian: apt-get install maven)."
  log "resolving Apache Kafka jars from Maven Central (first run only)"
  rm -rf "$KAFKA_LIBS" && mkdir -p "$KAFKA_LIBS"
  mvn -q -B -f "$ROOT/deploy/local/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$KAFKA_LIBS" -DincludeScope=runtime >&2 \
    || die "mvn could not resolve the Kafka jars (see output above)"
  cp "$ROOT/deploy/local/kafka/pom.xml" "$KAFKA_LIBS/.pom.xml"
  touch "$KAFKA_LIBS/.complete"
}

build_ferretdb() {
  local src="$ROOT/deploy/local/ferretdb"
  local stamp
  stamp="$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -d' ' -f1)"
  if [[ -x "$FERRETDB_BIN" && -f "$FERRETDB_BIN.stamp" && "$(cat "$FERRETDB_BIN.stamp")" == "$stamp" ]]; then
    return 0
  fi
  need go "Install Go 1.22+ (https://go.dev/doc/install or Debian: apt-get install golang)."
  log "building FerretDB v1.24.2 from deploy/local/ferretdb (first run only)"
  mkdir -p "$(dirname "$FERRETDB_BIN")"
  (cd "$src" && go build -trimpath -o "$FERRETDB_BIN" .) || die "go build of FerretDB failed"
  echo "$stamp" > "$FERRETDB_BIN.stamp"
}

start_kafka() {
  local pidfile="$VAR/run/kafka.pid" logfile="$VAR/log/kafka.log"
  if pid_alive "$pidfile"; then log "kafka already running (pid $(cat "$pidfile"))"; return 0; fi
  port_open "$KAFKA_PORT" && die "port $KAFKA_PORT is taken by a process we did not start"
  build_kafka
  need java "Install a Java 17+ runtime."
  local data="$VAR/kafka" config="$VAR/kafka/server.properties"
  mkdir -p "$data/logs" "$VAR/run" "$VAR/log"
  { sed -e "s/127.0.0.1:9092/127.0.0.1:$KAFKA_PORT/g" -e "s/127.0.0.1:9093/127.0.0.1:$KAFKA_CONTROLLER_PORT/g" \
      "$ROOT/deploy/local/kafka/server.properties"; echo "log.dirs=$data/logs"; } > "$config"
  local cp="$KAFKA_LIBS/*"
  if [[ ! -f "$data/logs/meta.properties" ]]; then
    log "formatting Kafka storage (once)"
    local cluster_id
    cluster_id="$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)"
    java -Dlog4j2.configurationFile="$ROOT/deploy/local/kafka/log4j2.properties" -cp "$cp" \
      kafka.tools.StorageTool format -t "$cluster_id" -c "$config" >>"$logfile" 2>&1 \
      || die "formatting Kafka storage failed (log: $logfile)"
  fi
  # Every test run creates its own namespaced topics; a broker keeps files open per partition.
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  log "starting Kafka on 127.0.0.1:$KAFKA_PORT"
  # shellcheck disable=SC2086
  nohup java $KAFKA_HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$ROOT/deploy/local/kafka/log4j2.properties" \
    -cp "$cp" kafka.Kafka "$config" >>"$logfile" 2>&1 &
  echo $! > "$pidfile"
  wait_port "$KAFKA_PORT" Kafka 90 "$pidfile" "$logfile"
}

start_ferretdb() {
  local pidfile="$VAR/run/ferretdb.pid" logfile="$VAR/log/ferretdb.log"
  if pid_alive "$pidfile"; then log "ferretdb already running (pid $(cat "$pidfile"))"; return 0; fi
  port_open "$MONGO_PORT" && die "port $MONGO_PORT is taken by a process we did not start"
  build_ferretdb
  mkdir -p "$VAR/ferretdb" "$VAR/run" "$VAR/log"
  log "starting FerretDB on 127.0.0.1:$MONGO_PORT"
  nohup "$FERRETDB_BIN" -listen "127.0.0.1:$MONGO_PORT" -data "$VAR/ferretdb/" >>"$logfile" 2>&1 &
  echo $! > "$pidfile"
  wait_port "$MONGO_PORT" FerretDB 30 "$pidfile" "$logfile"
}

stop_one() {
  local name="$1" pidfile="$VAR/run/$1.pid"
  if ! pid_alive "$pidfile"; then rm -f "$pidfile"; return 0; fi
  local pid; pid="$(cat "$pidfile")"
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then log "$name did not stop in 30s, killing"; kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$pidfile"
}

case "${1:-}" in
  build) build_kafka; build_ferretdb ;;
  up) start_ferretdb; start_kafka; log "infrastructure is up" ;;
  down) stop_one kafka; stop_one ferretdb ;;
  kafka-up) start_kafka ;;
  kafka-down) stop_one kafka ;;
  kafka-kill) pid_alive "$VAR/run/kafka.pid" && kill -KILL "$(cat "$VAR/run/kafka.pid")"; rm -f "$VAR/run/kafka.pid" ;;
  ferretdb-up) start_ferretdb ;;
  ferretdb-down) stop_one ferretdb ;;
  ferretdb-kill) pid_alive "$VAR/run/ferretdb.pid" && kill -KILL "$(cat "$VAR/run/ferretdb.pid")"; rm -f "$VAR/run/ferretdb.pid" ;;
  status)
    for n in kafka ferretdb; do
      if pid_alive "$VAR/run/$n.pid"; then echo "$n: running (pid $(cat "$VAR/run/$n.pid"))"; else echo "$n: stopped"; fi
    done ;;
  reset) "$0" down; rm -rf "$VAR/kafka" "$VAR/ferretdb"; log "data removed" ;;
  *) echo "usage: $0 build|up|down|status|reset|kafka-up|kafka-down|kafka-kill|ferretdb-up|ferretdb-down|ferretdb-kill" >&2; exit 2 ;;
esac
