#!/usr/bin/env bash
# Many connections and large bodies against nginx and HAProxy (issue #19): a report, never a test.
# Same layout as tools/bench.sh: the proxy under test alone on CPU 1; wrk and the two mock backends
# on CPU 0. Phases, each a warm-up then a measured wrk run, interleaved over the peers per round:
#   c1000    GET / on 1,000 keep-alive client connections (wrk -t1 -c1000): req/s, proxy CPU per
#            request, p99, and upstream connections opened per 1,000 requests
#   body64k  GET /bytes/65536 on 50 connections (64 KiB responses, Content-Length): req/s, CPU
#            per request
#   base     GET / on 50 connections, the same peers' small-request figure as a control
#   flood    one client over its limit (gatewayd: limit 1 per hour, memory store; nginx
#            limit_req 1r/m; HAProxy a stick table and deny 429): at peak (wrk -t1 -c50) with
#            the share of its core the proxy used, which says whether the proxy or the load
#            generator was the limit, and paced at one rate all sustain (h2load, 50 clients,
#            30,000 req/s), where batching cannot differ, with the kernel's share of the CPU
# "Upstream connects" is the machine's TCP ActiveOpens over the measured run (/proc/net/snmp)
# less wrk's own connections: nothing else may run meanwhile. A second gatewayd binary to
# compare (an older build, or one built for io_uring) joins as gatewayd-base with
# GATEWAYD_BASE=path (GATEWAYD_BASE_NAME=name to call it something else).
#   tools/bench/scale_bench.sh [--rounds N] [--duration S] [--quick] [--write-docs] [--tables FILE]
# --write-docs replaces the section between the scale-bench markers of docs/performance.md.
{
set -euo pipefail
cd "$(dirname "$0")/../.."

rounds=3 duration=8 warmup=2 write_docs=0 out=""
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --quick) rounds=1 duration=1 warmup=1; shift ;;
    --write-docs) write_docs=1; shift ;;
    --tables) out=$2; shift 2 ;;
    *) echo "usage: $0 [--rounds N] [--duration S] [--quick] [--write-docs] [--tables FILE]" >&2; exit 2 ;;
  esac
done
build_dir=${BUILD_DIR:-build}
gatewayd=${GATEWAYD:-$build_dir/gatewayd}
mock=${MOCK_BACKEND:-$build_dir/gatewayd-mock-backend}
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
haproxy_bin=$(command -v haproxy || echo /usr/sbin/haproxy)
for f in "$gatewayd" "$mock" "$nginx_bin" "$haproxy_bin" ${GATEWAYD_BASE:+"$GATEWAYD_BASE"}; do
  [ -x "$f" ] || { echo "scale_bench: $f missing (build first)" >&2; exit 2; }
done
for tool in wrk h2load curl taskset python3; do command -v "$tool" >/dev/null || { echo "scale_bench: $tool not found" >&2; exit 2; }; done
[ "$(nproc)" -ge 2 ] || { echo "scale_bench: needs 2 CPUs for the pinned layout" >&2; exit 2; }

log() { echo "scale_bench: $*" >&2; }
tmp=$(mktemp -d /tmp/gatewayd-scale-bench.XXXXXX)
source tools/bench/common.sh
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" -ge 4096 ] || { echo "scale_bench: needs a file limit of 4096 or more" >&2; exit 2; }

b1=$(free_port) b2=$(free_port)
taskset -c $load_cpu "$mock" --port "$b1" --quiet >/dev/null 2>&1 & pids+=($!)
taskset -c $load_cpu "$mock" --port "$b2" --quiet >/dev/null 2>&1 & pids+=($!)
wait_port "$b1"; wait_port "$b2"

declare -A pid_of port_of
peers=()
start_gatewayd() {  # NAME BINARY [RATE-LIMIT]
  local port limit=${3:-'{enabled: false}'}
  port=$(free_port)
  cat >"$tmp/$1.yaml" <<YAML
listen: "127.0.0.1:$port"
admin: {listen: ""}
log: {level: warn, access_log: false}
rate_limit: $limit
health_check: {enabled: false}
client: {max_connections: 4096}
backends: [{url: "http://127.0.0.1:$b1"}, {url: "http://127.0.0.1:$b2"}]
YAML
  taskset -c $proxy_cpu "$2" --config "$tmp/$1.yaml" >"$tmp/$1.log" 2>&1 &
  pids+=($!) pid_of[$1]=$! port_of[$1]=$port
  wait_port "$port"
}
start_from_template() {  # NAME TEMPLATE CONFIG-NAME COMMAND...
  local name=$1 template=$2 config=$3 port
  shift 3
  port=$(free_port)
  mkdir -p "$tmp/$name"
  sed -e "s|@PREFIX@|$tmp/$name|g" -e "s|@PORT@|$port|g" -e "s|@BACKEND1@|$b1|g" -e "s|@BACKEND2@|$b2|g" \
    "$template" >"$tmp/$name/$config"
  taskset -c $proxy_cpu "$@" >"$tmp/$name.log" 2>&1 &
  pids+=($!) pid_of[$name]=$! port_of[$name]=$port
  wait_port "$port"
}
start_gatewayd gatewayd "$gatewayd"; peers+=(gatewayd)
base_name=${GATEWAYD_BASE_NAME:-gatewayd-base}
if [ -n "${GATEWAYD_BASE:-}" ]; then start_gatewayd "$base_name" "$GATEWAYD_BASE"; peers+=("$base_name"); fi
start_from_template nginx tools/bench/nginx.conf.in nginx.conf \
  "$nginx_bin" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log"
peers+=(nginx)
start_from_template haproxy tools/bench/haproxy.cfg.in haproxy.cfg "$haproxy_bin" -db -f "$tmp/haproxy/haproxy.cfg"
peers+=(haproxy)
flood_peers=(gatewayd-429 nginx-limit_req haproxy-429)
start_gatewayd gatewayd-429 "$gatewayd" "{enabled: true, store: memory, requests: 1, window: 1h}"
start_from_template nginx-limit_req tools/bench/nginx-limit_req.conf.in nginx.conf \
  "$nginx_bin" -p "$tmp/nginx-limit_req" -c "$tmp/nginx-limit_req/nginx.conf" -e "$tmp/nginx-limit_req/error.log"
start_from_template haproxy-429 tools/bench/haproxy-429.cfg.in haproxy.cfg "$haproxy_bin" -db -f "$tmp/haproxy-429/haproxy.cfg"
for p in "${flood_peers[@]}"; do curl -s -o /dev/null "http://127.0.0.1:${port_of[$p]}/"; done  # the one allowed
log "peers: ${peers[*]}; $rounds round(s) of ${duration}s measurements"

results=$tmp/results.tsv   # phase peer req/s cpu_us p99_us connects_per_1k
: >"$results"
active_opens() { awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "ActiveOpens") c = i; h = 1 } else print $c }' /proc/net/snmp; }
to_us() {  # wrk's 850.00us / 1.23ms / 2.00s in microseconds
  awk -v v="$1" 'BEGIN { n = v + 0; u = 1; if (v ~ /ms$/) u = 1000; else if (v ~ /us$/) u = 1; else if (v ~ /s$/) u = 1e6; printf "%.0f", n * u }'
}

measure() {  # PHASE PEER CONNECTIONS PATH
  local phase=$1 p=$2 c=$3 path=$4 t0 t1 o0 o1 out n rps p99
  taskset -c $load_cpu wrk -t1 -c"$c" -d"${warmup}s" "http://127.0.0.1:${port_of[$p]}$path" >/dev/null 2>&1 || true
  o0=$(active_opens) t0=$(ticks "${pid_of[$p]}")
  out=$(taskset -c $load_cpu wrk -t1 -c"$c" -d"${duration}s" --latency "http://127.0.0.1:${port_of[$p]}$path" 2>&1 || true)
  t1=$(ticks "${pid_of[$p]}") o1=$(active_opens)
  n=$(awk '/requests in/ { print $1 }' <<<"$out")
  rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
  p99=$(to_us "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
  grep -qE 'Non-2xx|Socket errors' <<<"$out" && log "$phase $p: $(grep -E 'Non-2xx|Socket errors' <<<"$out" | tr '\n' ' ')"
  awk -v ph="$phase" -v p="$p" -v n="${n:-0}" -v r="${rps:-0}" -v cpu=$((t1 - t0)) -v t="$clk_tck" -v q="$p99" \
      -v opens=$((o1 - o0 - c)) 'BEGIN {
    if (n == 0) { printf "%s\t%s\tnan\tnan\tnan\tnan\n", ph, p; exit }
    if (opens < 0) opens = 0
    printf "%s\t%s\t%.0f\t%.2f\t%s\t%.1f\n", ph, p, r, cpu * 1e6 / t / n, q, opens * 1000 / n }' >>"$results"
}

flood_results=$tmp/flood.tsv   # peer peak_rps peak_cpu_us busy_pct paced_rps paced_cpu_us paced_system_us
: >"$flood_results"
flood() {  # PEER: 429s at peak, then paced
  local p=$1 t0 t1 s0 s1 out n rps busy prps pn
  taskset -c $load_cpu wrk -t1 -c50 -d"${warmup}s" "http://127.0.0.1:${port_of[$p]}/" >/dev/null 2>&1 || true
  t0=$(ticks "${pid_of[$p]}")
  out=$(taskset -c $load_cpu wrk -t1 -c50 -d"${duration}s" "http://127.0.0.1:${port_of[$p]}/" 2>&1 || true)
  t1=$(ticks "${pid_of[$p]}")
  n=$(awk '/requests in/ { print $1 }' <<<"$out") rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
  busy=$(awk -v c=$((t1 - t0)) -v t="$clk_tck" -v d="$duration" 'BEGIN { printf "%.0f", c * 100 / t / d }')
  local c_peak=$((t1 - t0))
  t0=$(ticks "${pid_of[$p]}") s0=$(system_ticks "${pid_of[$p]}")
  out=$(taskset -c $load_cpu h2load --h1 -t1 -c50 --rps=600 -D "$duration" "http://127.0.0.1:${port_of[$p]}/" 2>&1 || true)
  t1=$(ticks "${pid_of[$p]}") s1=$(system_ticks "${pid_of[$p]}")
  pn=$(awk '/^requests:/ { print $6 }' <<<"$out")   # done: a 429 is a completed request
  prps=$(awk '/^finished in/ { gsub(",", ""); print $4 }' <<<"$out")
  awk -v p="$p" -v n="${n:-0}" -v r="${rps:-0}" -v c="$c_peak" -v t="$clk_tck" -v b="$busy" -v pn="${pn:-0}" \
      -v pr="${prps:-0}" -v pc=$((t1 - t0)) -v ps=$((s1 - s0)) 'BEGIN {
    printf "%s\t%.0f\t%s\t%s\t%.0f\t%s\t%s\n", p, r, n ? sprintf("%.2f", c * 1e6 / t / n) : "nan", b, pr,
      pn ? sprintf("%.2f", pc * 1e6 / t / pn) : "nan", pn ? sprintf("%.2f", ps * 1e6 / t / pn) : "nan" }' >>"$flood_results"
}

for r in $(seq 1 "$rounds"); do
  for p in "${peers[@]}"; do
    log "round $r: $p"
    measure c1000 "$p" 1000 /
    measure body64k "$p" 50 /bytes/65536
    measure base "$p" 50 /
  done
  for p in "${flood_peers[@]}"; do
    log "round $r: $p"
    flood "$p"
  done
done
for p in "${peers[@]}" "${flood_peers[@]}"; do kill -0 "${pid_of[$p]}" 2>/dev/null || { log "$p died during the run"; exit 1; }; done
rss_per_conn=()
for p in "${peers[@]}"; do rss_per_conn+=("$p=$(awk '/^VmRSS:/ { print $2 }' "/proc/${pid_of[$p]}/status")"); done

med() { awk -F'\t' -v ph="$1" -v p="$2" -v col="$3" '$1 == ph && $2 == p { print $col }' "$results" | grep -v nan | median 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0 || a == "nan" || b == "nan") print "–"; else printf "%.2f", a / b }'; }
tables=$tmp/tables.md
{
  echo "1,000 client connections (wrk -t1 -c1000, GET /, 45-byte answers; mock backends keep every connection open):"
  echo
  echo "| peer | req/s | proxy CPU µs/req | p99 ms | upstream connects per 1,000 requests | CPU ÷ HAProxy | p99 ÷ HAProxy |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  hc=$(med c1000 haproxy 4) hq=$(med c1000 haproxy 5)
  for p in "${peers[@]}"; do
    q=$(med c1000 "$p" 5)
    echo "| $p | $(med c1000 "$p" 3) | $(med c1000 "$p" 4) | $(awk -v q="$q" 'BEGIN { printf "%.1f", q / 1000 }') | $(med c1000 "$p" 6) | $(ratio "$(med c1000 "$p" 4)" "$hc") | $(ratio "$q" "$hq") |"
  done
  echo
  echo "64 KiB responses (wrk -t1 -c50, GET /bytes/65536 with Content-Length), and the 45-byte GET / on the same 50 connections as a control:"
  echo
  echo "| peer | 64 KiB req/s | proxy CPU µs/req | CPU ÷ HAProxy | CPU ÷ nginx | GET / CPU µs/req | GET / CPU ÷ nginx |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  hb=$(med body64k haproxy 4) nb=$(med body64k nginx 4) ns=$(med base nginx 4)
  for p in "${peers[@]}"; do
    c=$(med body64k "$p" 4) s=$(med base "$p" 4)
    echo "| $p | $(med body64k "$p" 3) | $c | $(ratio "$c" "$hb") | $(ratio "$c" "$nb") | $s | $(ratio "$s" "$ns") |"
  done
  echo
  echo "429 flood, one client over its limit (gatewayd: limit 1 per hour, memory store; nginx: limit_req 1r/m, burst 0; HAProxy: a stick table counting the client's requests, deny with 429 past the first). Peak: wrk -t1 -c50; \"proxy busy\" is the share of its core the proxy used (below 100%, the load generator was the limit). Paced: h2load, 50 clients, 30,000 req/s in all; \"kernel\" is the system time in it:"
  echo
  echo "| peer | peak req/s | CPU µs/refusal at peak | proxy busy | paced req/s | CPU µs/refusal paced | kernel µs of it | paced CPU ÷ nginx | paced CPU ÷ HAProxy |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  fmed() { awk -F'\t' -v p="$1" -v col="$2" '$1 == p { print $col }' "$flood_results" | grep -v nan | median 2; }
  npc=$(fmed nginx-limit_req 6) hpc=$(fmed haproxy-429 6)
  for p in "${flood_peers[@]}"; do
    echo "| $p | $(fmed "$p" 2) | $(fmed "$p" 3) | $(fmed "$p" 4)% | $(fmed "$p" 5) | $(fmed "$p" 6) | $(fmed "$p" 7) | $(ratio "$(fmed "$p" 6)" "$npc") | $(ratio "$(fmed "$p" 6)" "$hpc") |"
  done
  echo
  echo "Command: \`bash tools/bench/scale_bench.sh --rounds $rounds --duration $duration\` ($rounds round(s), medians;" \
       "$(nproc) CPUs, nginx $("$nginx_bin" -v 2>&1 | sed 's|.*/||'), HAProxy $("$haproxy_bin" -v 2>&1 | awk 'NR == 1 { print $3 }')," \
       "gatewayd $("$gatewayd" --version | cut -d' ' -f2) git $(git rev-parse --short HEAD 2>/dev/null || echo '?'))."
} >"$tables"
cat "$tables"
log "RSS after the run (KiB): ${rss_per_conn[*]}"
[ -n "$out" ] && cp "$tables" "$out"

if [ "$write_docs" = 1 ]; then
  write_docs_section scale-bench "$tables"
  log "wrote the scale tables into docs/performance.md"
fi
exit 0
}
