#!/usr/bin/env bash
# The compose broker's healthcheck (deploy/compose.yaml): answers on its loopback-only PLAINTEXT listener
# and creates each service's SCRAM-SHA-512 user once, with the password from deploy/.env. Healthy means
# "the broker answers and every user exists", so the services start only then.
# Rotating a password: change it in deploy/.env, then
#   docker compose -f deploy/compose.yaml up -d kafka
#   docker compose -f deploy/compose.yaml exec kafka /opt/pulse/scram-users.sh --rotate
#   docker compose -f deploy/compose.yaml up -d      # the services pick up the new password
set -euo pipefail
BOOTSTRAP="${PULSE_KAFKA_ADMIN_BOOTSTRAP:-127.0.0.1:9094}"
BIN="${PULSE_KAFKA_BIN:-/opt/kafka/bin}"
configs() { "$BIN/kafka-configs.sh" --bootstrap-server "$BOOTSTRAP" "$@"; }
known=$(configs --describe --entity-type users)
for svc in intake triage notify reporting; do
  var="PULSE_KAFKA_PASSWORD_${svc^^}"
  password="${!var:?$var is not set}"
  if [[ "${1:-}" == "--rotate" ]] || ! grep -q "user-principal 'pulse-$svc'" <<<"$known"; then
    configs --alter --entity-type users --entity-name "pulse-$svc" \
      --add-config "SCRAM-SHA-512=[iterations=8192,password=$password]" >/dev/null
    echo "SCRAM user pulse-$svc set"
  fi
done
