#!/usr/bin/env bash
# Two gatewayd binaries side by side in one run: a report, never a test. For a change that should
# not cost anything (a refactoring), or one that should save: the same load, the same layout as
# tools/bench.sh (the gateway alone on CPU 1; wrk, the two mock backends and Redis on CPU 0),
# rounds interleaved A, B, A, B so drift on the machine hits both alike. CPU per request is the
# gateway's utime+stime over a measured wrk run divided by the requests it completed.
#   tools/bench/compare_binaries.sh OLD_GATEWAYD NEW_GATEWAYD [--rounds N] [--duration S] [--connections C]
# Modes: proxy (limiter off) and redis (limiter in Redis, limit never reached).
set -euo pipefail
cd "$(dirname "$0")/../.."

[ $# -ge 2 ] || { echo "usage: $0 OLD_GATEWAYD NEW_GATEWAYD [--rounds N] [--duration S] [--connections C]" >&2; exit 2; }
binaries=("$(realpath "$1")" "$(realpath "$2")")
shift 2
rounds=6 duration=6 warmup=2 connections=50
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
for b in "${binaries[@]}"; do [ -x "$b" ] || { echo "not an executable: $b" >&2; exit 2; }; done
mock=${MOCK_BACKEND:-build/gatewayd-mock-backend}
[ -x "$mock" ] || { echo "no $mock: build first" >&2; exit 2; }
for tool in wrk redis-server taskset; do command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 2; }; done

tmp=$(mktemp -d)
source tools/bench/common.sh

b1=$(free_port) b2=$(free_port) redis_port=$(free_port)
taskset -c $load_cpu "$mock" --port "$b1" --quiet >/dev/null 2>&1 & pids+=($!)
taskset -c $load_cpu "$mock" --port "$b2" --quiet >/dev/null 2>&1 & pids+=($!)
taskset -c $load_cpu redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
  --dir "$tmp" >/dev/null 2>&1 & pids+=($!)
wait_port "$b1"; wait_port "$b2"; wait_port "$redis_port"

declare -A port_of pid_of
modes=(proxy redis)
for i in 0 1; do
  for mode in "${modes[@]}"; do
    name="$mode-$i" port=$(free_port)
    enabled=false
    [ "$mode" = redis ] && enabled=true
    sed -e "s|@PORT@|$port|g" -e "s|@THREADS@|1|g" -e "s|@LIMIT_ENABLED@|$enabled|g" \
      -e "s|@LIMIT_REQUESTS@|1000000000|g" -e "s|@LIMIT_WINDOW@|1h|g" -e "s|@LIMIT_STORE@|redis|g" -e "s|@LIMIT_ALGORITHM@|fixed_window|g" \
      -e "s|@KEY_PREFIX@|compare:$name:|g" -e "s|@REDIS_PORT@|$redis_port|g" -e "s|@REDIS_TIMEOUT@|100ms|g" \
      -e "s|@BACKEND1@|$b1|g" -e "s|@BACKEND2@|$b2|g" tools/bench/gatewayd.yaml.in >"$tmp/$name.yaml"
    taskset -c $proxy_cpu "${binaries[$i]}" --config "$tmp/$name.yaml" >"$tmp/$name.log" 2>&1 &
    pids+=($!)
    pid_of[$name]=$! port_of[$name]=$port
    wait_port "$port"
  done
done

# One measured run: prints "req/s cpu_us_per_req".
measure() {
  local name=$1 out t0 t1 n rps
  taskset -c $load_cpu wrk -t1 -c"$connections" -d"${warmup}s" "http://127.0.0.1:${port_of[$name]}/" >/dev/null
  t0=$(ticks "${pid_of[$name]}")
  out=$(taskset -c $load_cpu wrk -t1 -c"$connections" -d"${duration}s" "http://127.0.0.1:${port_of[$name]}/")
  t1=$(ticks "${pid_of[$name]}")
  n=$(awk '/requests in/ { print $1 }' <<<"$out")
  rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
  awk -v d=$((t1 - t0)) -v t="$clk_tck" -v n="$n" -v r="$rps" 'BEGIN { printf "%.0f %.3f\n", r, d * 1e6 / t / n }'
}

declare -A samples
echo "compare: $rounds rounds x 2 modes x 2 binaries x (${warmup} + ${duration}) s" >&2
for r in $(seq 1 "$rounds"); do
  for mode in "${modes[@]}"; do
    # A, B in one round; B, A in the next.
    order=(0 1)
    [ $((r % 2)) -eq 0 ] && order=(1 0)
    for i in "${order[@]}"; do
      samples[$mode-$i]+="$(measure "$mode-$i")"$'\n'
    done
  done
done

echo "| mode | binary | req/s (median) | CPU µs/req (median) |"
echo "|---|---|---|---|"
for mode in "${modes[@]}"; do
  for i in 0 1; do
    rps=$(awk 'NF { print $1 }' <<<"${samples[$mode-$i]}" | median 3)
    cpu=$(awk 'NF { print $2 }' <<<"${samples[$mode-$i]}" | median 3)
    declare "cpu_${mode}_$i=$cpu"
    echo "| $mode | $([ "$i" = 0 ] && echo old || echo new) | $rps | $cpu |"
  done
done
for mode in "${modes[@]}"; do
  old_var="cpu_${mode}_0" new_var="cpu_${mode}_1"
  awk -v o="${!old_var}" -v n="${!new_var}" -v m="$mode" 'BEGIN { printf "%s: new/old CPU per request %.3f\n", m, n / o }'
done
echo "binaries: old ${binaries[0]}, new ${binaries[1]}; $connections connections, wrk -t1, CPU $proxy_cpu for gatewayd" \
  "($(nproc) CPUs, CLK_TCK $clk_tck)"
