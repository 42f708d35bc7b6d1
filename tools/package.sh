#!/usr/bin/env bash
# Builds the gatewayd .deb in build-pkg/ (Release, no tests), checks what is inside, installs it,
# checks the installed result (user, conffile, unit enabled, systemd-analyze verify/security, the
# unit's syscall filter against the syscalls the daemon really makes), runs the installed daemon by
# hand as the gatewayd user against the installed mock backend, and purges the package again.
#   tools/package.sh           everything above (as root: dpkg -i / --purge)
#   tools/package.sh --build   only build and check the .deb
# Prints PASS/FAIL per check; exits non-zero when any check failed.
set -uo pipefail
cd "$(dirname "$0")/.."
build_dir=build-pkg
max_exposure=${GATEWAYD_MAX_EXPOSURE:-2.0}   # systemd-analyze security score the unit must keep
failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
die() { echo "FAIL: $*"; echo "package: stopped after a fatal failure"; exit 1; }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }

work=$(mktemp -d /tmp/gatewayd-package.XXXXXX)
chmod 0755 "$work"   # the gatewayd user writes strace output below it
installed_by_us=0
started_pids=()
cleanup() {
  local pid
  for pid in "${started_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${started_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$installed_by_us" = 1 ]; then
    echo "package: purging gatewayd after an interrupted run"
    dpkg --purge gatewayd >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools ---------------------------------------------------------------------------------------
need=()
command -v dpkg-shlibdeps >/dev/null || need+=(dpkg-dev)
command -v systemd-analyze >/dev/null || need+=(systemd)
command -v strace >/dev/null || need+=(strace)
command -v curl >/dev/null || need+=(curl)
command -v objdump >/dev/null || need+=(binutils)
if [ ${#need[@]} -gt 0 ]; then
  echo "package: installing ${need[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  { "${sudo_cmd[@]}" apt-get update -qq && "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}"; } >/dev/null \
    || die "could not install ${need[*]}"
fi

# --- build the .deb ------------------------------------------------------------------------------
echo "package: building $build_dir (Release)"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGATEWAYD_TESTS=OFF \
  -DCMAKE_INSTALL_PREFIX=/usr >"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; die "cmake configure"; }
cmake --build "$build_dir" -j 2 --target gatewayd gatewayd-mock-backend >"$work/build.log" 2>&1 \
  || { tail -n 40 "$work/build.log"; die "build"; }
rm -f "$build_dir"/gatewayd_*.deb
(cd "$build_dir" && cpack -G DEB) >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; die "cpack"; }
deb=$(ls "$build_dir"/gatewayd_*.deb 2>/dev/null | head -n1)
[ -n "$deb" ] || die "cpack produced no gatewayd_*.deb"
pass "built $deb ($(du -k "$deb" | cut -f1) KiB)"

# --- what is inside ------------------------------------------------------------------------------
dpkg-deb -c "$deb" >"$work/contents" || die "dpkg-deb -c $deb"
for path in ./usr/bin/gatewayd ./usr/bin/gatewayd-mock-backend ./etc/gatewayd/gateway.yaml \
            ./lib/systemd/system/gatewayd.service ./usr/share/doc/gatewayd/README.md \
            ./usr/share/doc/gatewayd/operations.md ./usr/share/doc/gatewayd/examples/tls.yaml; do
  check "package contains $path" grep -q " $path\$" "$work/contents"
done
check "binaries are root-owned 0755" \
  test "$(grep -cE '^-rwxr-xr-x root/root .* \./usr/bin/gatewayd(-mock-backend)?$' "$work/contents")" = 2
check "nothing under /usr/local" bash -c "! grep -q ' ./usr/local' '$work/contents'"

dpkg-deb -I "$deb" >"$work/info" || die "dpkg-deb -I $deb"
field() { dpkg-deb -f "$deb" "$1"; }
check "Package: gatewayd, Version: $(field Version), Architecture: $(field Architecture)" \
  test "$(field Package)" = gatewayd -a -n "$(field Version)" -a "$(field Architecture)" = "$(dpkg --print-architecture)"
check "conffiles lists /etc/gatewayd/gateway.yaml" \
  test "$(dpkg-deb -I "$deb" conffiles 2>/dev/null)" = /etc/gatewayd/gateway.yaml
for script in postinst prerm postrm; do
  check "maintainer script $script is present and executable" grep -qE "^ .*[0-9]+ bytes, +[0-9]+ lines +\* +$script " "$work/info"
done
depends=$(field Depends)
echo "  Depends: $depends"
mkdir -p "$work/root"
dpkg-deb -x "$deb" "$work/root"
if needed=$(packaging/runtime-packages.sh "$work/root/usr/bin/gatewayd" "$work/root/usr/bin/gatewayd-mock-backend"); then
  # Depends entries by name; a library package may be named through a virtual package it
  # provides (libspdlog1.10 provides libspdlog1.10-fmt9).
  dep_names=$(sed 's/([^)]*)//g; s/|/,/g' <<<"$depends" | tr ',' '\n' | sed 's/^[[:space:]]*//; s/[[:space:]]*$//' | grep -v '^$')
  missing=()
  for pkg in $(cut -d' ' -f2 <<<"$needed") adduser; do
    provides=$(dpkg-query -W -f='${Provides}' "$pkg" 2>/dev/null | sed 's/([^)]*)//g' | tr ',' '\n' | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')
    found=0
    for name in "$pkg" $provides; do grep -qxF "$name" <<<"$dep_names" && found=1; done
    [ "$found" = 1 ] || missing+=("$pkg")
  done
  check "Depends names every package the binaries link, and adduser${missing:+ (missing: ${missing[*]})}" test ${#missing[@]} -eq 0
else
  fail "could not map the packaged binaries' libraries to packages"
fi
check "packaged unit is config/gatewayd.service" cmp -s "$work/root/lib/systemd/system/gatewayd.service" config/gatewayd.service

if [ "${1:-}" = --build ]; then
  echo "package: $failures failure(s) (build and contents only)"
  exit $((failures > 0))
fi

# --- install -------------------------------------------------------------------------------------
[ "$(id -u)" = 0 ] || die "installing needs root (run as root, or use --build)"
if dpkg-query -W -f='${Status}' gatewayd 2>/dev/null | grep -q 'ok installed'; then
  die "a gatewayd package is installed already; remove it first (dpkg --purge gatewayd)"
fi
getent passwd gatewayd >/dev/null && die "a user gatewayd exists without the package; purge would delete it, so not installing"
for port in 8080 8081 8082 9901; do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && die "port $port is in use; the installed config needs 8080, 8081, 8082 and 9901"
done

installed_by_us=1
if ! dpkg -i "$deb" >"$work/dpkg-i.log" 2>&1; then
  echo "package: dpkg -i left dependencies open; apt-get install -f"
  DEBIAN_FRONTEND=noninteractive apt-get install -f -y -qq >>"$work/dpkg-i.log" 2>&1
fi
if dpkg-query -W -f='${Status}' gatewayd 2>/dev/null | grep -q 'install ok installed'; then
  pass "dpkg -i installed gatewayd $(dpkg-query -W -f='${Version}' gatewayd)"
else
  cat "$work/dpkg-i.log"; die "dpkg -i $deb"
fi

uid=$(id -u gatewayd 2>/dev/null)
check "postinst created system user gatewayd (uid $uid, shell $(getent passwd gatewayd | cut -d: -f7))" \
  test -n "$uid" -a "${uid:-1000}" -lt 1000 -a "$(getent passwd gatewayd | cut -d: -f7)" = /usr/sbin/nologin
check "config is root:gatewayd 0640 ($(stat -c '%U:%G %a' /etc/gatewayd/gateway.yaml))" \
  test "$(stat -c '%U:%G %a' /etc/gatewayd/gateway.yaml)" = "root:gatewayd 640"
check "postinst made /etc/gatewayd/tls root:gatewayd 0750 ($(stat -c '%U:%G %a' /etc/gatewayd/tls 2>/dev/null))" \
  test "$(stat -c '%U:%G %a' /etc/gatewayd/tls 2>/dev/null)" = "root:gatewayd 750"
check "postinst enabled the unit (multi-user.target.wants symlink)" \
  test "$(readlink /etc/systemd/system/multi-user.target.wants/gatewayd.service)" = /lib/systemd/system/gatewayd.service

as_gatewayd=(setpriv --reuid=gatewayd --regid=gatewayd --init-groups --no-new-privs --inh-caps=-all --bounding-set=-all)
if out=$("${as_gatewayd[@]}" /usr/bin/gatewayd --config /etc/gatewayd/gateway.yaml --check-config 2>&1) && [ "$out" = "config OK" ]; then
  pass "gatewayd --check-config of the installed config, as user gatewayd: $out"
else
  fail "gatewayd --check-config /etc/gatewayd/gateway.yaml as gatewayd: $out"
fi

if out=$(systemd-analyze verify /lib/systemd/system/gatewayd.service 2>&1) && ! grep -q gatewayd <<<"$out"; then
  pass "systemd-analyze verify /lib/systemd/system/gatewayd.service"
else
  echo "$out"; fail "systemd-analyze verify /lib/systemd/system/gatewayd.service"
fi
score=$(systemd-analyze security --offline=true /lib/systemd/system/gatewayd.service 2>/dev/null \
        | sed -n 's/.*Overall exposure level for gatewayd.service: \([0-9.]*\).*/\1/p')
check "systemd-analyze security: exposure $score (at most $max_exposure)" \
  awk -v s="$score" -v m="$max_exposure" 'BEGIN { exit !(s != "" && s + 0 <= m + 0) }'

# --- run the installed daemon as the service user ------------------------------------------------
# Under strace, to check the unit's SystemCallFilter against every syscall start, serve and drain make;
# with the installed config plus a TLS listener on :8443 (a demo certificate), so that TLS is traced too.
install -d -o gatewayd -g gatewayd -m 0700 "$work/run"
bash tools/demo-cert.sh "$work/run/tls" >/dev/null
chown -R gatewayd:gatewayd "$work/run/tls"
sed -e 's|^  listen: ""  *# e.g. "0.0.0.0:8443".*|  listen: "127.0.0.1:8443"|' \
    -e "s|^  certificates: \\[\\]  .*|  certificates: [{cert: $work/run/tls/demo.crt, key: $work/run/tls/demo.key}]|" \
    /etc/gatewayd/gateway.yaml >"$work/run/gateway.yaml"
chown gatewayd:gatewayd "$work/run/gateway.yaml"
for port in 8081 8082; do
  (cd / && exec "${as_gatewayd[@]}" /usr/bin/gatewayd-mock-backend --port "$port" --quiet) >"$work/backend-$port.log" 2>&1 </dev/null &
  started_pids+=($!)
done
(cd / && exec "${as_gatewayd[@]}" strace -f -qq -c -o "$work/run/syscalls" \
   /usr/bin/gatewayd --config "$work/run/gateway.yaml") >"$work/gatewayd.log" 2>&1 </dev/null &
strace_pid=$!
started_pids+=("$strace_pid")
gatewayd_pid=""
# strace's child running /usr/bin/gatewayd (strace may fork short-lived probes first).
find_gatewayd_pid() {
  for child in $(cat "/proc/$strace_pid/task/$strace_pid/children" 2>/dev/null); do
    [ "$(readlink "/proc/$child/exe" 2>/dev/null)" = /usr/bin/gatewayd ] && gatewayd_pid=$child
  done
}
deadline=$((SECONDS + 15))
healthz=""
while [ "$SECONDS" -lt "$deadline" ]; do
  [ -n "$gatewayd_pid" ] || find_gatewayd_pid
  healthz=$(curl -s --max-time 1 http://127.0.0.1:9901/healthz) && [ "$healthz" = ok ] && break
  kill -0 "$strace_pid" 2>/dev/null || break
  sleep 0.1
done
# The daemon can exec and come up between the lookup and the health check of one round.
[ -n "$gatewayd_pid" ] || find_gatewayd_pid
check "installed gatewayd answers /healthz on the admin port (127.0.0.1:9901)" test "$healthz" = ok
check "it runs as user gatewayd (pid ${gatewayd_pid:-?})" \
  test -n "$gatewayd_pid" -a "$(ps -o user= -p "${gatewayd_pid:-0}" 2>/dev/null)" = gatewayd
readyz=""
for _ in $(seq 50); do
  readyz=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 http://127.0.0.1:9901/readyz) && [ "$readyz" = 200 ] && break
  sleep 0.1
done
check "/readyz is 200 with the installed mock backends up" test "$readyz" = 200
body=$(curl -s --max-time 2 http://127.0.0.1:8080/pkg-check)
check "a request through :8080 reaches a mock backend ($body)" \
  grep -qE '^Response from backend on port 808[12] \| path: /pkg-check$' <<<"$body"
body=$(curl -s --max-time 2 --cacert "$work/run/tls/demo.crt" https://localhost:8443/pkg-tls-check)
check "a request over TLS on :8443 reaches a mock backend ($body)" \
  grep -qE '^Response from backend on port 808[12] \| path: /pkg-tls-check$' <<<"$body"
metrics=$(curl -s --max-time 2 http://127.0.0.1:9901/metrics)
check "/metrics counts that request (gatewayd_requests_total{code=\"200\"})" \
  grep -qE '^gatewayd_requests_total\{code="200"\} [1-9]' <<<"$metrics"

if [ -n "$gatewayd_pid" ]; then kill -TERM "$gatewayd_pid" 2>/dev/null; fi
# strace exits with the traced daemon's status once it is gone; drain is at most shutdown_timeout.
deadline=$((SECONDS + 15))
while kill -0 "$strace_pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
if kill -0 "$strace_pid" 2>/dev/null; then
  fail "gatewayd did not exit within 15s of SIGTERM"
  [ -n "$gatewayd_pid" ] && kill -KILL "$gatewayd_pid" 2>/dev/null
  kill -KILL "$strace_pid" 2>/dev/null
fi
wait "$strace_pid"; status=$?
check "SIGTERM: gatewayd exited with status $status and logged 'gatewayd stopped'" \
  test "$status" = 0 -a "$(grep -c 'gatewayd stopped' "$work/gatewayd.log")" -ge 1
[ "$failures" -eq 0 ] || { echo "  gatewayd's output:"; tail -n 15 "$work/gatewayd.log" | sed 's/^/    /'; }
for pid in "${started_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
for pid in "${started_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
started_pids=()

# SystemCallFilter=@system-service minus ~@privileged @resources: what the unit lets through.
# systemd-analyze lists a set's member sets by name (@basic-io); expand them recursively.
expand() {
  local set entry
  for set in "$@"; do
    systemd-analyze syscall-filter "$set" 2>/dev/null | sed -n '2,$p' | sed 's/^[[:space:]]*//' \
      | grep -vE '^(#|$)' | while read -r entry; do
          if [[ "$entry" == @* ]]; then expand "$entry"; else echo "$entry"; fi
        done
  done | sort -u
}
expand @system-service >"$work/allowed"
expand @privileged @resources >"$work/denied"
used=$(awk 'NR > 2 && $NF ~ /^[a-z_0-9]+$/ && $NF != "total" { print $NF }' "$work/run/syscalls" 2>/dev/null | sort -u)
outside=$(comm -23 <(echo "$used") <(comm -23 "$work/allowed" "$work/denied"))
check "the unit's SystemCallFilter allows all $(wc -w <<<"$used") syscalls the daemon made${outside:+ (blocked: $(echo $outside))}" \
  test -n "$used" -a -z "$outside"

# --- purge ---------------------------------------------------------------------------------------
if dpkg --purge gatewayd >"$work/purge.log" 2>&1; then
  installed_by_us=0
  pass "dpkg --purge gatewayd"
else
  cat "$work/purge.log"; fail "dpkg --purge gatewayd"
fi
check "purge removed binaries, unit and /etc/gatewayd" \
  test ! -e /usr/bin/gatewayd -a ! -e /lib/systemd/system/gatewayd.service -a ! -e /etc/gatewayd
check "purge removed the unit's enablement symlink" test ! -L /etc/systemd/system/multi-user.target.wants/gatewayd.service
check "purge removed user and group gatewayd" bash -c '! getent passwd gatewayd >/dev/null && ! getent group gatewayd >/dev/null'

echo "package: $failures failure(s)"
[ "$failures" -eq 0 ]
