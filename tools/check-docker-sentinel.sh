#!/usr/bin/env bash
# Static checks of docker/docker-compose.sentinel.yml (a primary, a replica, three sentinels and a
# gateway in sentinel mode), run by tools/check-docker.sh: valid for docker-compose 1.29, hardened
# like the main compose file, healthchecks and depends_on conditions, the sentinels' monitor line
# agreeing with docker/gateway-sentinel.yaml, and that config passing gatewayd --check-config.
# Prints PASS/FAIL per check; exit status = number of failures.
#   tools/check-docker-sentinel.sh GATEWAYD_BINARY
set -uo pipefail
cd "$(dirname "$0")/.."
gatewayd=${1:?usage: tools/check-docker-sentinel.sh GATEWAYD_BINARY}
compose=docker/docker-compose.sentinel.yml
config=docker/gateway-sentinel.yaml
# shellcheck source=tools/compose_checks.sh
. tools/compose_checks.sh

work=$(mktemp -d /tmp/gatewayd-check-sentinel.XXXXXX)
trap 'rm -rf "$work"' EXIT

resolve_compose "$work/compose.yml" "$compose"

cat >"$work/check.py" <<'PY'
import re, sys, yaml
from compose_checks import check_hardening, depends_on_healthy, mount, report
compose = yaml.safe_load(open(sys.argv[1]))
cfg = yaml.safe_load(open(sys.argv[2])) or {}
services = compose.get("services", {})
sentinels = ["sentinel1", "sentinel2", "sentinel3"]
expected = {"redis-primary", "redis-replica", *sentinels, "backend1", "backend2", "gateway"}
report(set(services) == expected, "sentinel compose services are %s (got %s)" % (sorted(expected), sorted(services)))
check_hardening(services, sorted(n for n in services if n != "gateway"))
report(depends_on_healthy(services.get("gateway", {}), sentinels + ["backend1", "backend2"]),
       "gateway depends_on the three sentinels and both backends, healthy")
report(depends_on_healthy(services.get("redis-replica", {}), ["redis-primary"]), "the replica waits for the primary")
replica_cmd = services.get("redis-replica", {}).get("command") or []
report("--replicaof" in replica_cmd and replica_cmd[replica_cmd.index("--replicaof") + 1] == "redis-primary",
       "redis-replica replicates redis-primary")
# Each sentinel monitors redis-primary under the name the gateway asks for, with a quorum the
# three of them can reach.
redis = cfg.get("redis") or {}
master = str(redis.get("master_name", "mymaster"))
for name in sentinels:
    text = " ".join(str(part) for part in services.get(name, {}).get("command") or [])
    m = re.search(r"sentinel monitor (\S+) (\S+) (\d+) (\d+)", text)
    report(bool(m) and m.group(1) == master and m.group(2) == "redis-primary" and m.group(3) == "6379"
           and 1 <= int(m.group(4)) <= 3,
           f"{name}: monitors redis-primary:6379 as {master!r} with a quorum of 1-3")
    report("--sentinel" in text and "port 26379" in text, f"{name}: runs as a sentinel on 26379")
report(redis.get("mode") == "sentinel", f"{sys.argv[2]}: redis.mode is sentinel")
report(sorted(redis.get("sentinels") or []) == sorted(f"{n}:26379" for n in sentinels),
       f"{sys.argv[2]}: redis.sentinels names the three sentinel services")
backends = sorted(b.get("url", "") for b in cfg.get("backends") or [])
report(backends == ["http://backend1:8081", "http://backend2:8082"], f"{sys.argv[2]}: backends are the compose mocks")
gw = services.get("gateway", {})
report(any(src.endswith("gateway-sentinel.yaml") and dst == "/etc/gatewayd/gateway.yaml" and ro
           for src, dst, ro in map(mount, gw.get("volumes") or [])),
       "gateway mounts docker/gateway-sentinel.yaml read-only at /etc/gatewayd/gateway.yaml")
# The config lines a sentinel writes at start, for the trial run below.
text = "\n".join(str(part) for part in services.get("sentinel1", {}).get("command") or [])
with open(sys.argv[3], "w") as out:
    lines = re.findall(r"'([^'\n]*)'", text.split("printf", 1)[-1].split(">", 1)[0])
    out.write("\n".join(line for line in lines if "%s" not in line) + "\n")
PY
run_python_check "$work/check.py" "$work/compose.yml" "$config" "$work/sentinel.conf"

# The sentinel config the containers write, tried with the local redis-server: on a free port,
# monitoring a local primary in place of redis-primary, it must start and name that primary.
if command -v redis-server >/dev/null; then
  free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
  primary_port=$(free_port) sentinel_port=$(free_port)
  redis-server --port "$primary_port" --bind 127.0.0.1 --save "" --dir "$work" >"$work/primary.log" 2>&1 &
  primary_pid=$!
  sed -e "s/^port 26379$/port $sentinel_port/" -e "s/ redis-primary 6379 / 127.0.0.1 $primary_port /" \
    "$work/sentinel.conf" >"$work/trial.conf"
  echo "bind 127.0.0.1" >>"$work/trial.conf"
  redis-server "$work/trial.conf" --sentinel >"$work/sentinel.log" 2>&1 &
  sentinel_pid=$!
  named=""
  for _ in $(seq 1 100); do
    named=$(redis-cli -p "$sentinel_port" sentinel get-master-addr-by-name mymaster 2>/dev/null | tr '\n' ' ')
    [ -n "$named" ] && break
    sleep 0.05
  done
  kill "$sentinel_pid" "$primary_pid" 2>/dev/null
  wait "$sentinel_pid" "$primary_pid" 2>/dev/null
  if [ "$named" = "127.0.0.1 $primary_port " ]; then
    pass "the sentinels' config starts a sentinel that names its primary"
  else
    cat "$work/trial.conf" "$work/sentinel.log"
    fail "the sentinels' config does not start a working sentinel (got \"$named\")"
  fi
fi

if out=$("$gatewayd" --config "$config" --check-config 2>&1); then
  pass "gatewayd --check-config $config: $out"
else
  echo "$out"
  fail "gatewayd --check-config $config"
fi
exit "$failures"
