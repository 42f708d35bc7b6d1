#!/usr/bin/env bash
# CI: the README's quick start in the background, tests/smoke.sh against it, then stop the stack
# (always, also when the smoke test fails or the run is interrupted).
# Exit status: the smoke test's (number of failures), or 1 when the stack does not come up.
set -uo pipefail
cd "$(dirname "$0")/.."

trap 'bash tools/quickstart.sh --stop' EXIT
trap 'exit 130' INT TERM

if ! bash tools/quickstart.sh --background; then
  echo "FAIL: the quick start stack did not come up"
  exit 1
fi
bash tests/smoke.sh http://127.0.0.1:8080 http://127.0.0.1:9901
