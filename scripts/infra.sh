#!/usr/bin/env bash
# Starts and stops the local infrastructure Pulse needs, all on loopback: Apache
# Kafka (KRaft, single node), a private PostgreSQL cluster under var/ (Debian's
# server binaries, its own port and socket, never a system cluster) and FerretDB
# (MongoDB wire protocol) on that PostgreSQL. Builds are cached in
# ~/.cache/pulse, data and logs live in var/. Processes are tracked by pid files
# and stopped by those pids only.
#
# usage: scripts/infra.sh up|down|status|reset|build|<component>-up|-down|-kill
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${PULSE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pulse}"
VAR="${PULSE_VAR_DIR:-$ROOT/var}"
KAFKA_LIBS="$CACHE/kafka/libs"
FERRETDB_BIN="$CACHE/ferretdb/ferretdb"
KAFKA_PORT="${PULSE_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${PULSE_KAFKA_CONTROLLER_PORT:-9093}"
MONGO_PORT="${PULSE_MONGO_PORT:-27017}"
PG_PORT="${PULSE_PG_PORT:-54329}"
PG_DATA="$VAR/postgres"
PG_SOCKET_DIR="$VAR/run/postgres"
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

# The server binaries: PULSE_PG_BINDIR, else the newest Debian /usr/lib/postgresql/<v>/bin,
# else initdb on PATH. Missing and root with apt-get: install Debian's package without letting
# it create (or start) a system cluster.
pg_bindir() {
  if [[ -n "${PULSE_PG_BINDIR:-}" ]]; then echo "$PULSE_PG_BINDIR"; return 0; fi
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  if [[ -n "$d" && -x "$d/initdb" ]]; then echo "$d"; return 0; fi
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return 0; fi
  return 1
}

install_postgres() {
  if pg_bindir >/dev/null; then return 0; fi
  if [[ $EUID -ne 0 || "${PULSE_NO_APT:-}" == "1" ]] || ! command -v apt-get >/dev/null 2>&1; then
    die "PostgreSQL server binaries (initdb, pg_ctl) are missing. Install Debian's 'postgresql' package (apt-get install postgresql) or set PULSE_PG_BINDIR."
  fi
  log "installing Debian's postgresql package (no system cluster is created)"
  mkdir -p /etc/postgresql-common
  grep -qs '^create_main_cluster' /etc/postgresql-common/createcluster.conf \
    || echo "create_main_cluster = false" >> /etc/postgresql-common/createcluster.conf
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2 \
    || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2; } \
    || die "apt-get install postgresql failed"
  pg_bindir >/dev/null || die "postgresql installed but initdb was not found"
}

# PostgreSQL refuses to run as root: as root, the cluster belongs to the 'postgres' system user
# (created by Debian's package) and every server command runs as that user.
pg_user() { if [[ $EUID -eq 0 ]]; then echo postgres; else id -un; fi; }
as_pg() {
  if [[ $EUID -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start_postgres() {
  local pidfile="$VAR/run/postgres.pid" logfile="$VAR/log/postgres.log"
  if pid_alive "$pidfile"; then log "postgres already running (pid $(cat "$pidfile"))"; return 0; fi
  port_open "$PG_PORT" && die "port $PG_PORT is taken by a process we did not start"
  install_postgres
  local bin; bin="$(pg_bindir)"
  mkdir -p "$VAR/run" "$VAR/log" "$PG_SOCKET_DIR"
  touch "$logfile"
  if [[ $EUID -eq 0 ]]; then
    as_pg true
    # The server user must reach var/: grant search (x, not read) on ancestors that deny it.
    local d="$VAR"
    while [[ "$d" != "/" ]]; do
      if ! runuser -u postgres -- test -x "$d" 2>/dev/null; then log "granting o+x on $d so PostgreSQL can reach var/"; chmod o+x "$d"; fi
      d="$(dirname "$d")"
    done
    chown "$(pg_user)" "$PG_SOCKET_DIR" "$logfile"
  fi
  if [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
    log "creating the private PostgreSQL cluster in $PG_DATA (once)"
    mkdir -p "$PG_DATA"
    [[ $EUID -eq 0 ]] && chown "$(pg_user)" "$PG_DATA"
    chmod 700 "$PG_DATA"
    as_pg "$bin/initdb" -D "$PG_DATA" -U pulse -A trust -E UTF8 --locale=C.UTF-8 >>"$logfile" 2>&1 \
      || as_pg "$bin/initdb" -D "$PG_DATA" -U pulse -A trust -E UTF8 --locale=C >>"$logfile" 2>&1 \
      || { tail -n 20 "$logfile" >&2; die "initdb failed (log: $logfile)"; }
    # A test cluster: loopback only, trust auth for its own user. fsync off: a killed server
    # loses nothing (commits are in the OS page cache), only a machine crash could.
    cat >> "$PG_DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_SOCKET_DIR'
max_connections = 300
shared_buffers = 256MB
fsync = off
full_page_writes = off
synchronous_commit = on
log_min_messages = warning
CONF
  fi
  log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
  as_pg "$bin/pg_ctl" -D "$PG_DATA" -o "-p $PG_PORT -k $PG_SOCKET_DIR" -l "$logfile" -w -t 60 start >&2 \
    || { tail -n 30 "$logfile" >&2; die "PostgreSQL did not start (log: $logfile)"; }
  head -n 1 "$PG_DATA/postmaster.pid" > "$pidfile"
  if ! as_pg "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U pulse -d postgres -Atqc \
      "SELECT 1 FROM pg_database WHERE datname = 'ferretdb'" | grep -q 1; then
    as_pg "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U pulse ferretdb || die "could not create database ferretdb"
  fi
  # GIN twins of FerretDB's indexes, so that its equality pushdown is an index lookup (the file says why).
  as_pg "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U pulse -d ferretdb -v ON_ERROR_STOP=1 -Atq \
      < "$ROOT/deploy/local/postgres/ferretdb-gin-twins.sql" >/dev/null 2>>"$logfile" \
    || die "could not install the GIN-twin trigger (log: $logfile)"
}

stop_postgres() {
  local pidfile="$VAR/run/postgres.pid"
  if ! pid_alive "$pidfile"; then rm -f "$pidfile"; return 0; fi
  log "stopping postgres (pid $(cat "$pidfile"))"
  as_pg "$(pg_bindir)/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >&2 || stop_one postgres
  rm -f "$pidfile"
}

# After kill -9 the postmaster leaves postmaster.pid behind; pg_ctl start copes with a stale one.
kill_postgres() {
  pid_alive "$VAR/run/postgres.pid" && kill -KILL "$(cat "$VAR/run/postgres.pid")"
  rm -f "$VAR/run/postgres.pid"
}

start_ferretdb() {
  local pidfile="$VAR/run/ferretdb.pid" logfile="$VAR/log/ferretdb.log"
  if pid_alive "$pidfile"; then log "ferretdb already running (pid $(cat "$pidfile"))"; return 0; fi
  port_open "$MONGO_PORT" && die "port $MONGO_PORT is taken by a process we did not start"
  build_ferretdb
  pid_alive "$VAR/run/postgres.pid" || start_postgres
  mkdir -p "$VAR/run" "$VAR/log"
  log "starting FerretDB on 127.0.0.1:$MONGO_PORT (PostgreSQL 127.0.0.1:$PG_PORT)"
  # A large pool: FerretDB 1.24's metadata registry can deadlock when it is exhausted (seen here: index
  # creation held the registry lock waiting for a connection while all 40 connections were held by
  # requests waiting for that lock, and every client hung). PostgreSQL allows 300 (see start_postgres).
  nohup "$FERRETDB_BIN" -listen "127.0.0.1:$MONGO_PORT" \
    -postgresql-url "postgres://pulse@127.0.0.1:$PG_PORT/ferretdb?pool_max_conns=240" >>"$logfile" 2>&1 &
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
  build) build_kafka; build_ferretdb; install_postgres ;;
  up) start_postgres; start_ferretdb; start_kafka; log "infrastructure is up" ;;
  down) stop_one kafka; stop_one ferretdb; stop_postgres ;;
  kafka-up) start_kafka ;;
  kafka-down) stop_one kafka ;;
  kafka-kill) pid_alive "$VAR/run/kafka.pid" && kill -KILL "$(cat "$VAR/run/kafka.pid")"; rm -f "$VAR/run/kafka.pid" ;;
  ferretdb-up) start_ferretdb ;;
  ferretdb-down) stop_one ferretdb ;;
  ferretdb-kill) pid_alive "$VAR/run/ferretdb.pid" && kill -KILL "$(cat "$VAR/run/ferretdb.pid")"; rm -f "$VAR/run/ferretdb.pid" ;;
  postgres-up) start_postgres ;;
  postgres-down) stop_postgres ;;
  postgres-kill) kill_postgres ;;
  status)
    for n in kafka ferretdb postgres; do
      if pid_alive "$VAR/run/$n.pid"; then echo "$n: running (pid $(cat "$VAR/run/$n.pid"))"; else echo "$n: stopped"; fi
    done ;;
  reset)
    # Services hold connections to the data being deleted: stop them first (by their own pid
    # files, which reset never deletes), so none is left running orphaned.
    "$ROOT/scripts/services.sh" down
    "$0" down
    rm -rf "$VAR/kafka" "$VAR/ferretdb" "$PG_DATA"
    log "data removed" ;;
  *) echo "usage: $0 build|up|down|status|reset|{kafka,ferretdb,postgres}-{up,down,kill}" >&2; exit 2 ;;
esac
