#!/usr/bin/env bash
# Makes the TLS material of the compose stack's Kafka listener (deploy/compose.yaml, port 9093):
# a private CA and a broker certificate for the name `kafka`, in deploy/kafka/tls/ (gitignored).
#   ca.crt      the CA the services trust (PULSE_KAFKA_SSL_CAFILE)
#   broker.pem  the broker's unencrypted PKCS#8 key, its certificate and the CA (Kafka's PEM keystore)
# Idempotent: an existing CA is kept (the services keep trusting it); pass --renew to re-issue the
# broker certificate with it, --new-ca to start over (then restart Kafka and every service).
set -euo pipefail
DIR="${PULSE_KAFKA_TLS_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/tls}"
SAN="${PULSE_KAFKA_TLS_SAN:-DNS:kafka}"   # the name(s) clients connect to (compose: the service name)
DAYS_CA=3650
DAYS_BROKER=825
mkdir -p "$DIR"
chmod 700 "$DIR"
cd "$DIR"
[[ "${1:-}" == "--new-ca" ]] && rm -f ca.key ca.crt broker.pem
[[ "${1:-}" == "--renew" ]] && rm -f broker.pem
if [[ ! -f ca.key ]]; then
  openssl req -x509 -newkey rsa:3072 -nodes -sha256 -days "$DAYS_CA" -subj "/CN=Pulse Kafka CA" \
    -keyout ca.key -out ca.crt -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
fi
if [[ ! -f broker.pem ]]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$work/broker.key"
  openssl req -new -key "$work/broker.key" -subj "/CN=kafka" -out "$work/broker.csr"
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' \
    "$SAN" >"$work/ext.cnf"
  openssl x509 -req -in "$work/broker.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days "$DAYS_BROKER" \
    -extfile "$work/ext.cnf" -out "$work/broker.crt"
  cat "$work/broker.key" "$work/broker.crt" ca.crt >broker.pem
fi
chmod 600 ca.key
chmod 644 broker.pem  # readable by the broker's non-root user through the secret mount; the folder is 700
chmod 644 ca.crt
echo "Kafka TLS material in $DIR: ca.crt (trusted by the services), broker.pem (the broker's key and chain)"
