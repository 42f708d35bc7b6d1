#!/usr/bin/env bash
# TLS and tunnels against nginx (issue #16): a report, never a test. Same layout as tools/bench.sh:
# the proxy under test alone on CPU 1; the load (openssl s_time, wrk, tls_load) and the two mock
# backends on CPU 0. gatewayd and nginx serve the same self-signed certificate, once ECDSA P-256
# and once RSA 2048, each with a plain and a TLS listener:
#   handshakes  full TLS handshakes per second (two `openssl s_time -new` clients), and the proxy's
#               CPU per handshake
#   keepalive   keep-alive requests per second over TLS and plain (wrk), CPU per request
#   idle        memory per idle keep-alive connection, TLS and plain (RSS growth over 2000)
#   ws          WebSocket echo messages per second through the proxy (50 connections, 64 bytes,
#               one message in flight per connection), CPU per message
# Rounds are interleaved over the peers; tables give medians. Every process is stopped by PID.
#   tools/bench/tls_bench.sh [--rounds N] [--duration S] [--quick] [--write-docs]
# --write-docs replaces the section between the tls-bench markers of docs/performance.md
# (tools/bench.sh --write-docs keeps that section, or rewrites it when its tls phase ran).
{
set -euo pipefail
cd "$(dirname "$0")/../.."

rounds=3 duration=8 warmup=2 idle_base=200 idle_more=2000 write_docs=0 out=""
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --quick) rounds=1 duration=1 warmup=1 idle_base=20 idle_more=100; shift ;;
    --write-docs) write_docs=1; shift ;;
    --tables) out=$2; shift 2 ;;   # also write the tables to this file (tools/bench.sh)
    *) echo "usage: $0 [--rounds N] [--duration S] [--quick] [--write-docs] [--tables FILE]" >&2; exit 2 ;;
  esac
done
build_dir=${BUILD_DIR:-build}
gatewayd=${GATEWAYD:-$build_dir/gatewayd}
mock=${MOCK_BACKEND:-$build_dir/gatewayd-mock-backend}
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
for f in "$gatewayd" "$mock" "$nginx_bin"; do [ -x "$f" ] || { echo "tls_bench: $f missing (build first)" >&2; exit 2; }; done
for tool in wrk openssl taskset cc python3; do command -v "$tool" >/dev/null || { echo "tls_bench: $tool not found" >&2; exit 2; }; done
[ "$(nproc)" -ge 2 ] || { echo "tls_bench: needs 2 CPUs for the pinned layout" >&2; exit 2; }

log() { echo "tls_bench: $*" >&2; }
tmp=$(mktemp -d /tmp/gatewayd-tls-bench.XXXXXX)
source tools/bench/common.sh

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

cc -O2 -o "$tmp/tls_load" tools/bench/tls_load.c -lssl -lcrypto || { echo "tls_bench: cannot build tls_load" >&2; exit 1; }
cc -O2 -o "$tmp/idle_conns" tools/bench/idle_conns.c || { echo "tls_bench: cannot build idle_conns" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# ---------------------------------------------------------------- certificates and backends
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost -keyout "$tmp/ecdsa.key" -out "$tmp/ecdsa.crt" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost -keyout "$tmp/rsa.key" -out "$tmp/rsa.crt" 2>/dev/null
b1=$(free_port) b2=$(free_port)
taskset -c $load_cpu "$mock" --port "$b1" --quiet >/dev/null 2>&1 & pids+=($!)
taskset -c $load_cpu "$mock" --port "$b2" --quiet >/dev/null 2>&1 & pids+=($!)
wait_port "$b1"; wait_port "$b2"

# ---------------------------------------------------------------- the peers
declare -A pid_of port_of tls_port_of
peers=()
start_gatewayd() {  # NAME KEY
  local name=$1 key=$2 port tls
  port=$(free_port) tls=$(free_port)
  cat >"$tmp/$name.yaml" <<YAML
listen: "127.0.0.1:$port"
admin: {listen: ""}
log: {level: warn, access_log: false}
rate_limit: {enabled: false}
health_check: {enabled: false}
backends: [{url: "http://127.0.0.1:$b1"}, {url: "http://127.0.0.1:$b2"}]
tls:
  listen: "127.0.0.1:$tls"
  certificates: [{cert: "$tmp/$key.crt", key: "$tmp/$key.key"}]
YAML
  taskset -c $proxy_cpu "$gatewayd" --config "$tmp/$name.yaml" >"$tmp/$name.log" 2>&1 &
  pids+=($!) pid_of[$name]=$! port_of[$name]=$port tls_port_of[$name]=$tls
  wait_port "$port"; wait_port "$tls"
}
start_nginx() {  # NAME KEY
  local name=$1 key=$2 port tls
  port=$(free_port) tls=$(free_port)
  mkdir -p "$tmp/$name"
  sed -e "s|@PREFIX@|$tmp/$name|g" -e "s|@PORT@|$port|g" -e "s|@TLS_PORT@|$tls|g" -e "s|@BACKEND1@|$b1|g" \
      -e "s|@BACKEND2@|$b2|g" -e "s|@CERT@|$tmp/$key.crt|g" -e "s|@KEY@|$tmp/$key.key|g" \
      tools/bench/nginx-tls.conf.in >"$tmp/$name/nginx.conf"
  taskset -c $proxy_cpu "$nginx_bin" -p "$tmp/$name" -c "$tmp/$name/nginx.conf" >"$tmp/$name.log" 2>&1 &
  pids+=($!) pid_of[$name]=$! port_of[$name]=$port tls_port_of[$name]=$tls
  wait_port "$port"; wait_port "$tls"
}
for key in ecdsa rsa; do
  start_gatewayd gatewayd-$key $key; peers+=(gatewayd-$key)
  start_nginx nginx-$key $key; peers+=(nginx-$key)
done
log "peers: ${peers[*]}; $rounds round(s) of ${duration}s measurements"

# ---------------------------------------------------------------- measurements
results=$tmp/results.tsv   # phase peer value cpu_us
: >"$results"
record() { printf '%s\t%s\t%s\t%s\n' "$@" >>"$results"; }

handshakes() {  # PEER: two s_time clients on CPU 0 for `duration` seconds
  local p=$1 t0 t1 n total=0
  t0=$(ticks "${pid_of[$p]}")
  for i in 1 2; do
    taskset -c $load_cpu openssl s_time -connect "127.0.0.1:${tls_port_of[$p]}" -new -time "$duration" \
      >"$tmp/stime-$p-$i.txt" 2>&1 &
  done
  wait
  t1=$(ticks "${pid_of[$p]}")
  for i in 1 2; do
    n=$(awk '/connections in [0-9.]+s;/ { print $1; exit }' "$tmp/stime-$p-$i.txt")
    total=$((total + ${n:-0}))
  done
  awk -v n="$total" -v d="$duration" -v c=$((t1 - t0)) -v t="$clk_tck" \
    'BEGIN { if (n == 0) print "nan nan"; else printf "%.1f %.1f\n", n / d, c * 1e6 / t / n }'
}

wrk_run() {  # PEER URL: warm-up then a measured wrk run
  local p=$1 url=$2 t0 t1 out n rps
  taskset -c $load_cpu wrk -t1 -c50 -d"${warmup}s" "$url" >/dev/null 2>&1
  t0=$(ticks "${pid_of[$p]}")
  out=$(taskset -c $load_cpu wrk -t1 -c50 -d"${duration}s" "$url" 2>&1)
  t1=$(ticks "${pid_of[$p]}")
  n=$(awk '/requests in/ { print $1 }' <<<"$out")
  rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
  grep -qE 'Non-2xx|Socket errors' <<<"$out" && log "$p $url: $(grep -E 'Non-2xx|Socket errors' <<<"$out" | tr '\n' ' ')"
  awk -v n="${n:-0}" -v r="${rps:-0}" -v c=$((t1 - t0)) -v t="$clk_tck" \
    'BEGIN { if (n == 0) print "nan nan"; else printf "%.0f %.2f\n", r, c * 1e6 / t / n }'
}

ws_run() {  # PEER: 50 upgraded connections, 64-byte messages
  local p=$1 t0 t1 out msgs secs
  # The warm-up is part of the same run; CPU is read around the counted part only.
  taskset -c $load_cpu "$tmp/tls_load" ws "${port_of[$p]}" 50 "$warmup" "$duration" 64 >"$tmp/ws-$p.txt" 2>&1 &
  local load=$!
  sleep "$warmup"
  t0=$(ticks "${pid_of[$p]}")
  wait "$load" || log "$p ws: $(cat "$tmp/ws-$p.txt")"
  t1=$(ticks "${pid_of[$p]}")
  read -r _ msgs _ secs _ <"$tmp/ws-$p.txt" || true
  awk -v n="${msgs:-0}" -v s="${secs:-1}" -v c=$((t1 - t0)) -v t="$clk_tck" \
    'BEGIN { if (n == 0) print "nan nan"; else printf "%.0f %.2f\n", n / s, c * 1e6 / t / n }'
}

for r in $(seq 1 "$rounds"); do
  log "round $r: handshakes"
  for p in gatewayd-ecdsa nginx-ecdsa gatewayd-rsa nginx-rsa; do
    read -r v c <<<"$(handshakes "$p")"; record "handshakes" "$p" "$v" "$c"
  done
  log "round $r: keep-alive requests"
  for p in gatewayd-ecdsa nginx-ecdsa; do
    read -r v c <<<"$(wrk_run "$p" "https://127.0.0.1:${tls_port_of[$p]}/")"; record "keepalive-tls" "$p" "$v" "$c"
    read -r v c <<<"$(wrk_run "$p" "http://127.0.0.1:${port_of[$p]}/")"; record "keepalive-plain" "$p" "$v" "$c"
  done
  log "round $r: WebSocket echo"
  for p in gatewayd-ecdsa nginx-ecdsa; do
    read -r v c <<<"$(ws_run "$p")"; record "ws" "$p" "$v" "$c"
  done
done

log "idle: $idle_base then $((idle_base + idle_more)) idle connections, TLS and plain"
# A fresh process per listener: memory freed by one measurement would be reused by the next.
declare -A idle_per idle_open idle_rss
for listener in tls plain; do
  for peer in gatewayd nginx; do
    p=$peer-idle-$listener
    "start_$peer" "$p" ecdsa
    hold() {  # COUNT TAG: held until the release file appears
      if [ "$listener" = tls ]; then
        taskset -c $load_cpu "$tmp/tls_load" idle "${tls_port_of[$p]}" "$1" "$tmp/release-$p-$listener" 120 \
          >"$tmp/idle-$p-$listener-$2.txt" 2>&1 &
      else
        taskset -c $load_cpu "$tmp/idle_conns" "${port_of[$p]}" "$1" "$tmp/release-$p-$listener" 120 \
          >"$tmp/idle-$p-$listener-$2.txt" 2>&1 &
      fi
      pids+=($!)
      for _ in $(seq 1 600); do grep -q '^ready' "$tmp/idle-$p-$listener-$2.txt" 2>/dev/null && return 0; sleep 0.1; done
      log "$p $listener: idle connections not ready"
    }
    hold "$idle_base" base
    sleep 1; rss0=$(rss_kib "${pid_of[$p]}")
    hold "$idle_more" more
    sleep 1; rss1=$(rss_kib "${pid_of[$p]}")
    touch "$tmp/release-$p-$listener"
    for _ in $(seq 1 100); do grep -q '^open' "$tmp/idle-$p-$listener-more.txt" 2>/dev/null && break; sleep 0.1; done
    sleep 1  # both holders closed their connections before the next measurement
    idle_per[$p]=$(awk -v a="$rss0" -v b="$rss1" -v n="$idle_more" 'BEGIN { printf "%.2f", (b - a) / n }')
    idle_open[$p]=$(awk '/^open/ { print $2 }' "$tmp/idle-$p-$listener-more.txt")
    idle_rss[$p]="$rss0 $rss1"
  done
done

# ---------------------------------------------------------------- tables
med() { awk -F'\t' -v ph="$1" -v p="$2" -v col="$3" '$1 == ph && $2 == p { print $col }' "$results" | grep -v nan | median 2; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0 || a == "nan" || b == "nan") print "–"; else printf "%.2f", a / b }'; }
tables=$tmp/tables.md
{
  echo "Full handshakes (\`openssl s_time -new\`, two clients, TLS 1.3, no resumption):"
  echo
  echo "| key | peer | handshakes/s | proxy CPU µs/handshake | handshakes/s ÷ nginx | CPU ÷ nginx |"
  echo "|---|---|---:|---:|---:|---:|"
  for key in ecdsa rsa; do
    label=$([ $key = ecdsa ] && echo "ECDSA P-256" || echo "RSA 2048")
    nv=$(med handshakes nginx-$key 3) nc=$(med handshakes nginx-$key 4)
    for p in gatewayd-$key nginx-$key; do
      v=$(med handshakes $p 3) c=$(med handshakes $p 4)
      echo "| $label | ${p%-*} | $v | $c | $(ratio "$v" "$nv") | $(ratio "$c" "$nc") |"
    done
  done
  echo
  echo "Keep-alive requests (wrk -t1 -c50, GET / through the proxy to the two mock backends; ECDSA certificate):"
  echo
  echo "| listener | peer | req/s | proxy CPU µs/req | req/s ÷ nginx | CPU ÷ nginx |"
  echo "|---|---|---:|---:|---:|---:|"
  for ph in keepalive-tls keepalive-plain; do
    label=$([ $ph = keepalive-tls ] && echo TLS || echo plain)
    nv=$(med $ph nginx-ecdsa 3) nc=$(med $ph nginx-ecdsa 4)
    for p in gatewayd-ecdsa nginx-ecdsa; do
      v=$(med $ph $p 3) c=$(med $ph $p 4)
      echo "| $label | ${p%-*} | $v | $c | $(ratio "$v" "$nv") | $(ratio "$c" "$nc") |"
    done
  done
  echo
  echo "WebSocket echo (tls_load ws: 50 upgraded connections, 64-byte messages, one in flight per connection, to the mock backend's /ws):"
  echo
  echo "| peer | messages/s | proxy CPU µs/message | messages/s ÷ nginx | CPU ÷ nginx |"
  echo "|---|---:|---:|---:|---:|"
  nv=$(med ws nginx-ecdsa 3) nc=$(med ws nginx-ecdsa 4)
  for p in gatewayd-ecdsa nginx-ecdsa; do
    v=$(med ws $p 3) c=$(med ws $p 4)
    echo "| ${p%-*} | $v | $c | $(ratio "$v" "$nv") | $(ratio "$c" "$nc") |"
  done
  echo
  echo "Memory per idle keep-alive connection (tls_load idle over TLS, idle_conns over plain: each past one request; TLS ones past a full handshake):"
  echo
  echo "| listener | peer | RSS with $idle_base idle (KiB) | RSS with $((idle_base + idle_more)) idle (KiB) | KiB per connection | still open |"
  echo "|---|---|---:|---:|---:|---:|"
  for listener in tls plain; do
    for peer in gatewayd nginx; do
      k=$peer-idle-$listener
      read -r a b <<<"${idle_rss[$k]}"
      echo "| $([ $listener = tls ] && echo TLS || echo plain) | $peer | $a | $b | ${idle_per[$k]} | ${idle_open[$k]:-?} of $idle_more |"
    done
  done
  echo
  echo "Command: \`bash tools/bench/tls_bench.sh --rounds $rounds --duration $duration\` ($rounds round(s), medians;" \
       "$(nproc) CPUs, $(openssl version | cut -d' ' -f1-2), nginx $("$nginx_bin" -v 2>&1 | sed 's|.*/||'), gatewayd $("$gatewayd" --version | cut -d' ' -f2)" \
       "git $(git rev-parse --short HEAD 2>/dev/null || echo '?'))."
} >"$tables"
cat "$tables"
[ -n "$out" ] && cp "$tables" "$out"

if [ "$write_docs" = 1 ]; then
  write_docs_section tls-bench "$tables"
  log "wrote the TLS tables into docs/performance.md"
fi
exit 0
}
