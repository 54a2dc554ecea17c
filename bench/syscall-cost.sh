#!/usr/bin/env bash
# What netwatcher costs a process that does no networking (not a test): dd with 1-byte blocks
# (two system calls per byte), without netwatcher and with each mode, R rounds taken in turn
# (default 5), the median time and its ratio to the baseline's (timed without --bpf-stats, which
# adds two clock reads to each program run); then one more dd per mode with --bpf-stats: how many
# times each program ran during it and its run time. As root, with the jar built:
#   sudo bench/syscall-cost.sh [R] [COUNT] [CHECKOUT...]
# COUNT: bytes dd copies (default 3000000). Other checkouts (built, e.g. a git worktree of an older
# commit) are measured too, in the same rounds, as "-u@DIR".
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
R=${1:-5}
COUNT=${2:-3000000}
shift 2 || shift $# || true
others=("$@")
. "$root/scripts/env.sh"
nw_find_java >/dev/null
[ -f "$root/target/netwatcher.jar" ] || { echo "bench/syscall-cost.sh: build first (mvn -DskipTests package)" >&2; exit 1; }
modes=("-u" "-u --udp-send-syscalls" "-t" "-S -r -k -e" "-t -u -I -n -x -i --dns")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ddtime() { # seconds dd took
  local t0 t1
  t0=$(date +%s.%N); dd if=/dev/zero of=/dev/null bs=1 count="$COUNT" 2>/dev/null; t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}

# with DIR MODE [--bpf-stats]: dd while that checkout's netwatcher runs MODE (metrics only)
with() {
  local dir=$1 mode=$2 stats=${3:-} port t
  # shellcheck disable=SC2086
  "$JAVA_HOME/bin/java" "${NW_JVM_OPTS[@]}" -jar "$dir/target/netwatcher.jar" $mode --no-logs --metrics 127.0.0.1:0 $stats \
    >/dev/null 2>"$tmp/err" &
  local pid=$!
  for _ in $(seq 1 300); do grep -q attached "$tmp/err" 2>/dev/null && break; sleep 0.1; done
  port=$(grep -o 'metrics on http://[^ ]*:[0-9]*/metrics' "$tmp/err" | sed 's/.*:\([0-9]*\)\/metrics/\1/')
  curl -s "http://127.0.0.1:$port/metrics" >"$tmp/before"
  t=$(ddtime)
  curl -s "http://127.0.0.1:$port/metrics" >"$tmp/after"
  kill -INT "$pid"; wait "$pid" || true
  # programs that ran during dd: runs and seconds (after - before)
  python3 - "$tmp/before" "$tmp/after" >"$tmp/progs" <<'PY'
import re, sys
def read(f):
    v = {}
    for l in open(f):
        m = re.match(r'netwatcher_bpf_program_(runs|run_seconds)_total\{program="([^"]+)"\} (\S+)', l)
        if m: v[(m.group(2), m.group(1))] = float(m.group(3))
    return v
a, b = read(sys.argv[1]), read(sys.argv[2])
out = []
for (p, k), x in b.items():
    if k == "runs" and x - a.get((p, k), 0) > 1000:
        out.append(f"{p} {int(x - a.get((p, k), 0))} runs {b.get((p, 'run_seconds'), 0) - a.get((p, 'run_seconds'), 0):.3f} s")
print("; ".join(out) or "no program ran more than 1000 times")
PY
  echo "$t"
}

declare -A times progs
for r in $(seq 1 "$R"); do
  times[baseline]+="$(ddtime) "
  for m in "${modes[@]}"; do times[$m]+="$(with "$root" "$m") "; done
  for o in "${others[@]}"; do times["-u@$o"]+="$(with "$o" "-u") "; done
done
for m in "${modes[@]}"; do with "$root" "$m" --bpf-stats >/dev/null; progs[$m]=$(cat "$tmp/progs"); done
for o in "${others[@]}"; do with "$o" "-u" --bpf-stats >/dev/null; progs["-u@$o"]=$(cat "$tmp/progs"); done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }
base=$(echo "${times[baseline]}" | median)
echo "dd bs=1 count=$COUNT ($((COUNT * 2)) system calls), $R rounds, kernel $(uname -r)"
printf "%-28s %10s %8s  %s\n" MODE MEDIAN_S RATIO "PROGRAMS RUN DURING ONE dd (bpf_stats)"
printf "%-28s %10.3f %8s\n" baseline "$base" 1.00
for m in "${modes[@]}" "${others[@]/#/-u@}"; do
  [ -n "${times[$m]:-}" ] || continue
  med=$(echo "${times[$m]}" | median)
  printf "%-28s %10.3f %8.2f  %s\n" "$m" "$med" "$(echo "$med / $base" | bc -l)" "${progs[$m]}"
done
