# shellcheck shell=bash disable=SC2034,SC2154
# Shared by the scripts in tools/bench (sourced after they cd to the repository root): the pinned
# CPU layout, a temp dir, processes stopped by PID on exit, free ports, CPU ticks, medians and
# the writing of a table section into docs/performance.md.
#   tmp=$(mktemp -d); source tools/bench/common.sh
# Every process a script starts goes into pids+=($!); cleanup stops them and removes $tmp.

load_cpu=0 proxy_cpu=1
clk_tck=$(getconf CLK_TCK)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port() {  # PORT: up to 10 s
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listens on $1" >&2
  exit 1
}
ticks() {  # utime + stime of PID, in clock ticks
  local line rest
  read -r line <"/proc/$1/stat"
  rest=${line##*) }
  # shellcheck disable=SC2086
  set -- $rest
  echo $(( ${12} + ${13} ))
}
system_ticks() {  # stime of PID (the kernel's share of ticks), in clock ticks
  local line rest
  read -r line <"/proc/$1/stat"
  rest=${line##*) }
  # shellcheck disable=SC2086
  set -- $rest
  echo "${13}"
}
# The median of the numbers on stdin, one a line ("nan" for none); DIGITS decimals for an even count.
median() {
  sort -n | awk -v d="${1:-2}" '{ v[NR] = $1 } END {
    if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.*f\n", d, (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# write_docs_section NAME TABLES: replaces what stands between <!-- NAME:begin --> and
# <!-- NAME:end --> in docs/performance.md with the file TABLES.
write_docs_section() {
  python3 - "$1" "$2" docs/performance.md <<'PY'
import sys
name, tables, page = sys.argv[1], open(sys.argv[2]).read(), sys.argv[3]
doc = open(page).read()
begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
if begin not in doc or end not in doc:
    sys.exit(f"{page} has no {name} markers")
head, rest = doc.split(begin, 1)
_, tail = rest.split(end, 1)
open(page, "w").write(head + begin + "\n" + tables + end + tail)
PY
}
