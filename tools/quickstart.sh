#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a running gateway: installs packages, builds,
# starts redis-server, two mock backends on :8081 and :8082 and gatewayd on :8080.
# Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/install-deps.sh
bash tools/build.sh

run_dir=$(mktemp -d /tmp/gatewayd-demo.XXXXXX)
pids=()
stop_all() {
  trap - INT TERM EXIT
  echo
  echo "quickstart: stopping ${pids[*]:-nothing}"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_all INT TERM EXIT

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if port_busy 6379; then
  echo "quickstart: a Redis is already on 127.0.0.1:6379, using it"
else
  redis-server --port 6379 --bind 127.0.0.1 --save "" --appendonly no --dir "$run_dir" \
    >"$run_dir/redis.log" 2>&1 &
  pids+=($!)
fi
for port in 8081 8082; do
  if port_busy "$port"; then echo "quickstart: port $port is taken; stop what uses it" >&2; exit 1; fi
  ./build/gatewayd-mock-backend --port "$port" >"$run_dir/backend-$port.log" 2>&1 &
  pids+=($!)
done

./build/gatewayd --config config/gateway.yaml &
pids+=($!)

for _ in $(seq 50); do port_busy 8080 && break; sleep 0.1; done
cat <<MSG

gatewayd is up on http://localhost:8080 (backends :8081 :8082, logs in $run_dir).
Try:  curl -i localhost:8080/
Ctrl-C stops everything.

MSG
wait "${pids[-1]}"
