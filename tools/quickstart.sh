#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a running gateway: installs packages, builds,
# starts redis-server, two mock backends on :8081 and :8082 and gatewayd on :8080, with TLS on
# :8443 under a self-signed demo certificate made here (run/tls/demo.crt; never checked in).
# Ctrl-C stops everything it started.
#
#   tools/quickstart.sh                the above, in the foreground
#   tools/quickstart.sh --background   (or QUICKSTART_DETACH=1) the same, detached: returns once
#                                      /readyz answers 200, PIDs in run/quickstart.pids
#   tools/quickstart.sh --stop         stops what --background started (by those PIDs only)
# BUILD_DIR (default build) is where tools/build.sh builds and the binaries are taken from.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=foreground
case "${1:-}" in
  "") [ "${QUICKSTART_DETACH:-0}" = 1 ] && mode=background ;;
  --background) mode=background ;;
  --stop) mode=stop ;;
  *) echo "usage: $0 [--background | --stop]" >&2; exit 2 ;;
esac

pid_file=run/quickstart.pids
bin=${BUILD_DIR:-build}
ready_timeout=${QUICKSTART_READY_TIMEOUT:-30}   # seconds

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Field 22 of /proc/PID/stat: start time; with the PID it names one process, even after PID reuse.
start_time() { sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20; }

# Stops the processes listed in the PID file, each only if it is still the process we started.
stop_recorded() {
  if [ ! -f "$pid_file" ]; then echo "quickstart: nothing to stop ($pid_file does not exist)"; return 0; fi
  local pid started name alive=()
  while read -r pid started name; do
    if [ -n "$pid" ] && [ "$(start_time "$pid")" = "$started" ]; then
      echo "quickstart: stopping $name (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      alive+=("$pid:$started")
    fi
  done <"$pid_file"
  # gatewayd drains for up to shutdown_timeout (10s); an idle one exits at once.
  local deadline=$((SECONDS + 15)) entry
  for entry in "${alive[@]}"; do
    while [ "$(start_time "${entry%%:*}")" = "${entry#*:}" ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    if [ "$(start_time "${entry%%:*}")" = "${entry#*:}" ]; then
      echo "quickstart: pid ${entry%%:*} did not stop within 15s; killing it" >&2
      kill -KILL "${entry%%:*}" 2>/dev/null || true
    fi
  done
  rm -f "$pid_file"
}

if [ "$mode" = stop ]; then
  stop_recorded
  exit 0
fi

if [ "$mode" = background ] && [ -f "$pid_file" ]; then
  while read -r pid started name; do
    if [ "$(start_time "$pid")" = "$started" ]; then
      echo "quickstart: already running ($name pid $pid); run $0 --stop first" >&2; exit 1
    fi
  done <"$pid_file"
  rm -f "$pid_file"
fi

bash tools/install-deps.sh
bash tools/build.sh

run_dir=$(mktemp -d /tmp/gatewayd-demo.XXXXXX)
pids=()

# TLS on :8443 with a demo certificate: the shipped config with its TLS listener turned on. With
# 8443 taken the demo runs without it.
config=config/gateway.yaml
tls_note="TLS off (port 8443 taken)"
if ! port_busy 8443; then
  bash tools/demo-cert.sh run/tls
  config=run/quickstart.yaml
  sed -e 's|^  listen: ""  *# e.g. "0.0.0.0:8443".*|  listen: "0.0.0.0:8443"|' \
      -e 's|^  certificates: \[\]  .*|  certificates: [{cert: run/tls/demo.crt, key: run/tls/demo.key}]|' \
      config/gateway.yaml >"$config"
  "$bin/gatewayd" --config "$config" --check-config >/dev/null
  tls_note="TLS on https://localhost:8443 (curl --cacert run/tls/demo.crt https://localhost:8443/)"
fi

if [ "$mode" = background ]; then
  mkdir -p run
  : >"$pid_file"
  # Children in their own session: the caller's Ctrl-C or exit does not reach them.
  launch() {
    local name=$1; shift
    setsid "$@" </dev/null >"$run_dir/$name.log" 2>&1 &
    local pid=$!
    local started=""
    for _ in $(seq 20); do started=$(start_time "$pid"); [ -n "$started" ] && break; sleep 0.05; done
    echo "$pid $started $name" >>"$pid_file"
    pids+=("$pid")
  }
  fail_start() {
    echo "quickstart: $1; logs in $run_dir" >&2
    tail -n 5 "$run_dir"/*.log >&2 || true
    stop_recorded
    exit 1
  }
  for port in 8080 9901; do
    if port_busy "$port"; then echo "quickstart: port $port is taken; stop what uses it" >&2; exit 1; fi
  done
  if port_busy 6379; then
    echo "quickstart: a Redis is already on 127.0.0.1:6379, using it"
  else
    launch redis redis-server --port 6379 --bind 127.0.0.1 --save "" --appendonly no --dir "$run_dir"
  fi
  for port in 8081 8082; do
    if port_busy "$port"; then fail_start "port $port is taken; stop what uses it"; fi
    launch "backend-$port" "$bin/gatewayd-mock-backend" --port "$port"
  done
  launch gatewayd "$bin/gatewayd" --config "$config"

  # Ready: every process alive, Redis answering, /readyz 200 (a backend is available).
  deadline=$((SECONDS + ready_timeout))
  ready=0
  while [ "$SECONDS" -lt "$deadline" ]; do
    while read -r pid started name; do
      [ "$(start_time "$pid")" = "$started" ] || fail_start "$name (pid $pid) exited"
    done <"$pid_file"
    if port_busy 6379 && port_busy 8081 && port_busy 8082 \
       && [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 http://127.0.0.1:9901/readyz)" = 200 ]; then
      ready=1; break
    fi
    sleep 0.1
  done
  [ "$ready" = 1 ] || fail_start "not ready within ${ready_timeout}s"
  cat <<MSG
gatewayd is up on http://localhost:8080 (admin http://127.0.0.1:9901, backends :8081 :8082).
$tls_note
Logs in $run_dir, PIDs in $pid_file.  Stop with:  bash $0 --stop
MSG
  exit 0
fi

stop_all() {
  trap - INT TERM EXIT
  echo
  echo "quickstart: stopping ${pids[*]:-nothing}"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_all INT TERM EXIT

if port_busy 6379; then
  echo "quickstart: a Redis is already on 127.0.0.1:6379, using it"
else
  redis-server --port 6379 --bind 127.0.0.1 --save "" --appendonly no --dir "$run_dir" \
    >"$run_dir/redis.log" 2>&1 &
  pids+=($!)
fi
for port in 8081 8082; do
  if port_busy "$port"; then echo "quickstart: port $port is taken; stop what uses it" >&2; exit 1; fi
  "$bin/gatewayd-mock-backend" --port "$port" >"$run_dir/backend-$port.log" 2>&1 &
  pids+=($!)
done

"$bin/gatewayd" --config "$config" &
pids+=($!)

for _ in $(seq 50); do port_busy 8080 && break; sleep 0.1; done
cat <<MSG

gatewayd is up on http://localhost:8080 (backends :8081 :8082, logs in $run_dir).
$tls_note
Try:  curl -i localhost:8080/
Ctrl-C stops everything.

MSG
wait "${pids[-1]}"
