# Sourced by tools/check-docker.sh and tools/check-docker-sentinel.sh: PASS/FAIL lines counted
# in $failures, and a compose file set validated and resolved the way docker-compose 1.29 reads it.
failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }

# resolve_compose OUTPUT FILE...: checks the files with `config -q` and writes the resolved form.
resolve_compose() {
  local output=$1 files=() file
  shift
  for file in "$@"; do files+=(-f "$file"); done
  if docker-compose "${files[@]}" config -q 2>"$output.err"; then
    pass "docker-compose config -q accepts $*"
  else
    cat "$output.err"
    fail "docker-compose config -q rejects $*"
  fi
  docker-compose "${files[@]}" config >"$output" 2>/dev/null
}

# run_python_check SCRIPT ARGS...: runs one structure check with tools/compose_checks.py
# importable and counts its FAIL lines.
run_python_check() {
  local out
  out=$(PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$PWD/tools" python3 "$@" 2>&1) || out+=$'\nFAIL: '"$1 crashed"
  echo "$out"
  failures=$((failures + $(grep -c '^FAIL' <<<"$out")))
}
