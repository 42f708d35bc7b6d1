#!/usr/bin/env bash
# Configures and builds gatewayd into BUILD_DIR (default build/); extra args go to cmake, and
# configure again an existing build directory (cheap: the cache stays).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
if [ ! -f "$build_dir/build.ninja" ] || [ $# -gt 0 ]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} "$@"
fi
cmake --build "$build_dir" -j "$(nproc)"
