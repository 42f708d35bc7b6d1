#!/usr/bin/env bash
# Static checks of docker/ for machines without a Docker engine (CI):
#   - docker-compose.yml is valid for docker-compose 1.29 and hardened (read-only, cap_drop ALL,
#     healthchecks, depends_on conditions, config mounted read-only), and docker/gateway.yaml names
#     the compose services on the ports they listen on;
#   - the Dockerfile passes a small lint (no hadolint in Debian 12): pinned FROM tags, apt hygiene,
#     COPY sources present and not ignored, non-root USER, HEALTHCHECK on the admin port;
#   - the build stage's COPY set is enough to configure the project (cmake run on exactly it);
#   - every shared library a Release build links comes from a runtime-stage package;
#   - docker/gateway.yaml passes gatewayd --check-config;
#   - the TLS example (docker-compose.tls.yml over docker-compose.yml) resolves, mounts its config
#     and the certificate directory read-only, publishes tls.listen's port, and
#     docker/gateway-tls.yaml passes --check-config with a demo certificate where it is mounted.
#   - docker-compose.sentinel.yml and its gateway config (tools/check-docker-sentinel.sh).
# Prints PASS/FAIL per check; exit status = number of failures. Installs docker-compose if missing.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build_dir=${BUILD_DIR:-build-pkg}
dockerfile=docker/Dockerfile
compose=docker/docker-compose.yml
compose_tls=docker/docker-compose.tls.yml
# shellcheck source=tools/compose_checks.sh
. tools/compose_checks.sh

work=$(mktemp -d /tmp/gatewayd-check-docker.XXXXXX)
trap 'rm -rf "$work"' EXIT

# --- tools --------------------------------------------------------------------------------------
if ! command -v docker-compose >/dev/null 2>&1; then
  echo "check-docker: installing docker-compose (Debian package)"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq && "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
fi
if ! command -v docker-compose >/dev/null 2>&1; then
  fail "docker-compose is not installed and could not be installed"
  exit "$failures"
fi

# A Release build for ldd and --check-config (shared with tools/package.sh).
if [ ! -x "$build_dir/gatewayd" ] || [ ! -x "$build_dir/gatewayd-mock-backend" ]; then
  echo "check-docker: building $build_dir (Release)"
  if [ ! -f "$build_dir/build.ninja" ]; then
    cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGATEWAYD_TESTS=OFF \
      -DCMAKE_INSTALL_PREFIX=/usr >"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; fail "configure $build_dir"; exit "$failures"; }
  fi
  cmake --build "$build_dir" -j 2 --target gatewayd gatewayd-mock-backend >"$work/build.log" 2>&1 \
    || { tail -n 30 "$work/build.log"; fail "build $build_dir"; exit "$failures"; }
fi

# --- docker-compose.yml -------------------------------------------------------------------------
resolve_compose "$work/compose.yml" "$compose"

# Structure of the resolved compose file and its agreement with docker/gateway.yaml.
cat >"$work/compose_check.py" <<'PY'
import re, sys, yaml
from compose_checks import check_hardening, depends_on_healthy, mount, published_ports, report
compose = yaml.safe_load(open(sys.argv[1]))
gateway_cfg = yaml.safe_load(open(sys.argv[2])) or {}
dockerfile = open(sys.argv[3]).read()
services = compose.get("services", {})
report(set(services) == {"redis", "backend1", "backend2", "gateway"},
       "compose services are redis, backend1, backend2, gateway (got %s)" % sorted(services))
check_hardening(services, ("redis", "backend1", "backend2"))
gw = services.get("gateway", {})
report(depends_on_healthy(gw, ("redis", "backend1", "backend2")),
       "gateway depends_on redis, backend1, backend2 with condition service_healthy")
report(any(dst == "/etc/gatewayd/gateway.yaml" and ro for _, dst, ro in map(mount, gw.get("volumes") or [])),
       "gateway mounts its config read-only at /etc/gatewayd/gateway.yaml")
# Which port each mock backend listens on, from its entrypoint.
backend_ports = {}
for name in ("backend1", "backend2"):
    argv = services.get(name, {}).get("entrypoint") or []
    if "--port" in argv:
        backend_ports[name] = argv[argv.index("--port") + 1]
    report("--host" in argv and argv[argv.index("--host") + 1] == "0.0.0.0",
           f"{name}: mock backend binds 0.0.0.0 (reachable from the gateway container)")
urls = [b.get("url", "") for b in gateway_cfg.get("backends") or []]
found = {}
for url in urls:
    m = re.fullmatch(r"http://([^:/]+):(\d+)/?", url)
    if m: found[m.group(1)] = m.group(2)
report(found == backend_ports, f"docker/gateway.yaml backends {urls} match the compose mock backends {backend_ports}")
redis_host = str((gateway_cfg.get("redis") or {}).get("address", "")).split(":")[0]
report(redis_host == "redis", f"docker/gateway.yaml redis.address uses the service name (got {redis_host!r})")
listen = str(gateway_cfg.get("listen", "0.0.0.0:8080"))
admin = str((gateway_cfg.get("admin") or {}).get("listen", "127.0.0.1:9901"))
report(listen.startswith("0.0.0.0:"), f"gateway listens on all interfaces in the container ({listen})")
published = published_ports(gw)
report(listen.rsplit(":", 1)[1] in published and admin.rsplit(":", 1)[1] in published,
       f"gateway publishes its listen and admin ports ({published})")
hc = re.search(r"^HEALTHCHECK.*?https?://127\.0\.0\.1:(\d+)/healthz", dockerfile, re.M | re.S)
report(bool(hc) and hc.group(1) == admin.rsplit(":", 1)[1],
       f"image HEALTHCHECK polls /healthz on the admin port of docker/gateway.yaml ({admin})")
PY
run_python_check "$work/compose_check.py" "$work/compose.yml" docker/gateway.yaml "$dockerfile"

# --- the TLS example ----------------------------------------------------------------------------
resolve_compose "$work/compose-tls.yml" "$compose" "$compose_tls"
cat >"$work/compose_tls_check.py" <<'PY'
import sys, yaml
from compose_checks import mount, published_ports, report
compose = yaml.safe_load(open(sys.argv[1]))
plain = yaml.safe_load(open(sys.argv[2])) or {}
tls_cfg = yaml.safe_load(open(sys.argv[3])) or {}
gw = compose.get("services", {}).get("gateway", {})
mounts = [mount(m) for m in gw.get("volumes") or []]
report(any(src.endswith("docker/gateway-tls.yaml") and dst == "/etc/gatewayd/gateway.yaml" and ro for src, dst, ro in mounts),
       "TLS example: gateway-tls.yaml mounted read-only as /etc/gatewayd/gateway.yaml")
report(any(src.endswith("docker/tls") and dst == "/etc/gatewayd/tls" and ro for src, dst, ro in mounts),
       "TLS example: docker/tls mounted read-only at /etc/gatewayd/tls")
tls = tls_cfg.get("tls") or {}
port = str(tls.get("listen", "")).rsplit(":", 1)[-1]
published = published_ports(gw)
report(bool(port) and port in published, f"TLS example: tls.listen port {port} is published ({published})")
certs = [c.get(k, "") for c in tls.get("certificates") or [] for k in ("cert", "key")]
report(bool(certs) and all(p.startswith("/etc/gatewayd/tls/") for p in certs),
       f"TLS example: certificate files are under the mounted /etc/gatewayd/tls ({certs})")
same = {k: v for k, v in tls_cfg.items() if k != "tls"} == plain
report(same, "TLS example: gateway-tls.yaml is gateway.yaml plus its tls section")
PY
run_python_check "$work/compose_tls_check.py" "$work/compose-tls.yml" docker/gateway.yaml docker/gateway-tls.yaml
check ".gitignore keeps docker/tls (demo keys) out of git" grep -qx '/docker/tls/' .gitignore
check ".dockerignore keeps docker/tls out of the image" grep -qx 'docker/tls' .dockerignore

# --- Dockerfile lint ----------------------------------------------------------------------------
# One logical line per instruction (continuations joined), comments dropped.
sed -e 's/[[:space:]]*#.*$//' "$dockerfile" | awk '
  /\\$/ { sub(/\\$/, ""); buf = buf $0 " "; next }
  { print buf $0; buf = "" }' | grep -v '^[[:space:]]*$' >"$work/instructions"

stage_aliases=()
from_ok=1
while read -r _ image rest; do
  alias=$(sed -n 's/.*[Aa][Ss][[:space:]]\+\([A-Za-z0-9_-]\+\).*/\1/p' <<<"$rest")
  if [[ " ${stage_aliases[*]} " == *" $image "* ]]; then :;
  elif [[ "$image" != *:* || "$image" == *:latest ]]; then echo "  unpinned FROM $image"; from_ok=0; fi
  [ -n "$alias" ] && stage_aliases+=("$alias")
done < <(grep -i '^FROM ' "$work/instructions")
check "every FROM is pinned by a tag (not latest)" test "$from_ok" = 1

apt_ok=1
while read -r line; do
  if [[ "$line" == *"apt-get install"* ]]; then
    [[ "$line" == *"--no-install-recommends"* ]] || { echo "  no --no-install-recommends: ${line:0:80}"; apt_ok=0; }
    [[ "$line" == *"rm -rf /var/lib/apt/lists/*"* ]] || { echo "  apt lists not cleaned in the same RUN: ${line:0:80}"; apt_ok=0; }
    [[ "$line" == *"apt-get update"* ]] || { echo "  apt-get install without apt-get update in the same RUN"; apt_ok=0; }
    [[ "$line" == *" -y "* || "$line" == *" -y"$'\n'* ]] || { echo "  apt-get install without -y"; apt_ok=0; }
  fi
done < <(grep -i '^RUN ' "$work/instructions")
check "apt-get: update+install in one RUN, -y, --no-install-recommends, lists removed" test "$apt_ok" = 1

# The final stage: from its FROM to the end.
awk 'toupper($1) == "FROM" { n = NR } { line[NR] = $0 } END { for (i = n; i <= NR; i++) print line[i] }' \
  "$work/instructions" >"$work/final"
last_user=$(awk 'toupper($1) == "USER" { u = $2 } END { print u }' "$work/final")
user_before_entrypoint=$(awk 'toupper($1) == "USER" { u = NR } toupper($1) == "ENTRYPOINT" { e = NR } END { print (u && e && u < e) ? 1 : 0 }' "$work/final")
check "final stage runs as a non-root USER ($last_user) set before ENTRYPOINT" \
  test -n "$last_user" -a "$last_user" != root -a "$last_user" != 0 -a "$user_before_entrypoint" = 1
check "final stage has a HEALTHCHECK" grep -qi '^HEALTHCHECK ' "$work/final"
check "the HEALTHCHECK tool (curl) is installed in the final stage" grep -q 'apt-get install.* curl' "$work/final"

# COPY sources (not --from) exist in the context and .dockerignore does not drop them.
ignored() {
  local path=$1 pattern
  while read -r pattern; do
    pattern=${pattern%/}
    [ -z "$pattern" ] || [[ "$pattern" == \#* ]] && continue
    # shellcheck disable=SC2053  # glob match on purpose
    [[ "$path" == $pattern || "$path" == $pattern/* ]] && return 0
  done <.dockerignore
  return 1
}
copy_ok=1
copied=()
while read -r line; do
  [[ "$line" == *"--from="* ]] && continue
  read -ra words <<<"$line"
  sources=()
  for w in "${words[@]:1}"; do [[ "$w" == --* ]] || sources+=("$w"); done
  unset 'sources[${#sources[@]}-1]'
  for src in "${sources[@]}"; do
    src=${src#./}
    if [ ! -e "$src" ]; then echo "  COPY source missing: $src"; copy_ok=0;
    elif ignored "$src"; then echo "  COPY source excluded by .dockerignore: $src"; copy_ok=0;
    else copied+=("$src"); fi
  done
done < <(grep -i '^COPY ' "$work/instructions")
check "COPY sources exist and are not excluded by .dockerignore" test "$copy_ok" = 1
check ".dockerignore excludes .git and build*/ trees" grep -qx '.git' .dockerignore
grep -qx 'build\*/' .dockerignore || fail ".dockerignore excludes build*/"

# The build stage configures with exactly what it copies (catches a file CMake needs but no COPY).
mkdir -p "$work/context"
build_copies=$(awk 'toupper($1) == "FROM" { stage++ } stage == 1 && toupper($1) == "COPY" && !/--from=/' "$work/instructions")
while read -r _ rest; do
  read -ra parts <<<"$rest"
  dest=${parts[-1]}
  for src in "${parts[@]:0:${#parts[@]}-1}"; do
    src=${src#./}
    if [[ "$dest" == */ || "$dest" == . || "$dest" == ./ ]]; then
      mkdir -p "$work/context/$dest"; cp -r "$src" "$work/context/$dest/"
    else
      mkdir -p "$(dirname "$work/context/$dest")"; cp -r "$src" "$work/context/$dest"
    fi
  done
done <<<"$build_copies"
if cmake -S "$work/context" -B "$work/context-build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
     -DGATEWAYD_TESTS=OFF >"$work/context.log" 2>&1; then
  pass "the build stage's COPY set configures (cmake on a copy of exactly those files)"
else
  tail -n 15 "$work/context.log"
  fail "the build stage's COPY set does not configure"
fi

# Runtime libraries: what the Release binaries link, against what the final stage installs.
runtime_pkgs=$(grep -o 'apt-get install[^&]*' "$work/final" | tr ' ' '\n' | grep -v -e '^-' -e '^$' -e '^apt-get$' -e '^install$' | sort -u)
# In debian:12-slim already: apt and dpkg need them.
base_pkgs="libc6 libgcc-s1 libstdc++6"
if needed=$(packaging/runtime-packages.sh "$build_dir/gatewayd" "$build_dir/gatewayd-mock-backend"); then
  missing=()
  while read -r soname pkg; do
    grep -qx "$pkg" <<<"$runtime_pkgs" || [[ " $base_pkgs " == *" $pkg "* ]] || missing+=("$soname($pkg)")
  done <<<"$needed"
  echo "  linked: $(awk '{printf "%s ", $2}' <<<"$needed")"
  check "runtime stage installs every package the binaries link${missing:+ (missing: ${missing[*]})}" test ${#missing[@]} -eq 0
else
  fail "could not map the binaries' libraries to packages"
fi

# --- the compose config itself ------------------------------------------------------------------
if out=$("$build_dir/gatewayd" --config docker/gateway.yaml --check-config 2>&1); then
  pass "gatewayd --check-config docker/gateway.yaml: $out"
else
  echo "$out"
  fail "gatewayd --check-config docker/gateway.yaml"
fi
# The TLS example's config, with a demo certificate where the container would find it.
bash tools/demo-cert.sh "$work/tls" >/dev/null
sed "s|/etc/gatewayd/tls/|$work/tls/|g" docker/gateway-tls.yaml >"$work/gateway-tls.yaml"
if out=$("$build_dir/gatewayd" --config "$work/gateway-tls.yaml" --check-config 2>&1); then
  pass "gatewayd --check-config docker/gateway-tls.yaml (demo certificate in place): $out"
else
  echo "$out"
  fail "gatewayd --check-config docker/gateway-tls.yaml"
fi
if out=$("$build_dir/gatewayd" --config config/gateway.yaml --check-config 2>&1); then
  pass "gatewayd --check-config config/gateway.yaml (the image's default): $out"
else
  echo "$out"
  fail "gatewayd --check-config config/gateway.yaml"
fi

# The second compose file: Redis with Sentinel (tools/check-docker-sentinel.sh).
bash tools/check-docker-sentinel.sh "$build_dir/gatewayd"
failures=$((failures + $?))

echo "check-docker: $failures failure(s)"
exit "$failures"
