#!/usr/bin/env bash
# Builds the libFuzzer fuzzers with clang (ASan + UBSan) into build-fuzz/ and runs each for
# SECONDS (default 60), two at a time, on a scratch copy of its seed corpus. New corpus entries
# stay in build-fuzz/; crash inputs go to build-fuzz/artifacts/<name>/. Exits non-zero when any
# fuzzer crashed, leaked or timed out.
#   tools/fuzz.sh [SECONDS]
# FUZZERS="config session" limits the run to those fuzzers.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
case "$seconds" in '' | *[!0-9]*) echo "usage: tools/fuzz.sh [SECONDS]" >&2; exit 2 ;; esac

bash tools/install-deps.sh
# clang and its runtime (libFuzzer, sanitizers), only when missing.
fuzz_packages=(clang libclang-rt-14-dev)
missing=()
for p in "${fuzz_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

build=build-fuzz
fuzzers=(${FUZZERS:-config client_ip header_rewrite duration_size redis_reply request_parsing session tls_listener})
if [ ! -f "$build/build.ninja" ]; then
  # A warning in our own code fails this build too, as it does the gcc build in CI.
  CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGATEWAYD_FUZZ=ON -DGATEWAYD_WERROR=ON
fi
targets=()
for name in "${fuzzers[@]}"; do targets+=("${name}_fuzzer"); done
cmake --build "$build" -j "$(nproc)" --target "${targets[@]}"

seeds=../shared/fuzz-seeds
run_dir=$build/fuzz-run
mkdir -p "$run_dir" "$build/artifacts"

# One fuzzer: scratch corpus first (libFuzzer adds new inputs to the first directory only), then
# the read-only seeds; its log and a one-line result are left in $run_dir.
run_one() {
  local name=$1
  local corpus=$run_dir/corpus-$name
  local artifacts=$build/artifacts/$name/
  rm -rf "$corpus"
  mkdir -p "$corpus" "$artifacts"
  cp -r "tests/fuzz/corpus/$name/." "$corpus/"
  local extra=()
  if [ "$name" = session ] || [ "$name" = header_rewrite ] || [ "$name" = request_parsing ]; then
    [ -f "$seeds/http1.dict" ] && extra+=("-dict=$seeds/http1.dict")
  fi
  # The session fuzzer's first setup takes heads up to 1 MiB (client.max_header_bytes' maximum).
  if [ "$name" = session ]; then extra+=("-max_len=1100000"); fi
  local dirs=("$corpus")
  if [ "$name" = session ] && [ -d "$seeds/http1" ]; then dirs+=("$seeds/http1"); fi
  local status=0
  # FUZZ_SEED: a fixed seed (the default, 1) makes a CI run repeatable; 0 lets libFuzzer pick one
  # for exploring (FUZZ_SEED=0 bash tools/fuzz.sh 600).
  "$build/tests/fuzz/${name}_fuzzer" -seed="${FUZZ_SEED:-1}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts" "${extra[@]}" "${dirs[@]}" \
    > "$run_dir/$name.log" 2>&1 || status=$?
  local execs per_sec cov
  # A run that died early has no stats: the summary then says "?".
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$run_dir/$name.log" | tail -1 || true)
  per_sec=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$run_dir/$name.log" | tail -1 || true)
  cov=$( (grep -o 'cov: [0-9]*' "$run_dir/$name.log" || true) | tail -1 | cut -d' ' -f2)
  local result=ok
  if [ "$status" -ne 0 ]; then
    result="FAILED (exit $status): $(ls "$artifacts" 2>/dev/null | tr '\n' ' ')"
  fi
  printf '%-15s execs=%-10s exec/s=%-7s cov=%-6s %s\n' "$name" "${execs:-?}" "${per_sec:-?}" "${cov:-?}" \
    "$result" > "$run_dir/$name.result"
  [ "$status" -eq 0 ]
}

# Two at a time: the machine has two cores.
failed=0
for ((i = 0; i < ${#fuzzers[@]}; i += 2)); do
  pids=()
  for name in "${fuzzers[@]:i:2}"; do
    echo "fuzz: $name for ${seconds}s"
    run_one "$name" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
done

echo "fuzz summary (logs in $run_dir/):"
for name in "${fuzzers[@]}"; do cat "$run_dir/$name.result"; done
if [ "$failed" -ne 0 ]; then
  echo "fuzz: a fuzzer failed; minimise the artifact, add it to tests/fuzz/regressions/<name>/, fix the bug" >&2
  exit 1
fi
