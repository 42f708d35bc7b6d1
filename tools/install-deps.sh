#!/usr/bin/env bash
# Installs what building, running and testing gatewayd needs on Debian 12 (as root or via sudo).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git curl
  libboost1.81-dev libboost-url1.81-dev   # Asio, Beast, Boost.URL (Debian's default Boost is 1.74)
  libhiredis-dev libyaml-cpp-dev libspdlog-dev
  prometheus-cpp-dev                     # the /metrics text format
  libsystemd-dev                         # sd_notify: READY/RELOADING/STOPPING/WATCHDOG
  libssl-dev                             # OpenSSL 3: SHA1 of Redis scripts (EVALSHA)
  libgtest-dev libgmock-dev
  redis-server                           # rate limiter store, and the tests' real Redis
  redis-tools                            # redis-cli: the cluster tests' `redis-cli --cluster create`
                                         # (the Sentinel tests run redis-server --sentinel)
  nginx-light wrk                        # the benchmark's peer and load generator
  haproxy nghttp2-client                 # the benchmark's second peer; h2load for a constant rate
  strace valgrind                        # system calls and instructions per request
  dpkg-dev                               # dpkg-shlibdeps for the .deb's Depends
)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
