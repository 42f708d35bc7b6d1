#!/usr/bin/env bash
# A first benchmark of gatewayd: a report, never a test (it has no thresholds and exits 0 even when
# a peer misbehaves; problems are flagged in the table).
#
# Peers, all in front of the same two gatewayd-mock-backend --quiet processes:
#   direct    wrk -> backend 1 (the ceiling: no proxy at all)
#   nginx     wrk -> nginx 1.22 (one process, upstream keep-alive, no access log) -> backends
#   gatewayd  wrk -> gatewayd (threads: 1, limiter/health checks/access log off) -> backends
# Layout: the proxy under test alone on CPU 1; wrk and the backends on CPU 0. Rounds are
# interleaved (direct, nginx, gatewayd, direct, ...), each measured run preceded by a warm-up run.
# Every process listens on a free 127.0.0.1 port chosen at start and is stopped by PID on exit.
#
# usage: tools/bench.sh [--duration S] [--rounds N] [--warmup S] [--connections C] [--quick]
#                       [--write-docs] [--keep-temp]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
self="tools/bench.sh"

usage() {
  cat <<EOF
usage: $self [options]

  --duration S      seconds per measured wrk run (default 8)
  --rounds N        interleaved rounds over the three peers (default 5)
  --warmup S        seconds of warm-up run before each measured run (default 2)
  --connections C   wrk connections (default 50; wrk uses one thread)
  --quick           about 30 s in total: --duration 3 --rounds 2 --warmup 1
  --write-docs      also write the table, date and method to docs/performance.md
  --keep-temp       keep the temp dir (configs, logs, raw wrk output) and print its path
  --help            print this text

Default run: 3 peers x 5 rounds x (2 + 8) s = about 2.5 minutes.
EOF
}

duration="" rounds="" warmup="" connections=50 quick=0 write_docs=0 keep_temp=0
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
    --write-docs) write_docs=1; shift ;;
    --keep-temp) keep_temp=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
if [ "$quick" = 1 ]; then
  duration=${duration:-3} rounds=${rounds:-2} warmup=${warmup:-1}
else
  duration=${duration:-8} rounds=${rounds:-5} warmup=${warmup:-2}
fi

log() { echo "bench: $*" >&2; }
noisy_pct=10   # a round during which other processes used this much of a CPU is left out of medians
die() { echo "bench: error: $*" >&2; exit 1; }

# ---------------------------------------------------------------- dependencies and binaries
bash tools/install-deps.sh >&2
for tool in wrk nginx taskset curl ss getconf; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || die "$tool not found"
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

build_dir=${BUILD_DIR:-build}
if [ ! -x "$build_dir/gatewayd" ] || [ ! -x "$build_dir/gatewayd-mock-backend" ]; then
  log "binaries missing in $build_dir/, building"
  bash tools/build.sh >&2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gatewayd-bench.XXXXXX")
pids=()
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  local pid i
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ "$keep_temp" = 1 ]; then log "temp dir kept: $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Copies, so that a rebuild in the checkout during the run cannot swap the binary under test.
mkdir -p "$tmp/bin"
cp "$build_dir/gatewayd" "$build_dir/gatewayd-mock-backend" "$tmp/bin/"

# ---------------------------------------------------------------- CPU layout
ncpu=$(nproc)
if [ "$ncpu" -ge 2 ]; then
  proxy_cpu=1 load_cpu=0
else
  proxy_cpu=0 load_cpu=0
  log "warning: only $ncpu CPU; proxy, wrk and backends share CPU 0 (figures not comparable)"
fi
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

# wait_port PORT PID NAME LOGFILE: bounded wait (10 s) until PORT listens, PID must stay alive.
wait_port() {
  local i
  for i in $(seq 1 100); do
    kill -0 "$2" 2>/dev/null || { tail -n 20 "$4" >&2 || true; die "$3 exited during start-up (log above)"; }
    listening "$1" && return 0
    sleep 0.1
  done
  tail -n 20 "$4" >&2 || true
  die "$3 did not listen on 127.0.0.1:$1 within 10 s"
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

# run_wrk URL SECONDS OUTFILE: also sets wrk_ticks, the CPU wrk used (its run is reaped by the time
# taskset returns, so it shows in the shell's children times).
run_wrk() {
  local c0 c1
  children_ticks >"$tmp/ticks.txt"
  read -r c0 <"$tmp/ticks.txt"
  taskset -c "$load_cpu" wrk -t1 -c"$connections" -d"$2"s --latency "$1" >"$3" 2>&1 || true
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

# ---------------------------------------------------------------- start the backends
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

fill() { sed -e "s|@PORT@|$2|g" -e "s|@BACKEND1@|$b1|g" -e "s|@BACKEND2@|$b2|g" -e "s|@PREFIX@|$3|g" "$1"; }

# ---------------------------------------------------------------- start nginx
nginx_port=$(free_port)
mkdir -p "$tmp/nginx"
fill tools/bench/nginx.conf.in "$nginx_port" "$tmp/nginx" >"$tmp/nginx/nginx.conf"
"$nginx_bin" -t -q -p "$tmp/nginx/" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" >&2 ||
  die "nginx rejected $tmp/nginx/nginx.conf"
taskset -c "$proxy_cpu" "$nginx_bin" -p "$tmp/nginx/" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" \
  >"$tmp/nginx/stdout.log" 2>&1 &
nginx_pid=$!
pids+=("$nginx_pid")
wait_port "$nginx_port" "$nginx_pid" nginx "$tmp/nginx/error.log"

# ---------------------------------------------------------------- start gatewayd
gw_port=$(free_port)
fill tools/bench/gatewayd.yaml.in "$gw_port" "$tmp" >"$tmp/gatewayd.yaml"
"$tmp/bin/gatewayd" --config "$tmp/gatewayd.yaml" --check-config >/dev/null ||
  die "gatewayd rejected $tmp/gatewayd.yaml"
taskset -c "$proxy_cpu" "$tmp/bin/gatewayd" --config "$tmp/gatewayd.yaml" >"$tmp/gatewayd.log" 2>&1 &
gw_pid=$!
pids+=("$gw_pid")
wait_port "$gw_port" "$gw_pid" gatewayd "$tmp/gatewayd.log"

peers=(direct nginx gatewayd)
declare -A url pid_of problems crashed
url[direct]="http://127.0.0.1:$b1/"
url[nginx]="http://127.0.0.1:$nginx_port/"
url[gatewayd]="http://127.0.0.1:$gw_port/"
pid_of[direct]="" pid_of[nginx]=$nginx_pid pid_of[gatewayd]=$gw_pid
add_problem() { problems[$1]+="${problems[$1]:+; }$2"; }

# One plain request through each peer: 200 and the mock backend's body.
for p in "${peers[@]}"; do
  crashed[$p]=0
  body=$(curl -s -m 5 -o - -w '\n%{http_code}' "${url[$p]}" || true)
  code=${body##*$'\n'}
  if [ "$code" != 200 ] || [[ $body != *"Response from backend on port"* ]]; then
    add_problem "$p" "sanity GET / answered ${code:-nothing}"
    log "warning: $p sanity request: status ${code:-none}"
  fi
done

# ---------------------------------------------------------------- versions and machine
cpu_model=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)
nginx_version=$("$nginx_bin" -v 2>&1 | sed 's/^nginx version: nginx\///' || true)
wrk_version=$(wrk -v 2>&1 | head -n 1 | awk '{print $2}' || true)
gw_version=$("$tmp/bin/gatewayd" --version 2>&1 | head -n 1 || true)
git_rev=$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)
kernel=$(uname -r)
date_utc=$(date -u '+%Y-%m-%d %H:%M UTC')
total=$(( ${#peers[@]} * rounds * (warmup + duration) ))
cmdline="bash $self"
[ "$quick" = 1 ] && cmdline+=" --quick"
cmdline+=" --duration $duration --rounds $rounds --warmup $warmup --connections $connections"

method="wrk -t1 -c$connections -d${duration}s --latency against GET / (45-byte text body from gatewayd-mock-backend --quiet);
each measured run is preceded by a ${warmup} s warm-up run of the same peer; $rounds rounds interleaved
(direct, nginx, gatewayd, direct, ...); medians over the quiet rounds (other processes on the
machine below $noisy_pct% of a CPU; all rounds if none is quiet). Proxy under test pinned to CPU $proxy_cpu,
wrk and both mock backends pinned to CPU $load_cpu (taskset). direct = wrk to backend 1 only;
nginx and gatewayd balance over both backends with upstream keep-alive. CPU us/req = delta of
utime+stime (/proc/PID/stat, CLK_TCK=$clk_tck, all threads) over the measured run / requests wrk
completed; 'backends' is the same for the two mock backends together; 'other processes' is the
machine's busy time (/proc/stat) minus that of the proxy, the backends and wrk during the run.
nginx: one process (master_process off, worker_processes 1), access_log off, upstream keepalive 64,
proxy_http_version 1.1, Connection \"\", keepalive_requests 1000000 (tools/bench/nginx.conf.in).
gatewayd: threads 1, rate limiter, health checks, access log and admin listener off
(tools/bench/gatewayd.yaml.in). All traffic on 127.0.0.1, ports picked free at start."

header="machine:  $ncpu CPUs, $cpu_model, Linux $kernel
versions: nginx $nginx_version; wrk $wrk_version; ${gw_version:-gatewayd} (git $git_rev)
command:  $cmdline
method:   $(echo "$method" | sed '2,$s/^/          /')"
echo "$header"
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
log "running about $total s of load ($rounds rounds x ${#peers[@]} peers x (${warmup} + ${duration}) s)"

# ---------------------------------------------------------------- rounds
results="$tmp/results.tsv"
: >"$results"
backends_ticks() { echo $(( $(cpu_ticks "${backend_pids[0]}") + $(cpu_ticks "${backend_pids[1]}") )); }

for r in $(seq 1 "$rounds"); do
  for p in "${peers[@]}"; do
    [ "${crashed[$p]}" = 1 ] && continue
    ppid=${pid_of[$p]}
    run_wrk "${url[$p]}" "$warmup" "$tmp/wrk-$p-$r-warmup.txt"
    wn=$(wrk_non2xx "$tmp/wrk-$p-$r-warmup.txt") we=$(wrk_sockerr "$tmp/wrk-$p-$r-warmup.txt")
    [ "$wn" = 0 ] || add_problem "$p" "round $r warm-up: $wn non-2xx"
    [ "$we" = 0 ] || add_problem "$p" "round $r warm-up: $we socket errors"

    m0=$(machine_ticks)
    p0=0; [ -n "$ppid" ] && p0=$(cpu_ticks "$ppid")
    b0=$(backends_ticks)
    out="$tmp/wrk-$p-$r.txt"
    run_wrk "${url[$p]}" "$duration" "$out"
    p1=0; [ -n "$ppid" ] && p1=$(cpu_ticks "$ppid")
    b1t=$(backends_ticks)
    m1=$(machine_ticks)
    # CPU used by anything else on the machine during the run, in % of one CPU.
    other=$(awk -v m=$((m1 - m0 - (p1 - p0) - (b1t - b0) - wrk_ticks)) -v t="$clk_tck" -v d="$duration" \
      'BEGIN { o = 100 * m / t / d; printf "%.0f", (o < 0 ? 0 : o) }')

    if [ -n "$ppid" ] && ! kill -0 "$ppid" 2>/dev/null; then
      crashed[$p]=1
      wait "$ppid" 2>/dev/null && st=0 || st=$?
      add_problem "$p" "process died during round $r (exit status $st)"
      log "warning: $p died during round $r (exit status $st)"
    fi
    n=$(wrk_requests "$out") rps=$(wrk_rps "$out")
    non2xx=$(wrk_non2xx "$out") sockerr=$(wrk_sockerr "$out")
    p50=$(to_us "$(wrk_pct "$out" 50%)") p99=$(to_us "$(wrk_pct "$out" 99%)")
    [ "$non2xx" = 0 ] || add_problem "$p" "round $r: $non2xx non-2xx"
    [ "$sockerr" = 0 ] || add_problem "$p" "round $r: $sockerr socket errors"
    if [ "$n" = 0 ]; then
      add_problem "$p" "round $r: no request completed"
      pcpu=nan bcpu=nan
    else
      pcpu=$(awk -v d=$((p1 - p0)) -v t="$clk_tck" -v n="$n" 'BEGIN{printf "%.2f", d * 1e6 / t / n}')
      bcpu=$(awk -v d=$((b1t - b0)) -v t="$clk_tck" -v n="$n" 'BEGIN{printf "%.2f", d * 1e6 / t / n}')
    fi
    [ -z "$ppid" ] && pcpu=nan
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$p" "$r" "$rps" "$p50" "$p99" "$pcpu" "$bcpu" \
      "$n" "$non2xx" "$sockerr" "$other" >>"$results"
    log "$(printf 'round %d/%d %-8s %9s req/s  p50 %8s us  p99 %8s us  proxy CPU %6s us/req  non-2xx %s  sock err %s  other CPU %s%%' \
      "$r" "$rounds" "$p" "$rps" "$p50" "$p99" "$pcpu" "$non2xx" "$sockerr" "$other")"
  done
done

# gatewayd runs with log level warn: anything it logged is worth a look.
if [ -s "$tmp/gatewayd.log" ]; then
  add_problem gatewayd "$(wc -l <"$tmp/gatewayd.log") log lines at warn or above, first: $(head -n 1 "$tmp/gatewayd.log" | cut -c1-160)"
fi
if grep -qE '\[(alert|crit|emerg|error)\]' "$tmp/nginx/error.log" 2>/dev/null; then
  add_problem nginx "error.log: $(grep -cE '\[(alert|crit|emerg|error)\]' "$tmp/nginx/error.log") error lines"
fi

# ---------------------------------------------------------------- table
# Rounds used for a peer's medians: the quiet ones, or all of them when none was quiet.
quiet_rounds() { awk -F'\t' -v p="$1" -v q="$noisy_pct" '$1 == p && $11 < q' "$results" | wc -l; }
median() { # median PEER COLUMN
  local limit=$noisy_pct
  [ "$(quiet_rounds "$1")" -gt 0 ] || limit=1000
  awk -F'\t' -v p="$1" -v c="$2" -v q="$limit" '$1 == p && $c != "nan" && $11 < q {print $c}' "$results" | sort -g |
    awk '{a[NR] = $1} END { if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
fmt_ms() { awk -v v="$1" 'BEGIN { if (v == "nan" || v == "") print "–"; else printf "%.3f", v / 1000 }'; }   # µs -> ms
fmt() { awk -v v="$1" -v f="$2" 'BEGIN { if (v == "nan" || v == "") print "–"; else printf f, v }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "nan" || b == "nan" || a == "" || b == "" || b + 0 == 0) print "–"; else printf "%.2f", a / b }'; }

declare -A m_rps m_cpu
table="| peer | req/s | p50 ms | p99 ms | proxy CPU µs/req | backends CPU µs/req | req/s ÷ nginx | CPU ÷ nginx | checks |
|---|---:|---:|---:|---:|---:|---:|---:|---|"
for p in "${peers[@]}"; do
  m_rps[$p]=$(median "$p" 3) m_cpu[$p]=$(median "$p" 6)
done
for p in "${peers[@]}"; do
  p50=$(median "$p" 4) p99=$(median "$p" 5) bc=$(median "$p" 7)
  total_r=$(awk -F'\t' -v p="$p" '$1 == p' "$results" | wc -l)
  quiet_r=$(quiet_rounds "$p")
  check=${problems[$p]:-}
  if [ "$quiet_r" -lt "$total_r" ]; then
    noisy_list=$(awk -F'\t' -v p="$p" -v q="$noisy_pct" '$1 == p && $11 >= q {printf "%s%s (%s%%)", (n++ ? ", " : ""), $2, $11}' "$results")
    if [ "$quiet_r" -gt 0 ]; then note="medians of $quiet_r quiet round(s); left out: $noisy_list"
    else note="NO quiet round, medians of all; busy rounds: $noisy_list"; fi
    check+="${check:+; }$note"
  fi
  check=${check:-ok}
  table+="
| $p | $(fmt "${m_rps[$p]}" %.0f) | $(fmt_ms "$p50") | $(fmt_ms "$p99") | $(fmt "${m_cpu[$p]}" %.1f) | $(fmt "$bc" %.1f) | $(ratio "${m_rps[$p]}" "${m_rps[nginx]}") | $(ratio "${m_cpu[$p]}" "${m_cpu[nginx]}") | $check |"
done

raw="| round | peer | req/s | p50 ms | p99 ms | proxy CPU µs/req | backends CPU µs/req | requests | non-2xx | socket errors | other processes % CPU |
|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
while IFS=$'\t' read -r p r rps p50 p99 pc bc n nx se ot; do
  raw+="
| $r | $p | $rps | $(fmt_ms "$p50") | $(fmt_ms "$p99") | $(fmt "$pc" %.2f) | $(fmt "$bc" %.2f) | $n | $nx | $se | $ot |"
done < <(sort -t$'\t' -k2,2n -s "$results")

echo
echo "$load_note"
echo "$table"
echo

if [ "$write_docs" = 1 ]; then
  mkdir -p docs
  cat >docs/performance.md <<EOF
# Performance

Written by \`$self --write-docs\` on $date_utc. A report, not a test: nothing here is asserted
anywhere, and figures from a shared VM move by several percent between runs; compare peers
within one run, not across runs.

## Result (medians over the quiet rounds of $rounds interleaved rounds)

$table

"checks" lists anything abnormal seen for that peer (non-2xx answers or socket errors counted by
wrk, a process that died, lines in gatewayd's warn-level log) and the rounds left out of the
medians because other processes on the machine used $noisy_pct% of a CPU or more during them
(figures in parentheses); "ok" means none of these.

## Machine and versions

- machine: $ncpu CPUs, $cpu_model, Linux $kernel
- nginx $nginx_version, wrk $wrk_version, ${gw_version:-gatewayd} (git $git_rev)
- command: \`$cmdline\`
- $load_note

## Method

$method

The proxy's CPU figure is the one that matters on this machine: wrk shares CPU 0 with both
backends, so requests/s is bounded by the load generator as much as by the proxy (the direct
row shows that ceiling). utime+stime is what the kernel charges to the process: on loopback the
receiving side's TCP work mostly runs in the sender's context, so part of a proxy's network cost
is charged to wrk and the backends and part of theirs to the proxy. The figure is comparable
between peers in one run, not an absolute cost.

## Every run

$raw

## How to rerun

\`\`\`sh
bash tools/bench.sh                 # about 2.5 minutes, prints the table
bash tools/bench.sh --quick         # about 30 s smoke run
bash tools/bench.sh --write-docs    # also rewrites this page
bash tools/bench.sh --duration 10 --rounds 7 --connections 100 --keep-temp
\`\`\`

It installs missing packages with \`tools/install-deps.sh\` (nginx-light and wrk among them),
builds \`build/\` with \`tools/build.sh\` if the binaries are missing, and copies the binaries to a
temp dir before starting. Configs: \`tools/bench/nginx.conf.in\`, \`tools/bench/gatewayd.yaml.in\`
(placeholders filled in per run). It needs 2 CPUs for the pinned layout.
EOF
  log "wrote docs/performance.md"
fi
exit 0
