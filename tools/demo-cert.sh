#!/usr/bin/env bash
# Makes a self-signed demo certificate for the TLS listener: DIR/demo.crt and DIR/demo.key
# (ECDSA P-256, 30 days, names localhost, 127.0.0.1 and gateway). For the quick start and the
# docker-compose TLS example only: a real deployment uses a certificate from its CA, and no key
# is ever kept in the repository (DIR is run/tls or docker/tls, both ignored by git).
#   tools/demo-cert.sh DIR          keeps an existing pair that is still valid for a day
#   tools/demo-cert.sh --force DIR  makes a new one
set -euo pipefail

force=0
if [ "${1:-}" = --force ]; then force=1; shift; fi
[ $# -eq 1 ] || { echo "usage: $0 [--force] DIR" >&2; exit 2; }
dir=$1
command -v openssl >/dev/null || { echo "demo-cert: the openssl command is needed (apt install openssl)" >&2; exit 1; }
mkdir -p "$dir"
cert=$dir/demo.crt key=$dir/demo.key
if [ "$force" = 0 ] && [ -f "$cert" ] && [ -f "$key" ] && openssl x509 -in "$cert" -noout -checkend 86400 >/dev/null 2>&1; then
  echo "demo-cert: $cert is still valid; keeping it"
  exit 0
fi
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -subj "/CN=gatewayd demo" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,DNS:gateway" \
  -keyout "$key" -out "$cert" 2>/dev/null
# The demo key must be readable by the container's gatewayd user (another uid than the host's);
# a real key is 0640 root:gatewayd (see docs/operations.md).
chmod 0644 "$cert" "$key"
echo "demo-cert: made $cert and $key (self-signed; clients trust it with --cacert $cert)"
