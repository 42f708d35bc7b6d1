#!/usr/bin/env bash
# The whole test suite: installs packages, builds, runs unit, integration and soak tests with
# ctest, then the operations checks (the .deb, the Docker files, curl smoke tests against the
# quick-start stack), the fuzzers for a bounded time and a smoke run of the benchmark.
#   tools/test.sh              normal build in build/, then everything above
#   tools/test.sh --sanitize   ASan + UBSan build in build-asan/, ctest only
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/install-deps.sh
if [ "${1:-}" = "--sanitize" ]; then
  export BUILD_DIR=build-asan BUILD_TYPE=Debug
  bash tools/build.sh -DGATEWAYD_SANITIZE=ON -DGATEWAYD_WERROR=ON
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  ctest --test-dir build-asan --output-on-failure --timeout 300
  exit 0
fi

# A warning in the project's own code fails the build here, and so CI.
bash tools/build.sh -DGATEWAYD_WERROR=ON
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure --timeout 300
bash tools/package.sh        # Release .deb in build-pkg/: build, check, install, run, purge
bash tools/check-docker.sh   # static Docker and compose checks (no Docker engine here)
bash tools/smoke-ci.sh       # quick start in the background, tests/smoke.sh, stopped by PID
bash tools/fuzz.sh "${FUZZ_SECONDS:-30}"   # every fuzzer under ASan/UBSan for a bounded time
bash tools/bench.sh --quick >/dev/null     # keeps the benchmark from rotting; no thresholds
