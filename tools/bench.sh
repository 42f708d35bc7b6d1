#!/usr/bin/env bash
# The benchmark of gatewayd (issue #6): a report, never a test. It has no thresholds and exits 0
# even when a peer misbehaves; problems are flagged in the tables. One command gives every figure of
# the issue's target table.
#
# Processes, all in front of the same two gatewayd-mock-backend --quiet processes:
#   direct             wrk -> backend 1 (the ceiling: no proxy at all)
#   nginx              nginx 1.22, one process, upstream keep-alive, no access log
#   haproxy            HAProxy 2.6, nbthread 1, http-reuse always, no log
#   gatewayd           threads: 1, rate limiter off (proxy only)
#   gatewayd-redis     threads: 1, rate limiter in Redis (limit never reached): the full chain
#   gatewayd-sliding   the same with the sliding_window algorithm
#   gatewayd-gcra      the same with the gcra algorithm
#   gatewayd-memory    threads: 1, rate limiter in process (limit never reached)
#   nginx-limit_req    nginx with limit_req (1 r/m, burst 0, status 429): every request rejected
#   gatewayd-429       gatewayd with a limit of 1 per hour: every request rejected (the 429 flood)
#   gatewayd-threads2  threads: 2, limiter off, on both CPUs (shares CPU 0 with wrk)
# plus redis-server for the Redis modes. Layout: the proxy under test alone on CPU 1; wrk, the
# backends and Redis on CPU 0. Every process listens on a free 127.0.0.1 port chosen at start and is
# stopped by PID on exit.
#
# Phases (each bounded in time):
#   rounds    wrk, interleaved rounds over all peers: req/s, p50/p99, CPU us/req from /proc
#   rate      h2load at a constant rate of 50% of nginx's peak from the rounds: p50/p99
#   idle      RSS growth per idle keep-alive client connection
#   strace    strace -f -c on the proxy during a wrk run: system calls per request
#   alloc     fresh instances with an LD_PRELOAD malloc counter: heap allocations per request
#   callgrind gatewayd under valgrind --tool=callgrind: instructions per request, top functions
#   tls       tools/bench/tls_bench.sh: TLS handshakes (ECDSA, RSA), keep-alive TLS requests, memory
#             per idle TLS connection and WebSocket echo messages, against nginx on one certificate
#
# usage: tools/bench.sh [--duration S] [--rounds N] [--warmup S] [--connections C] [--quick]
#                       [--skip PHASES] [--write-docs] [--keep-temp]
# The whole script is one { ... } block, parsed before it starts: editing it during a run is safe.
{
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
self="tools/bench.sh"

usage() {
  cat <<EOF
usage: $self [options]

  --duration S      seconds per measured wrk run (default 8)
  --rounds N        interleaved rounds over the nine peers (default 5)
  --warmup S        seconds of warm-up run before each measured run (default 2)
  --connections C   wrk connections (default 50; wrk uses one thread)
  --quick           smoke run of every phase with tiny counts (about 1.5 minutes)
  --skip PHASES     comma-separated phases to leave out: rounds,rate,idle,strace,alloc,callgrind,tls
  --write-docs      also write the tables, date and method to docs/performance.md
  --keep-temp       keep the temp dir (configs, logs, raw outputs) and print its path
  --help            print this text

Default run: about 13 minutes (rounds 9 peers x 5 x (2 + 8) s = 7.5 min, then the other phases).
EOF
}

duration="" rounds="" warmup="" connections=50 quick=0 write_docs=0 keep_temp=0 skip=""
need_arg() {
  if [ $# -lt 2 ] || ! [[ $2 =~ ^[0-9]+$ ]] || [ "$2" -eq 0 ]; then
    echo "bench: $1 needs a positive integer" >&2
    exit 2
  fi
}
while [ $# -gt 0 ]; do
  case $1 in
    --duration) need_arg "$@"; duration=$2; shift 2 ;;
    --rounds) need_arg "$@"; rounds=$2; shift 2 ;;
    --warmup) need_arg "$@"; warmup=$2; shift 2 ;;
    --connections) need_arg "$@"; connections=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    --skip)
      if [ $# -lt 2 ] || ! [[ $2 =~ ^(rounds|rate|idle|strace|alloc|callgrind|tls)(,(rounds|rate|idle|strace|alloc|callgrind|tls))*$ ]]; then
        echo "bench: --skip needs a list of rounds,rate,idle,strace,alloc,callgrind,tls" >&2
        exit 2
      fi
      skip=",$2,"; shift 2 ;;
    --write-docs) write_docs=1; shift ;;
    --keep-temp) keep_temp=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
# Sizes of the other phases: full run, or tiny ones for the smoke run.
if [ "$quick" = 1 ]; then
  duration=${duration:-1} rounds=${rounds:-1} warmup=${warmup:-1}
  rate_seconds=2 rate_warmup=1 rate_rounds=1 idle_base=20 idle_conns=100
  strace_seconds=1 alloc_seconds=1 cg_warmup=1 cg_seconds=1
else
  duration=${duration:-8} rounds=${rounds:-5} warmup=${warmup:-2}
  rate_seconds=10 rate_warmup=2 rate_rounds=3 idle_base=200 idle_conns=2000
  strace_seconds=5 alloc_seconds=5 cg_warmup=2 cg_seconds=5
fi
skipped() { [[ $skip == *",$1,"* ]]; }

log() { echo "bench: $*" >&2; }
noisy_pct=10   # a round during which other processes used this much of a CPU is left out of medians
die() { echo "bench: error: $*" >&2; exit 1; }

# ---------------------------------------------------------------- dependencies and binaries
bash tools/install-deps.sh >&2
# Only the benchmark needs these (peer, constant-rate client, tracers); install-deps.sh lacks them.
bench_packages=(haproxy nghttp2-client strace valgrind)
missing=()
for p in "${bench_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq >&2
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
for tool in wrk nginx haproxy h2load redis-server strace valgrind callgrind_control callgrind_annotate \
  taskset curl ss getconf cc od; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || die "$tool not found"
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
haproxy_bin=$(command -v haproxy || echo /usr/sbin/haproxy)

build_dir=${BUILD_DIR:-build}
if [ ! -x "$build_dir/gatewayd" ] || [ ! -x "$build_dir/gatewayd-mock-backend" ]; then
  log "binaries missing in $build_dir/, building"
  BUILD_DIR=$build_dir bash tools/build.sh >&2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gatewayd-bench.XXXXXX")
pids=()
# forget_pid PID: a reaped process leaves the list, so its number, if reused, is never signalled.
forget_pid() {
  local keep=() p
  for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  pids=("${keep[@]}")
}
# stop_pid PID: TERM, a bounded wait (5 s), then KILL.
stop_pid() {
  local i
  kill -TERM "$1" 2>/dev/null || true
  for i in $(seq 1 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  forget_pid "$1"
}
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do stop_pid "$pid"; done
  if [ "$keep_temp" = 1 ]; then log "temp dir kept: $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Copies, so that a rebuild in the checkout during the run cannot swap the binary under test.
mkdir -p "$tmp/bin"
cp "$build_dir/gatewayd" "$build_dir/gatewayd-mock-backend" "$tmp/bin/"
cc -shared -fPIC -O2 -o "$tmp/bin/alloc_count.so" tools/bench/alloc_count.c || die "cannot build alloc_count.so"
cc -O2 -o "$tmp/bin/idle_conns" tools/bench/idle_conns.c || die "cannot build idle_conns"

# Thousands of idle client connections in the idle phase.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# ---------------------------------------------------------------- CPU layout
ncpu=$(nproc)
if [ "$ncpu" -ge 2 ]; then
  proxy_cpu=1 load_cpu=0
else
  proxy_cpu=0 load_cpu=0
  log "warning: only $ncpu CPU; proxy, wrk and backends share CPU 0 (figures not comparable)"
fi
both_cpus="$load_cpu,$proxy_cpu"
clk_tck=$(getconf CLK_TCK)
# This script's own helpers (sed, awk, sleep) run on the load CPU too, never next to the proxy.
taskset -pc "$load_cpu" $$ >/dev/null

# ---------------------------------------------------------------- helpers
used_ports=" "
listening() { [ -n "$(ss -Htln "( sport = :$1 )" 2>/dev/null)" ]; }

# A free loopback port below the ephemeral range, so it never collides with wrk's own sockets.
free_port() {
  local lo hi p
  read -r lo hi </proc/sys/net/ipv4/ip_local_port_range
  for _ in $(seq 1 200); do
    if [ "$lo" -gt 12000 ]; then p=$((10000 + (RANDOM * 32768 + RANDOM) % (lo - 10000)))
    else p=$((hi + 1 + (RANDOM * 32768 + RANDOM) % (65535 - hi))); fi
    case $used_ports in *" $p "*) continue ;; esac
    if [ -z "$(ss -Htan "( sport = :$p )" 2>/dev/null)" ]; then
      used_ports+="$p "
      echo "$p"
      return 0
    fi
  done
  die "no free port found"
}

# wait_port PORT PID NAME LOGFILE [TENTHS]: bounded wait (default 10 s) until PORT listens, PID
# must stay alive.
wait_port() {
  local i
  for i in $(seq 1 "${5:-100}"); do
    kill -0 "$2" 2>/dev/null || { tail -n 20 "$4" >&2 || true; die "$3 exited during start-up (log above)"; }
    listening "$1" && return 0
    sleep 0.1
  done
  tail -n 20 "$4" >&2 || true
  die "$3 did not listen on 127.0.0.1:$1 within $(( ${5:-100} / 10 )) s"
}

# utime + stime of a whole process (all threads), in clock ticks.
cpu_ticks() {
  local line rest
  read -r line <"/proc/$1/stat" || { echo 0; return; }
  rest=${line##*) }
  # shellcheck disable=SC2086
  set -- $rest   # $1 is field 3 (state): utime is field 14, stime field 15
  echo $((${12} + ${13}))
}
rss_kib() { awk '/^VmRSS:/ { print $2; f = 1 } END { if (!f) print 0 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# Latency in wrk's notation (850.00us, 1.23ms, 2.00s) to microseconds.
to_us() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) u = 1; else if (v ~ /ms$/) u = 1000; else if (v ~ /m$/) u = 60e6; else if (v ~ /s$/) u = 1e6; else u = 1
    printf "%.1f", n * u }'
}

# Total CPU time of this shell's reaped children (user+sys), in clock ticks, from bash's `times`
# (run in this shell, not in a $(...) subshell, whose own children times start at zero).
children_ticks() {
  times >"$tmp/times.txt"
  awk -v hz="$clk_tck" 'END {
    s = 0
    for (i = 1; i <= NF; i++) { m = $i; sub(/m.*/, "", m); x = $i; sub(/^[0-9]+m/, "", x); sub(/s$/, "", x); s += m * 60 + x }
    printf "%.0f\n", s * hz }' "$tmp/times.txt"
}

# run_wrk URL SECONDS OUTFILE [CONNECTIONS]: also sets wrk_ticks, the CPU wrk used (its run is
# reaped by the time taskset returns, so it shows in the shell's children times).
run_wrk() {
  local c0 c1
  children_ticks >"$tmp/ticks.txt"
  read -r c0 <"$tmp/ticks.txt"
  taskset -c "$load_cpu" wrk -t1 -c"${4:-$connections}" -d"$2"s --latency "$1" >"$3" 2>&1 || true
  children_ticks >"$tmp/ticks.txt"
  read -r c1 <"$tmp/ticks.txt"
  wrk_ticks=$((c1 - c0))
}

# Machine-wide busy time (user+nice+system+irq+softirq, all CPUs) in clock ticks.
machine_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat; }
wrk_requests() { awk '/ requests in /{print $1; f=1} END{if(!f) print 0}' "$1"; }
wrk_non2xx() { awk '/Non-2xx or 3xx responses:/{print $NF; f=1} END{if(!f) print 0}' "$1"; }
wrk_sockerr() { awk '/Socket errors:/{gsub(",", ""); print $4+$6+$8+$10; f=1} END{if(!f) print 0}' "$1"; }
wrk_rps() { awk '/^Requests\/sec:/{print $2; f=1} END{if(!f) print 0}' "$1"; }
wrk_pct() { awk -v p="$2" '$1 == p {print $2; f=1} END{if(!f) print "0us"}' "$1"; }

fmt_ms() { awk -v v="$1" 'BEGIN { if (v == "nan" || v == "") print "–"; else printf "%.3f", v / 1000 }'; }   # µs -> ms
fmt() { awk -v v="$1" -v f="$2" 'BEGIN { if (v == "nan" || v == "") print "–"; else printf f, v }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "nan" || b == "nan" || a == "" || b == "" || b + 0 == 0) print "–"; else printf "%.2f", a / b }'; }
# median of the numbers on stdin ("nan" when none)
median_of() {
  { grep -v '^nan$' || true; } | sort -g |
    awk '{a[NR] = $1} END { if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

declare -A url pid_of port_of problems crashed
add_problem() { problems[$1]+="${problems[$1]:+; }$2"; }

# ---------------------------------------------------------------- start the backends and Redis
backend_ports=() backend_pids=()
for i in 1 2; do
  : >"$tmp/backend$i.log"
  taskset -c "$load_cpu" "$tmp/bin/gatewayd-mock-backend" --port 0 --quiet >"$tmp/backend$i.log" 2>&1 &
  pid=$!
  pids+=("$pid") backend_pids+=("$pid")
  port=""
  for _ in $(seq 1 100); do
    port=$(sed -n 's/^listening on .*:\([0-9][0-9]*\).*/\1/p' "$tmp/backend$i.log" | head -n 1 || true)
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$tmp/backend$i.log" >&2; die "mock backend $i did not start"; }
  wait_port "$port" "$pid" "mock backend $i" "$tmp/backend$i.log"
  backend_ports+=("$port")
done
b1=${backend_ports[0]} b2=${backend_ports[1]}

redis_port=$(free_port)
taskset -c "$load_cpu" redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
  --daemonize no --logfile "$tmp/redis.log" >/dev/null 2>&1 &
redis_pid=$!
pids+=("$redis_pid")
wait_port "$redis_port" "$redis_pid" redis-server "$tmp/redis.log"

# fill TEMPLATE PORT PREFIX [NAME=VALUE...]: the template with its @NAME@ placeholders filled in.
fill() {
  local args=(-e "s|@PORT@|$2|g" -e "s|@BACKEND1@|$b1|g" -e "s|@BACKEND2@|$b2|g" -e "s|@PREFIX@|$3|g"
    -e "s|@REDIS_PORT@|$redis_port|g")
  local kv
  for kv in "${@:4}"; do args+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
  sed "${args[@]}" "$1"
}

# ---------------------------------------------------------------- the peers
# start_nginx NAME TEMPLATE [PRELOAD]: one nginx process on CPU proxy_cpu; sets started_pid.
start_nginx() {
  local name=$1 dir="$tmp/$1" port
  port=$(free_port)
  mkdir -p "$dir"
  fill "$2" "$port" "$dir" >"$dir/nginx.conf"
  "$nginx_bin" -t -q -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" >&2 || die "nginx rejected $dir/nginx.conf"
  taskset -c "$proxy_cpu" env ${3:+LD_PRELOAD=$tmp/bin/alloc_count.so ALLOC_COUNT_FILE=$dir/alloc.bin} \
    "$nginx_bin" -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/stdout.log" 2>&1 &
  started_pid=$!
  pids+=("$started_pid")
  wait_port "$port" "$started_pid" "$name" "$dir/error.log"
  url[$name]="http://127.0.0.1:$port/" pid_of[$name]=$started_pid port_of[$name]=$port
}

# start_haproxy NAME [PRELOAD]
start_haproxy() {
  local name=$1 dir="$tmp/$1" port
  port=$(free_port)
  mkdir -p "$dir"
  fill tools/bench/haproxy.cfg.in "$port" "$dir" >"$dir/haproxy.cfg"
  "$haproxy_bin" -c -q -f "$dir/haproxy.cfg" >&2 || die "haproxy rejected $dir/haproxy.cfg"
  taskset -c "$proxy_cpu" env ${2:+LD_PRELOAD=$tmp/bin/alloc_count.so ALLOC_COUNT_FILE=$dir/alloc.bin} \
    "$haproxy_bin" -db -f "$dir/haproxy.cfg" >"$dir/haproxy.log" 2>&1 &
  started_pid=$!
  pids+=("$started_pid")
  wait_port "$port" "$started_pid" "$name" "$dir/haproxy.log"
  url[$name]="http://127.0.0.1:$port/" pid_of[$name]=$started_pid port_of[$name]=$port
}

# The gatewayd modes: threads, limiter enabled, requests, window, store, CPUs, algorithm.
declare -A gw_mode
gw_mode[gatewayd]="1 false 100 1m memory $proxy_cpu fixed_window"
gw_mode[gatewayd-redis]="1 true 1000000000 1h redis $proxy_cpu fixed_window"
gw_mode[gatewayd-sliding]="1 true 1000000000 1h redis $proxy_cpu sliding_window"
gw_mode[gatewayd-gcra]="1 true 1000000000 1h redis $proxy_cpu gcra"
gw_mode[gatewayd-memory]="1 true 1000000000 1h memory $proxy_cpu fixed_window"
gw_mode[gatewayd-429]="1 true 1 1h redis $proxy_cpu fixed_window"
gw_mode[gatewayd-threads2]="2 false 100 1m memory $both_cpus fixed_window"

# start_gatewayd NAME [PRELOAD|valgrind]
start_gatewayd() {
  local name=$1 dir="$tmp/$1" port threads enabled requests window store cpus algorithm wrapper=() tenths=100
  local redis_timeout=100ms   # the default; under valgrind every command would time out
  read -r threads enabled requests window store cpus algorithm <<<"${gw_mode[${name%%+*}]}"
  port=$(free_port)
  mkdir -p "$dir"
  fill tools/bench/gatewayd.yaml.in "$port" "$dir" THREADS="$threads" LIMIT_ENABLED="$enabled" \
    LIMIT_REQUESTS="$requests" LIMIT_WINDOW="$window" LIMIT_STORE="$store" LIMIT_ALGORITHM="$algorithm" \
    KEY_PREFIX="bench:$name:" REDIS_TIMEOUT="$redis_timeout" >"$dir/gatewayd.yaml"
  "$tmp/bin/gatewayd" --config "$dir/gatewayd.yaml" --check-config >/dev/null ||
    die "gatewayd rejected $dir/gatewayd.yaml"
  case ${2:-} in
    preload) wrapper=(env LD_PRELOAD="$tmp/bin/alloc_count.so" ALLOC_COUNT_FILE="$dir/alloc.bin") ;;
    valgrind)
      wrapper=(valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out" --dump-instr=no -q)
      tenths=600 redis_timeout=5s ;;
  esac
  taskset -c "$cpus" "${wrapper[@]}" "$tmp/bin/gatewayd" --config "$dir/gatewayd.yaml" >"$dir/gatewayd.log" 2>&1 &
  started_pid=$!
  pids+=("$started_pid")
  wait_port "$port" "$started_pid" "$name" "$dir/gatewayd.log" "$tenths"
  url[$name]="http://127.0.0.1:$port/" pid_of[$name]=$started_pid port_of[$name]=$port
}

start_nginx nginx tools/bench/nginx.conf.in
start_haproxy haproxy
start_nginx nginx-limit_req tools/bench/nginx-limit_req.conf.in
gw_peers=(gatewayd gatewayd-redis gatewayd-sliding gatewayd-gcra gatewayd-memory gatewayd-429 gatewayd-threads2)
for m in "${gw_peers[@]}"; do start_gatewayd "$m"; done
url[direct]="http://127.0.0.1:$b1/" pid_of[direct]=""

peers=(direct nginx haproxy gatewayd gatewayd-redis gatewayd-sliding gatewayd-gcra gatewayd-memory nginx-limit_req
  gatewayd-429 gatewayd-threads2)
declare -A expect uses_redis
for p in "${peers[@]}"; do expect[$p]=200; crashed[$p]=0; done
expect[nginx-limit_req]=429 expect[gatewayd-429]=429
uses_redis[gatewayd-redis]=1 uses_redis[gatewayd-sliding]=1 uses_redis[gatewayd-gcra]=1 uses_redis[gatewayd-429]=1

# One plain request through each peer: 200 and the mock backend's body (the flood peers: the first
# request passes, then 429).
for p in "${peers[@]}"; do
  body=$(curl -s -m 5 -o - -w '\n%{http_code}' "${url[$p]}" || true)
  code=${body##*$'\n'}
  if [ "$code" != 200 ] || [[ $body != *"Response from backend on port"* ]]; then
    add_problem "$p" "sanity GET / answered ${code:-nothing}"
    log "warning: $p sanity request: status ${code:-none}"
  fi
  if [ "${expect[$p]}" = 429 ]; then
    code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "${url[$p]}" || true)
    [ "$code" = 429 ] || { add_problem "$p" "second request answered ${code:-nothing}, not 429"; log "warning: $p: second request $code"; }
  fi
done

# ---------------------------------------------------------------- versions and machine
cpu_model=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)
nginx_version=$("$nginx_bin" -v 2>&1 | sed 's/^nginx version: nginx\///' || true)
haproxy_version=$("$haproxy_bin" -v 2>&1 | awk 'NR == 1 {print $3}' || true)
redis_version=$(redis-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p' || true)
h2load_version=$(h2load --version 2>&1 | awk '{print $2; exit}' || true)
valgrind_version=$(valgrind --version 2>&1 || true)
strace_version=$(strace -V 2>&1 | awk 'NR == 1 {print $NF}' || true)
wrk_version=$(wrk -v 2>&1 | head -n 1 | awk '{print $2}' || true)
gw_version=$("$tmp/bin/gatewayd" --version 2>&1 | head -n 1 || true)
git_rev=$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)
kernel=$(uname -r)
date_utc=$(date -u '+%Y-%m-%d %H:%M UTC')
cmdline="bash $self"
[ "$quick" = 1 ] && cmdline+=" --quick"
cmdline+=" --duration $duration --rounds $rounds --warmup $warmup --connections $connections"
[ -n "$skip" ] && cmdline+=" --skip ${skip:1:-1}"

echo "machine:  $ncpu CPUs, $cpu_model, Linux $kernel"
echo "versions: nginx $nginx_version; HAProxy $haproxy_version; Redis $redis_version; wrk $wrk_version; h2load $h2load_version; ${gw_version:-gatewayd} (git $git_rev)"
echo "command:  $cmdline"
# Other work on the machine (a compiler, tests) makes every figure noisy: sample the CPUs for 2 s
# before any load starts (our processes are idle then) and say so.
busy_idle() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat; }
read -r busy0 idle0 < <(busy_idle)
sleep 2
read -r busy1 idle1 < <(busy_idle)
bg_pct=$(awk -v b=$((busy1 - busy0)) -v i=$((idle1 - idle0)) -v n="$ncpu" \
  'BEGIN { t = b + i; printf "%.0f", (t > 0 ? 100 * n * b / t : 0) }')
load_note="background CPU use before the run: ${bg_pct}% of one CPU (load average $(cut -d' ' -f1 /proc/loadavg))"
if [ "$bg_pct" -ge 10 ]; then
  load_note+=" -- WARNING: other processes are busy, figures are noisy"
  log "warning: ${bg_pct}% of one CPU busy with other processes before the run; figures will be noisy"
fi

# ---------------------------------------------------------------- phase: rounds
results="$tmp/results.tsv"
: >"$results"
backends_ticks() { echo $(( $(cpu_ticks "${backend_pids[0]}") + $(cpu_ticks "${backend_pids[1]}") )); }

# check_died PEER WHEN: flag (once) a peer whose process is gone.
check_died() {
  local ppid=${pid_of[$1]} st
  if [ -n "$ppid" ] && [ "${crashed[$1]}" = 0 ] && ! kill -0 "$ppid" 2>/dev/null; then
    crashed[$1]=1
    wait "$ppid" 2>/dev/null && st=0 || st=$?
    forget_pid "$ppid"
    add_problem "$1" "process died during $2 (exit status $st)"
    log "warning: $1 died during $2 (exit status $st)"
  fi
}

# check_answers PEER WHAT REQUESTS NON2XX SOCKERR: wrong answers of a wrk run go to the checks.
check_answers() {
  local p=$1 what=$2 n=$3 nx=$4 se=$5
  if [ "${expect[$p]}" = 429 ]; then
    # Every answer must be the rejection; nginx's 1 r/m lets at most one through per minute.
    [ $((n - nx)) -le 1 ] || add_problem "$p" "$what: $((n - nx)) answers were not rejected"
  else
    [ "$nx" = 0 ] || add_problem "$p" "$what: $nx non-2xx"
  fi
  [ "$se" = 0 ] || add_problem "$p" "$what: $se socket errors"
}

if ! skipped rounds; then
  log "rounds: about $(( ${#peers[@]} * rounds * (warmup + duration) )) s ($rounds rounds x ${#peers[@]} peers x (${warmup} + ${duration}) s)"
  for r in $(seq 1 "$rounds"); do
    for p in "${peers[@]}"; do
      [ "${crashed[$p]}" = 1 ] && continue
      ppid=${pid_of[$p]}
      run_wrk "${url[$p]}" "$warmup" "$tmp/wrk-$p-$r-warmup.txt"
      check_answers "$p" "round $r warm-up" "$(wrk_requests "$tmp/wrk-$p-$r-warmup.txt")" \
        "$(wrk_non2xx "$tmp/wrk-$p-$r-warmup.txt")" "$(wrk_sockerr "$tmp/wrk-$p-$r-warmup.txt")"

      m0=$(machine_ticks)
      p0=0; [ -n "$ppid" ] && p0=$(cpu_ticks "$ppid")
      b0=$(backends_ticks) r0=$(cpu_ticks "$redis_pid")
      out="$tmp/wrk-$p-$r.txt"
      redis-cli -p "$redis_port" config resetstat >/dev/null
      run_wrk "${url[$p]}" "$duration" "$out"
      p1=0; [ -n "$ppid" ] && p1=$(cpu_ticks "$ppid")
      b1t=$(backends_ticks) r1=$(cpu_ticks "$redis_pid")
      # Redis's own time per limit check (INFO commandstats), for the Redis limiter modes.
      redis_call=$(redis-cli -p "$redis_port" info commandstats | tr -d '\r' |
        sed -n 's/^cmdstat_evalsha:.*usec_per_call=\([0-9.]*\).*/\1/p')
      echo "$p $r ${redis_call:-nan}" >>"$tmp/redis-calls.txt"
      m1=$(machine_ticks)
      # CPU used by anything else on the machine during the run, in % of one CPU.
      other=$(awk -v m=$((m1 - m0 - (p1 - p0) - (b1t - b0) - (r1 - r0) - wrk_ticks)) -v t="$clk_tck" -v d="$duration" \
        'BEGIN { o = 100 * m / t / d; printf "%.0f", (o < 0 ? 0 : o) }')

      check_died "$p" "round $r"
      n=$(wrk_requests "$out") rps=$(wrk_rps "$out")
      non2xx=$(wrk_non2xx "$out") sockerr=$(wrk_sockerr "$out")
      p50=$(to_us "$(wrk_pct "$out" 50%)") p99=$(to_us "$(wrk_pct "$out" 99%)")
      check_answers "$p" "round $r" "$n" "$non2xx" "$sockerr"
      if [ "$n" = 0 ]; then
        add_problem "$p" "round $r: no request completed"
        pcpu=nan bcpu=nan rcpu=nan
      else
        per_req() { awk -v d="$1" -v t="$clk_tck" -v n="$n" 'BEGIN{printf "%.2f", d * 1e6 / t / n}'; }
        pcpu=$(per_req $((p1 - p0))) bcpu=$(per_req $((b1t - b0))) rcpu=$(per_req $((r1 - r0)))
      fi
      [ -z "$ppid" ] && pcpu=nan
      [ -n "${uses_redis[$p]:-}" ] || rcpu=nan
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$p" "$r" "$rps" "$p50" "$p99" "$pcpu" "$bcpu" \
        "$n" "$non2xx" "$sockerr" "$other" "$rcpu" >>"$results"
      log "$(printf 'round %d/%d %-17s %9s req/s  p50 %8s us  p99 %8s us  proxy CPU %6s us/req  non-2xx %s  sock err %s  other CPU %s%%' \
        "$r" "$rounds" "$p" "$rps" "$p50" "$p99" "$pcpu" "$non2xx" "$sockerr" "$other")"
    done
  done
fi

# Rounds used for a peer's medians: the quiet ones, or all of them when none was quiet.
quiet_rounds() { awk -F'\t' -v p="$1" -v q="$noisy_pct" '$1 == p && $11 < q' "$results" | wc -l; }
median() { # median PEER COLUMN
  local limit=$noisy_pct
  [ "$(quiet_rounds "$1")" -gt 0 ] || limit=1000
  awk -F'\t' -v p="$1" -v c="$2" -v q="$limit" '$1 == p && $11 < q {print $c}' "$results" | median_of
}
declare -A m_rps m_cpu m_p50 m_p99 m_bcpu m_rcpu
for p in "${peers[@]}"; do
  m_rps[$p]=$(median "$p" 3) m_p50[$p]=$(median "$p" 4) m_p99[$p]=$(median "$p" 5)
  m_cpu[$p]=$(median "$p" 6) m_bcpu[$p]=$(median "$p" 7) m_rcpu[$p]=$(median "$p" 12)
done
sum_or_nan() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "nan" || b == "nan") print "nan"; else print a + b }'; }

# ---------------------------------------------------------------- phase: constant rate
# h2load (HTTP/1.1, one connection per client, each client at rate/C requests per second) at half of
# nginx's median peak req/s from the rounds; latencies from its per-request log.
rate_peers=(nginx haproxy gatewayd gatewayd-redis)
rate_results="$tmp/rate.tsv"
: >"$rate_results"
target_rate=nan
if ! skipped rate; then
  if [ "${m_rps[nginx]}" = nan ]; then
    log "rate: no nginx peak from the rounds, phase skipped"
  else
    target_rate=$(awk -v r="${m_rps[nginx]}" 'BEGIN { printf "%.0f", r / 2 }')
    per_client=$(awk -v r="$target_rate" -v c="$connections" 'BEGIN { printf "%.2f", r / c }')
    log "rate: $target_rate req/s ($connections clients x $per_client), $rate_rounds round(s) x ${#rate_peers[@]} peers x (${rate_warmup} + ${rate_seconds}) s"
    for r in $(seq 1 "$rate_rounds"); do
      for p in "${rate_peers[@]}"; do
        [ "${crashed[$p]}" = 1 ] && continue
        out="$tmp/h2load-$p-$r.txt" lat="$tmp/h2load-$p-$r.log"
        p0=$(cpu_ticks "${pid_of[$p]}")
        taskset -c "$load_cpu" timeout $((rate_warmup + rate_seconds + 30)) h2load --h1 -t1 -c"$connections" \
          --rps="$per_client" -D "$rate_seconds" --warm-up-time="$rate_warmup" --log-file="$lat" \
          "${url[$p]}" >"$out" 2>&1 || add_problem "$p" "rate round $r: h2load failed"
        p1=$(cpu_ticks "${pid_of[$p]}")
        check_died "$p" "rate round $r"
        achieved=$(awk '/^finished in/ { gsub(",", ""); print $4; f = 1 } END { if (!f) print 0 }' "$out")
        # columns: start time us, status, us until end of response
        n=$(wc -l <"$lat" 2>/dev/null || echo 0) bad=$(awk '$2 != 200' "$lat" 2>/dev/null | wc -l)
        read -r p50 p99 < <(awk '{ print $3 }' "$lat" 2>/dev/null | sort -n | awk '{ a[NR] = $1 } END {
          if (NR == 0) { print "nan", "nan"; exit }
          i50 = int(NR * 0.50); if (i50 < 1) i50 = 1; i99 = int(NR * 0.99); if (i99 < 1) i99 = 1
          print a[i50], a[i99] }')
        n=${n:-0} bad=${bad:-0}
        [ "$bad" = 0 ] || add_problem "$p" "rate round $r: $bad answers not 200"
        [ "$n" -gt 0 ] || add_problem "$p" "rate round $r: no request logged"
        pcpu=$(awk -v d=$((p1 - p0)) -v t="$clk_tck" -v n="$n" -v w="$rate_warmup" -v s="$rate_seconds" \
          'BEGIN { if (n == 0) print "nan"; else printf "%.2f", d * 1e6 / t / (n * (w + s) / s) }')
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$p" "$r" "$achieved" "${p50:-nan}" "${p99:-nan}" "$pcpu" "$n" >>"$rate_results"
        log "$(printf 'rate round %d/%d %-15s %9s req/s  p50 %8s us  p99 %8s us  proxy CPU %6s us/req' \
          "$r" "$rate_rounds" "$p" "$achieved" "${p50:-nan}" "${p99:-nan}" "$pcpu")"
      done
    done
  fi
fi
rate_median() { awk -F'\t' -v p="$1" -v c="$2" '$1 == p {print $c}' "$rate_results" | median_of; }

# ---------------------------------------------------------------- phase: idle connections
# RSS growth of the proxy between idle_base and idle_base + idle_conns idle keep-alive clients,
# each past one request; the base absorbs what earlier traffic left in the allocator's free lists.
idle_peers=(nginx haproxy gatewayd)
idle_results="$tmp/idle.tsv"
: >"$idle_results"
# hold_idle PORT COUNT TAG: start idle_conns and wait (bounded) for its "ready" line; sets hold_pid.
hold_idle() {
  local i
  rm -f "$tmp/idle-$3.release"
  taskset -c "$load_cpu" "$tmp/bin/idle_conns" "$1" "$2" "$tmp/idle-$3.release" 120 >"$tmp/idle-$3.out" 2>&1 &
  hold_pid=$!
  pids+=("$hold_pid")
  for i in $(seq 1 600); do
    grep -q '^ready' "$tmp/idle-$3.out" && return 0
    kill -0 "$hold_pid" 2>/dev/null || break
    sleep 0.1
  done
  return 1
}
if ! skipped idle; then
  log "idle: $idle_base then $((idle_base + idle_conns)) idle keep-alive connections per peer"
  for p in "${idle_peers[@]}"; do
    [ "${crashed[$p]}" = 1 ] && continue
    ppid=${pid_of[$p]}
    hold_idle "${port_of[$p]}" "$idle_base" "$p-base" || add_problem "$p" "idle: base connections not ready"
    base_pid=$hold_pid
    sleep 0.5   # the proxy may finish a read it was woken for; RSS of a settled process
    rss0=$(rss_kib "$ppid")
    hold_idle "${port_of[$p]}" "$idle_conns" "$p-more" || add_problem "$p" "idle: connections not ready"
    more_pid=$hold_pid
    sleep 0.5
    rss1=$(rss_kib "$ppid")
    touch "$tmp/idle-$p-base.release" "$tmp/idle-$p-more.release"
    for _ in $(seq 1 100); do kill -0 "$base_pid" 2>/dev/null || kill -0 "$more_pid" 2>/dev/null || break; sleep 0.1; done
    wait "$base_pid" 2>/dev/null || add_problem "$p" "idle: some base connection failed"
    wait "$more_pid" 2>/dev/null || add_problem "$p" "idle: some connection failed"
    forget_pid "$base_pid"; forget_pid "$more_pid"
    ready=$(awk '/^ready/ {print $2}' "$tmp/idle-$p-more.out") still=$(awk '/^open/ {print $2}' "$tmp/idle-$p-more.out")
    [ "${still:-0}" = "$idle_conns" ] || add_problem "$p" "idle: ${still:-0} of $idle_conns connections still open at the end"
    check_died "$p" "idle connections"
    per=$(awk -v a="$rss0" -v b="$rss1" -v n="$idle_conns" 'BEGIN { printf "%.2f", (b - a) / n }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$p" "$rss0" "$rss1" "${ready:-0}" "${still:-0}" "$per" >>"$idle_results"
    log "idle $p: RSS $rss0 -> $rss1 KiB with $idle_conns more connections (${ready:-0} ready, ${still:-0} still open): $per KiB each"
  done
fi

# Lines gatewayd logged (level warn) while it served the load phases; tracing comes later and may
# slow it past redis.timeout, so lines from then on are reported apart.
declare -A log_lines_before_tracing
for p in "${gw_peers[@]}"; do
  log_lines_before_tracing[$p]=$(wc -l <"$tmp/$p/gatewayd.log")
done

# ---------------------------------------------------------------- phase: strace
# strace -f -c attached to the proxy (all threads) while wrk runs; calls / requests wrk completed.
# wrk's connect and close of its connections are included (negligible over thousands of requests).
strace_peers=(nginx haproxy gatewayd gatewayd-redis gatewayd-memory gatewayd-429)
strace_results="$tmp/strace.tsv"
: >"$strace_results"
if ! skipped strace; then
  log "strace: ${#strace_peers[@]} peers x (1 + $strace_seconds) s"
  for p in "${strace_peers[@]}"; do
    [ "${crashed[$p]}" = 1 ] && continue
    so="$tmp/strace-$p.txt"
    run_wrk "${url[$p]}" 1 "$tmp/wrk-strace-$p-warmup.txt"
    taskset -c "$load_cpu" strace -f -c -S calls -o "$so" -p "${pid_of[$p]}" 2>"$tmp/strace-$p.err" &
    st_pid=$!
    pids+=("$st_pid")
    for _ in $(seq 1 100); do grep -q 'attached' "$tmp/strace-$p.err" 2>/dev/null && break; sleep 0.1; done
    sleep 0.2   # strace reports attachment before every thread is stopped and resumed under it
    run_wrk "${url[$p]}" "$strace_seconds" "$tmp/wrk-strace-$p.txt"
    kill -INT "$st_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$st_pid" 2>/dev/null || break; sleep 0.1; done
    stop_pid "$st_pid"
    check_died "$p" "strace"
    n=$(wrk_requests "$tmp/wrk-strace-$p.txt")
    check_answers "$p" "strace run" "$n" "$(wrk_non2xx "$tmp/wrk-strace-$p.txt")" "$(wrk_sockerr "$tmp/wrk-strace-$p.txt")"
    total=$(awk '$NF == "total" { print $4; f = 1 } END { if (!f) print 0 }' "$so" 2>/dev/null || echo 0)
    top=$(awk -v n="$n" '/^-/ { sep++; next } sep == 1 && NF >= 5 { printf "%s %.2f, ", $NF, $4 / n }' "$so" 2>/dev/null |
      sed 's/, $//' | cut -d, -f1-5 || true)
    per=$(awk -v t="$total" -v n="$n" 'BEGIN { if (n == 0 || t == 0) print "nan"; else printf "%.2f", t / n }')
    [ "$per" = nan ] && add_problem "$p" "strace: no count (see $(basename "$so"))"
    printf '%s\t%s\t%s\t%s\t%s\n' "$p" "$n" "$total" "$per" "$top" >>"$strace_results"
    log "strace $p: $total calls / $n requests = $per per request ($top)"
  done
fi

# ---------------------------------------------------------------- phase: allocations
# A fresh instance of each peer with the malloc counter preloaded: warm-up run, then the counter
# delta over a measured run / requests wrk completed. Stopped right after.
alloc_peers=(nginx haproxy gatewayd gatewayd-redis gatewayd-memory gatewayd-429)
alloc_results="$tmp/alloc.tsv"
: >"$alloc_results"
read_allocs() { od -An -t u8 -v -N 48 "$1" 2>/dev/null | tr -s ' \n' ' ' | awk '{ print $6 + 0, $5 + 0 }'; }
if ! skipped alloc; then
  log "alloc: ${#alloc_peers[@]} peers x ($warmup + $alloc_seconds) s"
  for p in "${alloc_peers[@]}"; do
    name="$p+alloc"
    case $p in
      nginx) start_nginx "$name" tools/bench/nginx.conf.in preload ;;
      haproxy) start_haproxy "$name" preload ;;
      *) start_gatewayd "$name" preload ;;
    esac
    apid=$started_pid
    curl -s -m 5 -o /dev/null "${url[$name]}" || true   # a 429 peer's first request passes
    run_wrk "${url[$name]}" "$warmup" "$tmp/wrk-alloc-$p-warmup.txt"
    read -r a0 f0 < <(read_allocs "$tmp/$name/alloc.bin")
    run_wrk "${url[$name]}" "$alloc_seconds" "$tmp/wrk-alloc-$p.txt"
    read -r a1 f1 < <(read_allocs "$tmp/$name/alloc.bin")
    n=$(wrk_requests "$tmp/wrk-alloc-$p.txt")
    check_answers "$p" "alloc run" "$n" "$(wrk_non2xx "$tmp/wrk-alloc-$p.txt")" "$(wrk_sockerr "$tmp/wrk-alloc-$p.txt")"
    kill -0 "$apid" 2>/dev/null || add_problem "$p" "died under the malloc counter"
    stop_pid "$apid"
    per=$(awk -v a=$((a1 - a0)) -v n="$n" 'BEGIN { if (n == 0) print "nan"; else printf "%.3f", a / n }')
    fper=$(awk -v a=$((f1 - f0)) -v n="$n" 'BEGIN { if (n == 0) print "nan"; else printf "%.3f", a / n }')
    [ "$a0" -gt 0 ] || add_problem "$p" "alloc: the counter saw nothing (not preloaded?)"
    printf '%s\t%s\t%s\t%s\t%s\n' "$p" "$n" "$((a1 - a0))" "$per" "$fper" >>"$alloc_results"
    log "alloc $p: $((a1 - a0)) allocations / $n requests = $per per request (frees $fper)"
  done
fi

# ---------------------------------------------------------------- phase: callgrind
# gatewayd (threads: 1) under callgrind: warm-up with wrk -c1, zero the counters, a measured wrk
# -c1 run, dump; instructions (Ir) of the dump / requests wrk completed.
cg_peers=(gatewayd gatewayd-redis)
cg_results="$tmp/callgrind.tsv"
: >"$cg_results"
# cg_annotate_top DUMP --inclusive=yes|no: the 15 first functions, without file names and objects.
# A dump taken mid-run charges the frames still on the stack (main, io_context::run, ...) with the
# whole total, in both views; those rows (99% and more) are left out.
cg_annotate_top() {
  { callgrind_annotate --threshold=100 --auto=no "$2" "$1" 2>/dev/null || true; } |
    awk '/file:function/ { hdr = 1; next } hdr && /^-+$/ { rows = 1; next }
      rows && NF > 1 && n < 15 { pct = $0; sub(/^[^(]*\( */, "", pct); if (pct + 0 >= 99) next; n++; print }' |
    sed -E -e 's/ +\[[^]]*\]$//' -e 's/(%\) +)[^ :]+:([^:])/\1\2/' | cut -c1-140
}
if ! skipped callgrind; then
  log "callgrind: ${#cg_peers[@]} modes x ($cg_warmup + $cg_seconds) s under valgrind"
  for p in "${cg_peers[@]}"; do
    name="$p+callgrind"
    start_gatewayd "$name" valgrind
    vpid=$started_pid
    # The first requests under valgrind take seconds (code translated on first use).
    for _ in 1 2 3; do curl -s -m 20 -o /dev/null "${url[$name]}" && break; done
    run_wrk "${url[$name]}" "$cg_warmup" "$tmp/wrk-cg-$p-warmup.txt" 1
    if ! timeout 30 callgrind_control -z "$vpid" >"$tmp/cg-$p-zero.txt" 2>&1; then
      add_problem "$p" "callgrind_control -z failed: $(head -n 1 "$tmp/cg-$p-zero.txt")"
    fi
    run_wrk "${url[$name]}" "$cg_seconds" "$tmp/wrk-cg-$p.txt" 1
    timeout 30 callgrind_control -d "$vpid" >"$tmp/cg-$p-dump.txt" 2>&1 ||
      add_problem "$p" "callgrind_control -d failed: $(head -n 1 "$tmp/cg-$p-dump.txt")"
    n=$(wrk_requests "$tmp/wrk-cg-$p.txt")
    check_answers "$p" "callgrind run" "$n" "$(wrk_non2xx "$tmp/wrk-cg-$p.txt")" "$(wrk_sockerr "$tmp/wrk-cg-$p.txt")"
    for _ in $(seq 1 100); do
      dump=""
      for f in "$tmp/$name"/callgrind.out.*; do [ -e "$f" ] && { dump=$f; break; }; done
      [ -n "$dump" ] && grep -q '^totals:' "$dump" 2>/dev/null && break
      sleep 0.1
    done
    stop_pid "$vpid"
    ir=0
    [ -n "$dump" ] && ir=$(awk '/^totals:/ { print $2; f = 1 } END { if (!f) print 0 }' "$dump")
    per=$(awk -v i="$ir" -v n="$n" 'BEGIN { if (n == 0 || i == 0) print "nan"; else printf "%.0f", i / n }')
    [ "$per" = nan ] && add_problem "$p" "callgrind: no instruction count"
    if [ -n "$dump" ]; then
      cg_annotate_top "$dump" --inclusive=yes >"$tmp/callgrind-top-$p.txt"
      cg_annotate_top "$dump" --inclusive=no >"$tmp/callgrind-self-$p.txt"
    fi
    printf '%s\t%s\t%s\t%s\n' "$p" "$n" "$ir" "$per" >>"$cg_results"
    log "callgrind $p: $ir instructions / $n requests = $per per request"
  done
fi

# ---------------------------------------------------------------- phase: TLS and tunnels
# Its own peers (gatewayd and nginx with one certificate, ECDSA then RSA) and backends, on the same
# CPU layout; the peers above stay idle meanwhile. Without the phase, --write-docs keeps the TLS
# tables the page has.
tls_tables=""
if ! skipped tls; then
  # This script pinned itself to the load CPU; tls_bench lays out both CPUs itself.
  log "tls: tools/bench/tls_bench.sh"
  tls_args=(--rounds "$rounds" --duration "$duration" --tables "$tmp/tls-tables.md")
  [ "$quick" = 1 ] && tls_args=(--quick --tables "$tmp/tls-tables.md")
  if GATEWAYD="$tmp/bin/gatewayd" MOCK_BACKEND="$tmp/bin/gatewayd-mock-backend" \
       taskset -c "$both_cpus" bash tools/bench/tls_bench.sh "${tls_args[@]}" >"$tmp/tls-bench.out" 2>"$tmp/tls-bench.err"; then
    tls_tables=$(cat "$tmp/tls-tables.md")
  else
    add_problem gatewayd "tls phase failed: $(tail -n 1 "$tmp/tls-bench.err")"
  fi
fi
if [ -z "$tls_tables" ] && [ -f docs/performance.md ]; then
  tls_tables=$(awk '/<!-- tls-bench:end -->/ { f = 0 } f { print } /<!-- tls-bench:begin -->/ { f = 1 }' docs/performance.md)
fi

# ---------------------------------------------------------------- logs of the long-lived peers
for p in "${gw_peers[@]}"; do
  # gatewayd runs with log level warn: anything it logged is worth a look.
  f="$tmp/$p/gatewayd.log" before=${log_lines_before_tracing[$p]}
  if [ "$before" -gt 0 ]; then
    add_problem "$p" "$before log lines at warn or above under load, first: $(head -n 1 "$f" | cut -c1-160)"
  fi
  after=$(( $(wc -l <"$f") - before ))
  if [ "$after" -gt 0 ]; then
    add_problem "$p" "$after log lines at warn or above under strace, first: $(sed -n "$((before + 1))p" "$f" | cut -c1-160)"
  fi
done
for p in nginx nginx-limit_req; do
  if grep -qE '\[(alert|crit|emerg|error)\]' "$tmp/$p/error.log" 2>/dev/null; then
    add_problem "$p" "error.log: $(grep -cE '\[(alert|crit|emerg|error)\]' "$tmp/$p/error.log") error lines"
  fi
done
if grep -qE 'ALERT|WARNING' "$tmp/haproxy/haproxy.log" 2>/dev/null; then
  add_problem haproxy "$(grep -cE 'ALERT|WARNING' "$tmp/haproxy/haproxy.log") ALERT/WARNING lines, first: $(grep -m1 -E 'ALERT|WARNING' "$tmp/haproxy/haproxy.log" | cut -c1-160)"
fi
for p in "${peers[@]}"; do check_died "$p" "the run"; done

# ---------------------------------------------------------------- tables
quiet_note() { # checks note of a peer's rounds left out of the medians
  local p=$1 total_r quiet_r noisy_list
  total_r=$(awk -F'\t' -v p="$p" '$1 == p' "$results" | wc -l)
  quiet_r=$(quiet_rounds "$p")
  [ "$quiet_r" -lt "$total_r" ] || return 0
  noisy_list=$(awk -F'\t' -v p="$p" -v q="$noisy_pct" '$1 == p && $11 >= q {printf "%s%s (%s%%)", (n++ ? ", " : ""), $2, $11}' "$results")
  if [ "$quiet_r" -gt 0 ]; then echo "medians of $quiet_r quiet round(s); left out: $noisy_list"
  else echo "NO quiet round, medians of all; busy rounds: $noisy_list"; fi
}
checks_of() { local c=${problems[$1]:-} q; q=$(quiet_note "$1"); c+="${c:+${q:+; }}$q"; echo "${c:-ok}"; }

rounds_table="| peer | req/s | p50 ms | p99 ms | proxy CPU µs/req | redis CPU µs/req | backends CPU µs/req | req/s ÷ nginx | CPU ÷ nginx | checks |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
for p in "${peers[@]}"; do
  ref=nginx; [ "${expect[$p]}" = 429 ] && ref=nginx-limit_req
  rounds_table+="
| $p | $(fmt "${m_rps[$p]}" %.0f) | $(fmt_ms "${m_p50[$p]}") | $(fmt_ms "${m_p99[$p]}") | $(fmt "${m_cpu[$p]}" %.1f) | $(fmt "${m_rcpu[$p]}" %.1f) | $(fmt "${m_bcpu[$p]}" %.1f) | $(ratio "${m_rps[$p]}" "${m_rps[$ref]}") | $(ratio "${m_cpu[$p]}" "${m_cpu[$ref]}") | $(checks_of "$p") |"
done

gw_redis_total=$(sum_or_nan "${m_cpu[gatewayd-redis]}" "${m_rcpu[gatewayd-redis]}")
chain_table="| mode | req/s | p99 ms | gatewayd CPU µs/req | redis CPU µs/req | gatewayd + redis µs/req | ÷ nginx CPU (no limiter) |
|---|---:|---:|---:|---:|---:|---:|
| limiter off | $(fmt "${m_rps[gatewayd]}" %.0f) | $(fmt_ms "${m_p99[gatewayd]}") | $(fmt "${m_cpu[gatewayd]}" %.1f) | – | $(fmt "${m_cpu[gatewayd]}" %.1f) | $(ratio "${m_cpu[gatewayd]}" "${m_cpu[nginx]}") |
| Redis limiter | $(fmt "${m_rps[gatewayd-redis]}" %.0f) | $(fmt_ms "${m_p99[gatewayd-redis]}") | $(fmt "${m_cpu[gatewayd-redis]}" %.1f) | $(fmt "${m_rcpu[gatewayd-redis]}" %.1f) | $(fmt "$gw_redis_total" %.1f) | $(ratio "${m_cpu[gatewayd-redis]}" "${m_cpu[nginx]}") (with redis $(ratio "$gw_redis_total" "${m_cpu[nginx]}")) |
| Redis limiter, sliding_window | $(fmt "${m_rps[gatewayd-sliding]}" %.0f) | $(fmt_ms "${m_p99[gatewayd-sliding]}") | $(fmt "${m_cpu[gatewayd-sliding]}" %.1f) | $(fmt "${m_rcpu[gatewayd-sliding]}" %.1f) | $(fmt "$(sum_or_nan "${m_cpu[gatewayd-sliding]}" "${m_rcpu[gatewayd-sliding]}")" %.1f) | $(ratio "${m_cpu[gatewayd-sliding]}" "${m_cpu[nginx]}") (÷ fixed window $(ratio "${m_cpu[gatewayd-sliding]}" "${m_cpu[gatewayd-redis]}")) |
| Redis limiter, gcra | $(fmt "${m_rps[gatewayd-gcra]}" %.0f) | $(fmt_ms "${m_p99[gatewayd-gcra]}") | $(fmt "${m_cpu[gatewayd-gcra]}" %.1f) | $(fmt "${m_rcpu[gatewayd-gcra]}" %.1f) | $(fmt "$(sum_or_nan "${m_cpu[gatewayd-gcra]}" "${m_rcpu[gatewayd-gcra]}")" %.1f) | $(ratio "${m_cpu[gatewayd-gcra]}" "${m_cpu[nginx]}") (÷ fixed window $(ratio "${m_cpu[gatewayd-gcra]}" "${m_cpu[gatewayd-redis]}")) |
| memory limiter | $(fmt "${m_rps[gatewayd-memory]}" %.0f) | $(fmt_ms "${m_p99[gatewayd-memory]}") | $(fmt "${m_cpu[gatewayd-memory]}" %.1f) | – | $(fmt "${m_cpu[gatewayd-memory]}" %.1f) | $(ratio "${m_cpu[gatewayd-memory]}" "${m_cpu[nginx]}") |"

redis_call_table="| mode | Redis µs per check |
|---|---:|"
for p in gatewayd-redis gatewayd-sliding gatewayd-gcra gatewayd-429; do
  call=$(awk -v p="$p" '$1 == p && $3 != "nan" {print $3}' "$tmp/redis-calls.txt" 2>/dev/null | median_of)
  redis_call_table+="
| $p | $(fmt "${call:-nan}" %.2f) |"
done

flood_table="| peer | req/s | p99 ms | proxy CPU µs/req | req/s ÷ nginx limit_req | CPU ÷ nginx limit_req |
|---|---:|---:|---:|---:|---:|"
for p in nginx-limit_req gatewayd-429; do
  flood_table+="
| $p | $(fmt "${m_rps[$p]}" %.0f) | $(fmt_ms "${m_p99[$p]}") | $(fmt "${m_cpu[$p]}" %.1f) | $(ratio "${m_rps[$p]}" "${m_rps[nginx-limit_req]}") | $(ratio "${m_cpu[$p]}" "${m_cpu[nginx-limit_req]}") |"
done

threads_table="| gatewayd | CPUs | req/s | p50 ms | p99 ms | CPU µs/req (all threads) | req/s ÷ threads 1 | CPU ÷ threads 1 |
|---|---|---:|---:|---:|---:|---:|---:|
| threads: 1 | $proxy_cpu | $(fmt "${m_rps[gatewayd]}" %.0f) | $(fmt_ms "${m_p50[gatewayd]}") | $(fmt_ms "${m_p99[gatewayd]}") | $(fmt "${m_cpu[gatewayd]}" %.1f) | 1.00 | 1.00 |
| threads: 2 | $both_cpus (CPU $load_cpu shared with wrk and backends) | $(fmt "${m_rps[gatewayd-threads2]}" %.0f) | $(fmt_ms "${m_p50[gatewayd-threads2]}") | $(fmt_ms "${m_p99[gatewayd-threads2]}") | $(fmt "${m_cpu[gatewayd-threads2]}" %.1f) | $(ratio "${m_rps[gatewayd-threads2]}" "${m_rps[gatewayd]}") | $(ratio "${m_cpu[gatewayd-threads2]}" "${m_cpu[gatewayd]}") |"

rate_table="| peer | target req/s | achieved req/s | p50 ms | p99 ms | proxy CPU µs/req | p99 ÷ nginx | checks |
|---|---:|---:|---:|---:|---:|---:|---|"
for p in "${rate_peers[@]}"; do
  rate_table+="
| $p | $(fmt "$target_rate" %.0f) | $(fmt "$(rate_median "$p" 3)" %.0f) | $(fmt_ms "$(rate_median "$p" 4)") | $(fmt_ms "$(rate_median "$p" 5)") | $(fmt "$(rate_median "$p" 6)" %.1f) | $(ratio "$(rate_median "$p" 5)" "$(rate_median nginx 5)") | ${problems[$p]:-ok} |"
done

idle_table="| peer | RSS with $idle_base idle (KiB) | RSS with $((idle_base + idle_conns)) idle (KiB) | KiB per connection | connections still open |
|---|---:|---:|---:|---:|"
while IFS=$'\t' read -r p r0 r1 ready still per; do
  idle_table+="
| $p | $r0 | $r1 | $per | $still of $idle_conns |"
done <"$idle_results"

strace_table="| peer | requests | system calls | per request | top calls per request |
|---|---:|---:|---:|---|"
while IFS=$'\t' read -r p n total per top; do
  strace_table+="
| $p | $n | $total | $per | $top |"
done <"$strace_results"

alloc_table="| peer | requests | allocations | allocations per request | frees per request |
|---|---:|---:|---:|---:|"
while IFS=$'\t' read -r p n a per fper; do
  alloc_table+="
| $p | $n | $a | $per | $fper |"
done <"$alloc_results"

cg_table="| gatewayd mode | requests | instructions (Ir) | instructions per request |
|---|---:|---:|---:|"
while IFS=$'\t' read -r p n ir per; do
  cg_table+="
| $p | $n | $ir | $per |"
done <"$cg_results"
cg_top=""
for p in "${cg_peers[@]}"; do
  [ -s "$tmp/callgrind-top-$p.txt" ] || continue
  cg_top+="
$p, top 15 functions by inclusive instructions (callgrind_annotate --inclusive=yes; the frames
that enclose everything, main and the event loop, left out):

\`\`\`
$(cat "$tmp/callgrind-top-$p.txt")
\`\`\`

$p, top 15 functions by their own instructions (callgrind_annotate):

\`\`\`
$(cat "$tmp/callgrind-self-$p.txt")
\`\`\`
"
done

# ---------------------------------------------------------------- targets
tsv_get() { awk -F'\t' -v p="$2" -v c="$3" '$1 == p { print $c; f = 1; exit } END { if (!f) print "nan" }' "$1"; }
# target_row WHAT MEASURED OP LIMIT: met when MEASURED OP LIMIT (op le or ge).
targets_table="| what | measured | target | met |
|---|---:|---:|---|"
target_row() {
  local verdict
  verdict=$(awk -v v="$2" -v op="$3" -v t="$4" 'BEGIN {
    if (v == "nan" || v == "–" || v == "") { print "not measured"; exit }
    ok = (op == "le") ? (v + 0 <= t + 0) : (v + 0 >= t + 0)
    print (ok ? "yes" : "**no**") }')
  targets_table+="
| $1 | $2 | $( [ "$3" = le ] && echo "≤" || echo "≥") $4 | $verdict |"
}
target_row "proxy only (limiter off): gatewayd CPU µs per request / nginx's" "$(ratio "${m_cpu[gatewayd]}" "${m_cpu[nginx]}")" le 0.8
target_row "proxy only: gatewayd requests/s / nginx's" "$(ratio "${m_rps[gatewayd]}" "${m_rps[nginx]}")" ge 1.1
target_row "full chain, Redis limiter on: gatewayd CPU µs per request / nginx without limiter" "$(ratio "${m_cpu[gatewayd-redis]}" "${m_cpu[nginx]}")" le 1.0
target_row "full chain: (gatewayd + redis-server) CPU per request / nginx's" "$(ratio "$gw_redis_total" "${m_cpu[nginx]}")" le 1.2
target_row "Redis limiter, sliding_window: gatewayd CPU µs per request / fixed window's" "$(ratio "${m_cpu[gatewayd-sliding]}" "${m_cpu[gatewayd-redis]}")" le 1.1
target_row "Redis limiter, gcra: gatewayd CPU µs per request / fixed window's" "$(ratio "${m_cpu[gatewayd-gcra]}" "${m_cpu[gatewayd-redis]}")" le 1.1
target_row "flood of an over-limit client (429 path): gatewayd CPU µs per refusal / nginx limit_req's" "$(ratio "${m_cpu[gatewayd-429]}" "${m_cpu[nginx-limit_req]}")" le 0.7
target_row "p99 latency at 50% of nginx's peak rate: gatewayd p99 / nginx's" "$(ratio "$(rate_median gatewayd 5)" "$(rate_median nginx 5)")" le 1.0
target_row "system calls per proxied request (strace -c), gatewayd limiter off" "$(tsv_get "$strace_results" gatewayd 4)" le 4.5
target_row "heap allocations per proxied request in steady state, gatewayd limiter off" "$(tsv_get "$alloc_results" gatewayd 4)" le 0.01
target_row "memory per idle keep-alive client connection, gatewayd (KiB)" "$(tsv_get "$idle_results" gatewayd 6)" le 8
# wrk shares CPU 0 with the second loop, so req/s cannot show scaling; CPU per request can: two
# cores of their own serve 2 x (CPU per request with one loop / with two) times one core's rate.
target_row "\`threads: 2\`: requests two cores can serve / one core's, from CPU µs per request (2 × threads 1 ÷ threads 2)" "$(awk -v a="${m_cpu[gatewayd]}" -v b="${m_cpu[gatewayd-threads2]}" 'BEGIN { if (a == "nan" || b == "nan" || b + 0 == 0) print "–"; else printf "%.2f", 2 * a / b }')" ge 1.8

raw="| round | peer | req/s | p50 ms | p99 ms | proxy CPU µs/req | redis CPU µs/req | backends CPU µs/req | requests | non-2xx | socket errors | other processes % CPU |
|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
while IFS=$'\t' read -r p r rps p50 p99 pc bc n nx se ot rc; do
  raw+="
| $r | $p | $rps | $(fmt_ms "$p50") | $(fmt_ms "$p99") | $(fmt "$pc" %.2f) | $(fmt "$rc" %.2f) | $(fmt "$bc" %.2f) | $n | $nx | $se | $ot |"
done < <(sort -t$'\t' -k2,2n -s "$results")
rate_raw="| round | peer | achieved req/s | p50 ms | p99 ms | proxy CPU µs/req | requests logged |
|---:|---|---:|---:|---:|---:|---:|"
while IFS=$'\t' read -r p r a p50 p99 pc n; do
  rate_raw+="
| $r | $p | $a | $(fmt_ms "$p50") | $(fmt_ms "$p99") | $(fmt "$pc" %.2f) | $n |"
done < <(sort -t$'\t' -k2,2n -s "$rate_results")

echo
echo "$load_note"
echo
echo "Targets (issue #6)"
echo "$targets_table"
echo
echo "Peak load (wrk, medians of interleaved rounds)"
echo "$rounds_table"
echo
echo "Full chain"
echo "$chain_table"
echo
echo "Redis time per limit check (INFO commandstats, EVALSHA usec_per_call, median over rounds)"
echo "$redis_call_table"
echo
echo "429 flood"
echo "$flood_table"
echo
echo "Constant rate (h2load) at 50% of nginx's peak"
echo "$rate_table"
echo
echo "System calls"
echo "$strace_table"
echo
echo "Heap allocations"
echo "$alloc_table"
echo
echo "Instructions (callgrind)"
echo "$cg_table"
echo
echo "Idle keep-alive connections"
echo "$idle_table"
echo
echo "threads: 2 vs threads: 1"
echo "$threads_table"
echo
if ! skipped tls; then
  echo "TLS and tunnels"
  echo "$tls_tables"
  echo
fi

if [ "$write_docs" = 1 ]; then
  mkdir -p docs
  # Sections measured by other scripts (tools/bench/redis_modes.sh) follow this marker; kept.
  kept=$(sed -n '/^<!-- kept by tools\/bench.sh --write-docs -->$/,$p' docs/performance.md 2>/dev/null || true)
  cat >docs/performance.md <<EOF
# Performance

Written by \`$self --write-docs\` on $date_utc. A report, not a test: nothing here is asserted
anywhere, and figures from a shared VM move by several percent between runs; compare peers
within one run, not across runs.

What the figures come from, what limits the targets this run misses and what was tried is in
[performance-analysis.md](performance-analysis.md) (written by hand, not by this script).

- command: \`$cmdline\`
- machine: $ncpu CPUs, $cpu_model, Linux $kernel
- versions: nginx $nginx_version, HAProxy $haproxy_version, Redis $redis_version, wrk $wrk_version,
  h2load $h2load_version, $strace_version strace, $valgrind_version, ${gw_version:-gatewayd} (git $git_rev)
- $load_note

## Targets of issues #6 and #19

$targets_table

Ratios are of medians over the quiet rounds of one run (see "checks" in the tables below).

## Peak load: every peer

$rounds_table

wrk -t1 -c$connections, ${duration} s measured after a ${warmup} s warm-up, $rounds rounds interleaved
over the peers (direct, nginx, haproxy, gatewayd, ..., direct, ...). req/s ÷ and CPU ÷ compare with
nginx, except for the two 429 peers, which compare with nginx-limit_req. "checks" lists anything
abnormal seen for that peer (unexpected answers or socket errors counted by wrk or h2load, a
process that died, lines in a warn-level log) and the rounds left out of the medians because other
processes on the machine used $noisy_pct% of a CPU or more during them (figures in parentheses).

## Full chain: the rate limiter in Redis and in memory

$chain_table

The limit (10^9 per hour) is never reached, so every request is checked and proxied. Redis runs
on CPU $load_cpu beside wrk and the backends; its CPU per request is its utime+stime over the run.

Redis's own time per limit check (\`INFO commandstats\`, \`EVALSHA\` usec_per_call, median over
the rounds): the algorithms' scripts side by side.

$redis_call_table

## 429 flood: one client over its limit

$flood_table

gatewayd: limit 1 per hour in Redis (over-limit clients are answered from local knowledge);
nginx: \`limit_req\` zone per client address, rate 1r/m, no burst, \`limit_req_status 429\`
(tools/bench/nginx-limit_req.conf.in). After the first request every answer is a 429.

## Latency at a constant rate: 50% of nginx's peak

$rate_table

h2load --h1 -t1 -c$connections --rps=(rate/$connections) -D $rate_seconds --warm-up-time=$rate_warmup, $rate_rounds round(s)
interleaved, medians; latencies from h2load's per-request log (time from sending a request to the end
of its response). h2load sends a connection's next request only when the previous answer is in, so
a stall delays later requests without counting their wait (coordinated omission); at half load
this is rare and hits every peer alike.

## System calls per request

$strace_table

\`strace -f -c -p PID\` (every thread) attached while wrk -c$connections runs for $strace_seconds s after a 1 s
warm-up; calls counted by strace / requests completed by wrk. wrk's connects and closes are included
(negligible over thousands of requests). Tracing slows the proxy; the count per request is what
matters.

## Heap allocations per request

$alloc_table

A fresh instance of each peer with \`tools/bench/alloc_count.c\` preloaded (LD_PRELOAD; counts
malloc, calloc, realloc, memalign/aligned_alloc/posix_memalign/valloc; operator new goes through
malloc), warm-up of ${warmup} s, then the counter delta over a ${alloc_seconds} s wrk run / requests.
The counters sit in a file mapped shared, read with od; no signal is involved.

## Instructions per request (callgrind)

$cg_table

gatewayd threads: 1 under \`valgrind --tool=callgrind\`; wrk -c1 for ${cg_warmup} s, \`callgrind_control -z\`,
wrk -c1 for ${cg_seconds} s, \`callgrind_control -d\`; Ir of that dump / requests wrk completed. The one
figure here that does not depend on the machine's noise.
$cg_top
## Memory per idle keep-alive client connection

$idle_table

\`tools/bench/idle_conns.c\` opens $idle_base connections, sends one GET / on each and reads the answer
(so they are past their first request), then $idle_conns more; (VmRSS after − VmRSS before) / $idle_conns.
Kernel socket buffers are not in RSS. "still open" counts connections the proxy had not closed
when they were released.

## threads: 2 vs threads: 1

$threads_table

There is no second machine for the load generator: with \`threads: 2\` gatewayd runs on both CPUs
and competes with wrk and the backends for CPU $load_cpu, so req/s shows how much a second loop gains
when the load generator must give up time to it, not how gatewayd scales on a machine of its own.
CPU µs/req sums both threads.

## Method

Peers: nginx one process (master_process off, worker_processes 1), access_log off, upstream
keepalive 64, keepalive_requests 1000000 (tools/bench/nginx.conf.in); HAProxy nbthread 1,
http-reuse always, option http-keep-alive, no log, no health checks (tools/bench/haproxy.cfg.in);
gatewayd threads 1, health checks, access log and admin listener off, in the modes above
(tools/bench/gatewayd.yaml.in). All balance over two gatewayd-mock-backend --quiet processes (GET /,
45-byte text body); direct = wrk to backend 1 alone, the ceiling. The proxy under test is pinned to
CPU $proxy_cpu; wrk, h2load, the backends and redis-server (no persistence) to CPU $load_cpu (taskset).
All traffic on 127.0.0.1, ports picked free at start; every process stopped by PID.

CPU µs/req = delta of utime+stime (/proc/PID/stat, CLK_TCK=$clk_tck, all threads) over the measured
run / requests completed. "other processes % CPU" is the machine's busy time (/proc/stat) minus
that of the proxy, backends, Redis and wrk during the run; a round at $noisy_pct% or more is noisy.

The proxy's CPU figure is the one that matters on this machine: wrk shares CPU $load_cpu with both
backends, so requests/s is bounded by the load generator as much as by the proxy (the direct
row shows that ceiling). utime+stime is what the kernel charges to the process: on loopback the
receiving side's TCP work mostly runs in the sender's context, so part of a proxy's network cost
is charged to wrk and the backends and part of theirs to the proxy. The figure is comparable
between peers in one run, not an absolute cost.

## TLS and tunnels

\`tools/bench/tls_bench.sh\` (run by this script's \`tls\` phase, or on its own with
\`--write-docs\`, which rewrites only this section's tables): gatewayd and nginx 1.22 on the same
self-signed certificate, once ECDSA P-256 and once RSA 2048, each with a plain and a TLS listener in
front of the two mock backends; the proxy alone on CPU $proxy_cpu, the load and the backends on CPU
$load_cpu. nginx: one process, \`ssl_session_cache shared:SSL:10m\`, tickets off, the same
ECDHE+AEAD cipher list (tools/bench/nginx-tls.conf.in); gatewayd: health checks, access log and
limiter off. Handshakes: two \`openssl s_time -new\` clients (full TLS 1.3 handshakes, X25519,
nothing resumed); keep-alive: wrk over https and http; idle: tools/bench/tls_load.c holds TLS
connections past one request; WebSocket: tls_load upgrades 50 plain connections to the mock
backend's /ws echo and keeps one 64-byte message in flight on each. Why the figures are what they
are is in [performance-analysis.md](performance-analysis.md#tls-and-tunnels).

<!-- tls-bench:begin -->
$tls_tables
<!-- tls-bench:end -->

## Every round

$raw

$rate_raw

## How to rerun

\`\`\`sh
bash tools/bench.sh                 # about 13 minutes, prints every table
bash tools/bench.sh --quick         # about 1.5 minutes smoke run of every phase (what CI runs)
bash tools/bench.sh --write-docs    # also rewrites this page
bash tools/bench.sh --skip rate,callgrind --rounds 3 --keep-temp
bash tools/bench/tls_bench.sh --write-docs   # only the TLS and tunnels tables, about 6 minutes
BUILD_DIR=build-bench bash tools/bench.sh   # binaries of another build directory
\`\`\`

It installs missing packages with \`tools/install-deps.sh\` and the benchmark's own (haproxy,
nghttp2-client for h2load, strace, valgrind) with apt-get, builds \`\$BUILD_DIR\` (default \`build/\`)
with \`tools/build.sh\` if the binaries are missing, compiles the two helpers in tools/bench/ with cc
and copies everything to a temp dir before starting. It needs 2 CPUs for the pinned layout.
EOF
  if [ -n "$kept" ]; then printf '\n%s\n' "$kept" >>docs/performance.md; fi
  log "wrote docs/performance.md"
fi
exit 0
}
