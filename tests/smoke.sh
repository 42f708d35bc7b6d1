#!/usr/bin/env bash
# curl smoke test against a running gatewayd stack (the quick start or docker-compose):
#   tests/smoke.sh [URL] [ADMIN_URL]     defaults http://127.0.0.1:8080 http://127.0.0.1:9901
# Checks what a user sees: admin /healthz /readyz /backends, round robin over two mock backends,
# X-RateLimit-* headers, a 429 with Retry-After once the client's limit is used up, the contract's
# metric names and counters that move between two scrapes.
# Prints PASS/FAIL lines; exit status = number of failures. Needs curl, bash, grep, sed.
# It uses up this client's rate-limit window (limit + at most 5 requests), so a second run within
# the window first waits for the window to reset (at most 65 s).
set -uo pipefail

url=${1:-http://127.0.0.1:8080}
admin=${2:-http://127.0.0.1:9901}
url=${url%/}
admin=${admin%/}
max_limit=${SMOKE_MAX_LIMIT:-1000}   # refuse to send more than this + 5 requests

failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

tmp=$(mktemp -d /tmp/gatewayd-smoke.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# fetch NAME URL: status code on stdout; headers in $tmp/NAME.h (CR removed), body in $tmp/NAME.b.
fetch() {
  local name=$1 target=$2 code
  code=$(curl -sS --max-time 5 -o "$tmp/$name.b" -D "$tmp/$name.raw" -w '%{http_code}' "$target" 2>"$tmp/$name.err") || code=000
  tr -d '\r' <"$tmp/$name.raw" >"$tmp/$name.h" 2>/dev/null || : >"$tmp/$name.h"
  echo "$code"
}
# header NAME FIELD: the field's value from $tmp/NAME.h, empty when absent.
header() { grep -i "^$2:" "$tmp/$1.h" | tail -n1 | sed 's/^[^:]*:[[:space:]]*//'; }
is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }
# metric_sum FILE NAME: sum of the samples of NAME (every label set), integer part.
metric_sum() {
  local total=0 v
  while read -r v; do
    v=${v%%.*}
    is_uint "$v" && total=$((total + v))
  done < <(grep -E "^$2(\{[^}]*\})? " "$1" | sed 's/.* //')
  echo "$total"
}

echo "smoke: gateway $url, admin $admin"

# --- admin ---------------------------------------------------------------------------------------
code=$(fetch healthz "$admin/healthz")
if [ "$code" = 200 ] && grep -qx ok "$tmp/healthz.b"; then pass "admin /healthz is 200 ok"
else fail "admin /healthz: status $code, body '$(head -c 80 "$tmp/healthz.b" 2>/dev/null)' $(cat "$tmp/healthz.err")"; fi

code=$(fetch readyz "$admin/readyz")
if [ "$code" = 200 ]; then pass "admin /readyz is 200 (a backend is available)"
else fail "admin /readyz: status $code, body '$(head -c 80 "$tmp/readyz.b" 2>/dev/null)'"; fi

code=$(fetch backends "$admin/backends")
body=$(tr -d ' \n' <"$tmp/backends.b" 2>/dev/null)
backend_count=$(grep -o '"url":"[^"]*"' <<<"$body" | sort -u | wc -l)
ctype=$(header backends Content-Type)
if [ "$code" = 200 ] && [[ "$ctype" == application/json* ]] && [[ "$body" == \[*\] ]] \
   && [ "$backend_count" -ge 2 ] \
   && [ "$(grep -o '"healthy":true' <<<"$body" | wc -l)" -ge 2 ] \
   && [ "$(grep -o '"circuit":"closed"' <<<"$body" | wc -l)" -ge 2 ] \
   && grep -q '"requests":[0-9]' <<<"$body" && grep -q '"failures":[0-9]' <<<"$body"; then
  pass "admin /backends is a JSON array of $backend_count healthy backends with closed circuits"
else
  fail "admin /backends: status $code, content type '$ctype', body '${body:0:200}'"
fi

code=$(fetch metrics1 "$admin/metrics")
missing=()
# A family is declared by its TYPE line even before it has samples (no request answered yet).
for name in gatewayd_requests_total gatewayd_request_duration_seconds gatewayd_upstream_requests_total \
            gatewayd_rate_limited_total gatewayd_rate_limit_store_errors_total gatewayd_circuit_state \
            gatewayd_backend_up gatewayd_active_connections gatewayd_tls_handshakes_total \
            gatewayd_tunnels_active gatewayd_tunnels_total process_open_fds \
            process_resident_memory_bytes process_start_time_seconds; do
  grep -qE "^# TYPE $name " "$tmp/metrics1.b" 2>/dev/null || missing+=("$name")
done
if [ "$code" = 200 ] && [ ${#missing[@]} -eq 0 ]; then pass "admin /metrics has every contract metric"
else fail "admin /metrics: status $code, missing: ${missing[*]:-none}"; fi
if grep -qE '^# TYPE gatewayd_request_duration_seconds histogram' "$tmp/metrics1.b" 2>/dev/null \
   && grep -qE '^gatewayd_request_duration_seconds_bucket\{le="\+Inf"\}' "$tmp/metrics1.b"; then
  pass "gatewayd_request_duration_seconds is a histogram with a +Inf bucket"
else
  fail "gatewayd_request_duration_seconds is not a histogram with a +Inf bucket"
fi
requests_before=$(metric_sum "$tmp/metrics1.b" gatewayd_requests_total)
limited_before=$(metric_sum "$tmp/metrics1.b" gatewayd_rate_limited_total)
upstream_before=$(metric_sum "$tmp/metrics1.b" gatewayd_upstream_requests_total)
sent=0

# --- a window left over from an earlier run ------------------------------------------------------
code=$(fetch probe "$url/smoke/probe"); sent=$((sent + 1))
if [ "$code" = 429 ]; then
  wait_s=$(header probe Retry-After)
  if is_uint "$wait_s" && [ "$wait_s" -le 65 ]; then
    echo "smoke: this client is rate limited from an earlier run; waiting ${wait_s}s for the window to reset"
    sleep "$wait_s"
    code=$(fetch probe "$url/smoke/probe"); sent=$((sent + 1))
  fi
fi
if [ "$code" = 200 ]; then pass "GET $url/smoke/probe is 200"
else fail "GET $url/smoke/probe: status $code $(cat "$tmp/probe.err")"; fi

# --- round robin ---------------------------------------------------------------------------------
# The mock backend answers "Response from backend on port N | path: TARGET".
ports=()
rr_ok=1
for i in 1 2 3 4; do
  code=$(fetch "rr$i" "$url/smoke/rr-$i?n=$i"); sent=$((sent + 1))
  body=$(cat "$tmp/rr$i.b" 2>/dev/null)
  port=$(sed -n 's/^Response from backend on port \([0-9]*\) | path: .*/\1/p' <<<"$body")
  if [ "$code" != 200 ] || [ -z "$port" ] || [[ "$body" != *"| path: /smoke/rr-$i?n=$i" ]]; then
    echo "  request $i: status $code, body '${body:0:100}'"; rr_ok=0
  fi
  ports+=("${port:-?}")
done
if [ "$rr_ok" = 1 ] && [ "${ports[0]}" != "${ports[1]}" ] && [ "${ports[0]}" = "${ports[2]}" ] \
   && [ "${ports[1]}" = "${ports[3]}" ]; then
  pass "round robin: 4 requests answered by backends ${ports[*]} (alternating, path and query kept)"
else
  fail "round robin: answers came from ${ports[*]} (want two backends alternating)"
fi
if [ -n "$(header rr1 X-Request-Id)" ]; then pass "proxied answer carries X-Request-Id"
else fail "proxied answer has no X-Request-Id"; fi

# --- rate limit headers and 429 ------------------------------------------------------------------
limit=$(header rr4 X-RateLimit-Limit)
remaining=$(header rr4 X-RateLimit-Remaining)
reset=$(header rr4 X-RateLimit-Reset)
prev_remaining=$(header rr3 X-RateLimit-Remaining)
if is_uint "$limit" && is_uint "$remaining" && is_uint "$reset" && [ "$reset" -ge 1 ] \
   && is_uint "$prev_remaining" && [ "$remaining" -eq $((prev_remaining - 1)) ]; then
  pass "X-RateLimit-Limit $limit, X-RateLimit-Remaining counts down ($prev_remaining -> $remaining), X-RateLimit-Reset ${reset}s"
else
  fail "X-RateLimit-* headers: limit '$limit' remaining '$prev_remaining' -> '$remaining' reset '$reset'"
fi

if ! is_uint "$limit" || ! is_uint "$remaining"; then
  fail "429: cannot tell how many requests are left (no X-RateLimit headers)"
elif [ "$limit" -gt "$max_limit" ]; then
  fail "429: the limit $limit is above SMOKE_MAX_LIMIT=$max_limit; not flooding the gateway"
else
  # Use up the rest of the window, then one more must be refused; at most limit + 5 in all.
  budget=$((limit + 5 - sent))
  limited_code=""
  n=0
  while [ "$n" -lt "$budget" ]; do
    n=$((n + 1))
    code=$(fetch flood "$url/smoke/flood-$n"); sent=$((sent + 1))
    if [ "$code" = 429 ]; then limited_code=429; break; fi
    if [ "$code" != 200 ]; then echo "  flood request $n: status $code"; fi
  done
  if [ "$limited_code" = 429 ]; then
    retry_after=$(header flood Retry-After)
    window_reset=$(header flood X-RateLimit-Reset)
    if [ "$n" -eq $((remaining + 1)) ]; then
      pass "429 after exactly the $remaining remaining request(s) of the window"
    else
      fail "429 came at request $n of the flood, but $remaining were left"
    fi
    if is_uint "$retry_after" && [ "$retry_after" -ge 1 ] && [ "$(header flood X-RateLimit-Remaining)" = 0 ] \
       && is_uint "$window_reset" && grep -q '"error":"rate_limited"' "$tmp/flood.b"; then
      pass "429 has Retry-After ${retry_after}s, X-RateLimit-Remaining 0 and error rate_limited"
    else
      fail "429 answer: Retry-After '$retry_after', Remaining '$(header flood X-RateLimit-Remaining)', body '$(head -c 120 "$tmp/flood.b")'"
    fi
  else
    fail "no 429 within $sent requests (limit $limit)"
  fi
fi

# --- metrics moved -------------------------------------------------------------------------------
code=$(fetch metrics2 "$admin/metrics")
requests_after=$(metric_sum "$tmp/metrics2.b" gatewayd_requests_total)
limited_after=$(metric_sum "$tmp/metrics2.b" gatewayd_rate_limited_total)
upstream_after=$(metric_sum "$tmp/metrics2.b" gatewayd_upstream_requests_total)
if [ "$code" = 200 ] && [ "$((requests_after - requests_before))" -ge "$sent" ]; then
  pass "gatewayd_requests_total moved by $((requests_after - requests_before)) for our $sent requests"
else
  fail "gatewayd_requests_total moved from $requests_before to $requests_after for $sent requests (status $code)"
fi
if [ "$((limited_after - limited_before))" -ge 1 ]; then
  pass "gatewayd_rate_limited_total moved by $((limited_after - limited_before))"
else
  fail "gatewayd_rate_limited_total did not move ($limited_before -> $limited_after)"
fi
if [ "$((upstream_after - upstream_before))" -ge 5 ]; then
  pass "gatewayd_upstream_requests_total moved by $((upstream_after - upstream_before))"
else
  fail "gatewayd_upstream_requests_total moved by $((upstream_after - upstream_before)) (want >= 5)"
fi

echo "smoke: $failures failure(s), $sent proxied request(s) sent"
exit "$failures"
