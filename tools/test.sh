#!/usr/bin/env bash
# The whole test suite: installs packages, builds, runs unit and integration tests with ctest.
#   tools/test.sh              normal build in build/
#   tools/test.sh --sanitize   ASan + UBSan build in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/install-deps.sh
if [ "${1:-}" = "--sanitize" ]; then
  export BUILD_DIR=build-asan BUILD_TYPE=Debug
  bash tools/build.sh -DGATEWAYD_SANITIZE=ON
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
else
  bash tools/build.sh
fi
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure --timeout 300
