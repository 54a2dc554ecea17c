#!/usr/bin/env bash
# Start-up time (not a test): from the launch of ./netwatcher to its "attached" line on stderr,
# N runs per mode (default 5), median and range. As root, with the jar built:
#   sudo bench/startup.sh [N]
# Modes: -S, and every option on (-S -r -k -e -t -u -I -n -L -x -a --rtt -i --dns).
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
N=${1:-5}
[ -f "$root/target/netwatcher.jar" ] || { echo "bench/startup.sh: build first (mvn -DskipTests package)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
measure() {
  local mode=$1 i t0 t1 pid
  : >"$tmp/times"
  for i in $(seq "$N"); do
    : >"$tmp/err"
    t0=$(date +%s%N)
    # shellcheck disable=SC2086
    "$root/netwatcher" $mode --no-logs >/dev/null 2>"$tmp/err" & pid=$!
    until grep -q attached "$tmp/err" 2>/dev/null; do
      kill -0 $pid 2>/dev/null || { echo "bench/startup.sh: netwatcher $mode exited: $(head -1 "$tmp/err")" >&2; exit 1; }
      sleep 0.005
    done
    t1=$(date +%s%N)
    kill -INT $pid; wait $pid 2>/dev/null || true
    echo "$(( (t1 - t0) / 1000000 ))" >>"$tmp/times"
  done
  sort -n "$tmp/times" | python3 -c "
import sys
v = [int(x) for x in sys.stdin]
print('%-60s median %.2f s  (%.2f..%.2f, %d runs)' % (sys.argv[1], v[len(v)//2] / 1000, v[0] / 1000, v[-1] / 1000, len(v)))" "$mode"
}
measure "-S"
measure "-S -r -k -e -t -u -I -n -L -x -a --rtt -i --dns"
