#!/usr/bin/env bash
# The rate limiter on one Redis server and on a Redis Cluster of three primaries, side by side in
# one run: a report, never a test. Same layout and load as tools/bench/compare_binaries.sh (the
# gateway alone on CPU 1; wrk, the two mock backends and every redis-server on CPU 0), rounds
# interleaved so drift on the machine hits every mode alike. Clients are spread over 10,000
# addresses (X-Forwarded-For from a trusted 127.0.0.1), so a cluster's keys spread over its nodes;
# the limit is never reached.
#   tools/bench/redis_modes.sh [GATEWAYD] [--rounds N] [--duration S] [--connections C] [--pace RPS]
# Modes: standalone and cluster with the default rule only (one key per request), and with a
# second rule (GCRA `burst`, so two keys per request, in two slots on a cluster: decided on both
# nodes, then the GCRA rule charged: two round trips).
# Each mode runs at its peak, and paced to about --pace requests/s (default 6000, below every
# mode's peak here), where batching in the gateway's pipelines is alike for every mode.
# Per mode: requests/s, gateway CPU µs per request (utime+stime from /proc over the measured run),
# Redis CPU µs per request (every redis-server of the mode), and script runs per request (EVALSHA
# and EVAL calls from INFO commandstats of every node, divided by the requests served).
set -euo pipefail
cd "$(dirname "$0")/../.."

gatewayd=build/gatewayd
if [ $# -gt 0 ] && [[ "$1" != --* ]]; then gatewayd=$1; shift; fi
rounds=3 duration=6 warmup=2 connections=50 pace=6000
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --pace) pace=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
gatewayd=$(realpath "$gatewayd")
mock=${MOCK_BACKEND:-$(dirname "$gatewayd")/gatewayd-mock-backend}
[ -x "$gatewayd" ] || { echo "no $gatewayd: build first" >&2; exit 2; }
[ -x "$mock" ] || { echo "no $mock: build first" >&2; exit 2; }
for tool in wrk redis-server redis-cli taskset python3; do
  command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 2; }
done

tmp=$(mktemp -d)
source tools/bench/common.sh

# A cluster node also listens on its port + 10000.
free_cluster_port() {
  python3 -c '
import socket
while True:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close()
    if p > 55535: continue
    t = socket.socket()
    try:
        t.bind(("127.0.0.1", p + 10000)); print(p); break
    except OSError: pass
    finally: t.close()'
}
start_redis() {  # PORT [ARGS...]: a redis-server on CPU 0; its pid in $last_pid
  local port=$1; shift
  mkdir -p "$tmp/redis-$port"
  taskset -c $load_cpu redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$tmp/redis-$port" "$@" >"$tmp/redis-$port.log" 2>&1 &
  last_pid=$!
  pids+=("$last_pid")
  wait_port "$port"
}

b1=$(free_port) b2=$(free_port)
taskset -c $load_cpu "$mock" --port "$b1" --quiet >/dev/null 2>&1 & pids+=($!)
taskset -c $load_cpu "$mock" --port "$b2" --quiet >/dev/null 2>&1 & pids+=($!)
wait_port "$b1"; wait_port "$b2"

standalone_port=$(free_port)
start_redis "$standalone_port"
standalone_pids=("$last_pid")

cluster_ports=() cluster_pids=()
for _ in 1 2 3; do
  port=$(free_cluster_port)
  start_redis "$port" --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 5000
  cluster_ports+=("$port") cluster_pids+=("$last_pid")
done
create=()
for port in "${cluster_ports[@]}"; do create+=("127.0.0.1:$port"); done
redis-cli --cluster create "${create[@]}" --cluster-replicas 0 --cluster-yes >"$tmp/cluster-create.log" 2>&1
for _ in $(seq 1 200); do
  ok=1
  for port in "${cluster_ports[@]}"; do
    redis-cli -p "$port" cluster info | grep -q cluster_state:ok || ok=0
  done
  [ "$ok" = 1 ] && break
  sleep 0.1
done
[ "$ok" = 1 ] || { echo "the cluster did not come up" >&2; cat "$tmp/cluster-create.log" >&2; exit 1; }

# Every request from one of 10,000 client addresses, in turn.
cat >"$tmp/clients.lua" <<'LUA'
local n = 0
request = function()
  n = n + 1
  local c = n % 10000
  wrk.headers["X-Forwarded-For"] = "10." .. math.floor(c / 250) .. "." .. (c % 250) .. ".1"
  return wrk.format(nil, "/")
end
LUA
# The same, each connection waiting between its requests so that all of them make about $pace/s.
cp "$tmp/clients.lua" "$tmp/paced.lua"
awk -v c="$connections" -v r="$pace" 'BEGIN { printf "delay = function() return %.3f end\n", c * 1000 / r }' \
  >>"$tmp/paced.lua"

declare -A port_of pid_of redis_ports_of redis_pids_of
modes=(standalone cluster standalone-2rules cluster-2rules)
for mode in "${modes[@]}"; do
  port=$(free_port)
  rules="[]"
  [[ $mode == *2rules ]] && rules="[{name: burst, requests: 1000000000, window: 1h, algorithm: gcra}]"
  if [[ $mode == cluster* ]]; then
    nodes=$(printf '"127.0.0.1:%s", ' "${cluster_ports[@]}")
    redis="mode: cluster, nodes: [${nodes%, }], timeout: 100ms"
    redis_ports_of[$mode]="${cluster_ports[*]}" redis_pids_of[$mode]="${cluster_pids[*]}"
  else
    redis="address: \"127.0.0.1:$standalone_port\", timeout: 100ms"
    redis_ports_of[$mode]=$standalone_port redis_pids_of[$mode]="${standalone_pids[*]}"
  fi
  cat >"$tmp/$mode.yaml" <<YAML
listen: "127.0.0.1:$port"
admin: {listen: ""}
log: {level: warn, access_log: false}
client: {trusted_proxies: ["127.0.0.1/32"]}
health_check: {enabled: false}
backends:
  - url: http://127.0.0.1:$b1
  - url: http://127.0.0.1:$b2
rate_limit:
  requests: 1000000000
  window: 1h
  store: redis
  key_prefix: "bench:$mode:"
  rules: $rules
redis: {$redis}
YAML
  taskset -c $proxy_cpu "$gatewayd" --config "$tmp/$mode.yaml" >"$tmp/$mode.log" 2>&1 &
  pids+=($!)
  pid_of[$mode]=$! port_of[$mode]=$port
  wait_port "$port"
done

script_calls() {  # PORTS...: EVALSHA + EVAL calls so far on those nodes
  local total=0 port n
  for port in "$@"; do
    n=$(redis-cli -p "$port" info commandstats | tr -d '\r' |
        awk -F'[:=,]' '/^cmdstat_(evalsha|eval):/ { s += $3 } END { print s + 0 }')
    total=$((total + n))
  done
  echo "$total"
}
redis_ticks() {  # PIDS...
  local total=0 pid
  for pid in "$@"; do total=$((total + $(ticks "$pid"))); done
  echo "$total"
}

# One measured run: prints "req/s gateway_us_per_req redis_us_per_req scripts_per_req".
measure() {
  local mode=$1 script=$2 out t0 t1 r0 r1 s0 s1 n rps
  # shellcheck disable=SC2086
  taskset -c $load_cpu wrk -t1 -c"$connections" -d"${warmup}s" -s "$script" \
    "http://127.0.0.1:${port_of[$mode]}/" >/dev/null
  # shellcheck disable=SC2086
  s0=$(script_calls ${redis_ports_of[$mode]}); r0=$(redis_ticks ${redis_pids_of[$mode]})
  t0=$(ticks "${pid_of[$mode]}")
  out=$(taskset -c $load_cpu wrk -t1 -c"$connections" -d"${duration}s" -s "$script" \
    "http://127.0.0.1:${port_of[$mode]}/")
  t1=$(ticks "${pid_of[$mode]}")
  # shellcheck disable=SC2086
  r1=$(redis_ticks ${redis_pids_of[$mode]}); s1=$(script_calls ${redis_ports_of[$mode]})
  n=$(awk '/requests in/ { print $1 }' <<<"$out")
  rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
  if grep -q "Non-2xx" <<<"$out"; then echo "$mode: non-2xx answers: $(grep Non-2xx <<<"$out")" >&2; fi
  awk -v d=$((t1 - t0)) -v rd=$((r1 - r0)) -v t="$clk_tck" -v n="$n" -v r="$rps" -v s=$((s1 - s0)) \
    'BEGIN { printf "%.0f %.2f %.2f %.2f\n", r, d * 1e6 / t / n, rd * 1e6 / t / n, s / n }'
}

declare -A samples
loads=(peak paced)
echo "redis modes: $rounds rounds x ${#modes[@]} modes x ${#loads[@]} loads x (${warmup} + ${duration}) s" >&2
for r in $(seq 1 "$rounds"); do
  order=("${modes[@]}")
  [ $((r % 2)) -eq 0 ] && order=(cluster-2rules standalone-2rules cluster standalone)
  for mode in "${order[@]}"; do
    samples[$mode-peak]+="$(measure "$mode" "$tmp/clients.lua")"$'\n'
    samples[$mode-paced]+="$(measure "$mode" "$tmp/paced.lua")"$'\n'
  done
done

column() { awk -v c="$1" 'NF { print $c }' <<<"${samples[$2]}" | median 2; }
echo "| mode | load | keys per request | req/s | gatewayd CPU µs/req | redis CPU µs/req | script runs per request | round trips per request |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
for load in "${loads[@]}"; do
  for mode in "${modes[@]}"; do
    keys=1 trips=1
    [[ $mode == *2rules ]] && keys=2
    [[ $mode == cluster-2rules ]] && trips=2
    m=$mode-$load
    echo "| $mode | $load | $keys | $(column 1 "$m") | $(column 2 "$m") | $(column 3 "$m") | $(column 4 "$m") | $trips |"
  done
done
echo "gatewayd $gatewayd on CPU $proxy_cpu; wrk -t1 -c$connections, the backends and every redis-server on CPU $load_cpu" \
  "($(nproc) CPUs, CLK_TCK $clk_tck); paced: about $pace req/s; medians of $rounds rounds;" \
  "round trips: sequential Redis waits of one request"
for mode in "${modes[@]}"; do
  if grep -qi "unreachable\|error" "$tmp/$mode.log"; then echo "$mode log:" >&2; cat "$tmp/$mode.log" >&2; fi
done
