#!/usr/bin/env bash
# CPU cost per byte of a TCP workload, with and without netwatcher (not a test). As root:
#   sudo bench/cpu-per-gb.sh "-t" "-P 4" [LABEL]        ("none" as options: no netwatcher)
#   sudo NWROOT=/path/to/other/checkout bench/cpu-per-gb.sh "-t" "-P 4"   (an older build, A/B)
#   sudo PERF=1 bench/cpu-per-gb.sh ...   perf record -a -g of the same 3 s instead (bench/results/LABEL.perf)
# Throughput ratios on this 2-vCPU guest spread ±0.1 between runs; the CPU the whole machine
# spends per 10 GB moved is steadier (±3 % over repeated runs), so a lever's effect shows
# with a few pairs. Lab: namespaces nwcpu-a/-b joined by a veth (198.19.5.1/.2), iperf3 A -> B
# for 6 s; the machine's busy time (/proc/stat, all CPUs) is read over the middle 3 s.
set -u
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$root/scripts/env.sh"
nw_need_tools iperf3 ip || exit 1
NWROOT=${NWROOT:-$root}
OPTS=${1:?netwatcher options or none}
IPERF=${2:-}
LABEL=${3:-run}
A=nwcpu-a B=nwcpu-b
OUT="$root/bench/results"
mkdir -p "$OUT"
NW=
cleanup() {
  [ -n "$NW" ] && kill -TERM "$NW" 2>/dev/null && wait "$NW" 2>/dev/null
  ip netns pids $B 2>/dev/null | xargs -r kill -9 2>/dev/null
  ip netns pids $A 2>/dev/null | xargs -r kill -9 2>/dev/null
  ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null
  return 0
}
trap cleanup EXIT INT TERM
cleanup
ip netns add $A; ip netns add $B
ip link add nwc0 netns $A type veth peer name nwc1 netns $B
ip -n $A addr add 198.19.5.1/24 dev nwc0; ip -n $B addr add 198.19.5.2/24 dev nwc1
for n in $A $B; do ip -n $n link set lo up; done
ip -n $A link set nwc0 up; ip -n $B link set nwc1 up
ip netns exec $B iperf3 -s -D >/dev/null 2>&1; sleep 0.5
if [ "$OPTS" != none ]; then
  # shellcheck disable=SC2086
  "$NWROOT/netwatcher" $OPTS --no-logs >/dev/null 2>"$OUT/$LABEL.err" & NW=$!
  for _ in $(seq 100); do grep -q attached "$OUT/$LABEL.err" && break; sleep 0.1; done
  sleep 3 # start-up compilation is not the workload's cost
fi
# shellcheck disable=SC2086
ip netns exec $A iperf3 -c 198.19.5.2 -t 6 $IPERF -J >"$OUT/$LABEL.json" & IP=$!
sleep 1.5
s0= s1=
if [ -n "${PERF:-}" ]; then
  perf record -a -g -o "$OUT/$LABEL.perf" -- sleep 3 >/dev/null 2>&1
else
  s0=$(head -1 /proc/stat); sleep 3; s1=$(head -1 /proc/stat)
fi
wait $IP
python3 - "$OUT/$LABEL.json" "$LABEL" "$s0" "$s1" <<'PY'
import json, sys
f, label, s0, s1 = sys.argv[1:5]
gbit = json.load(open(f))["end"]["sum_received"]["bits_per_second"] / 1e9
out = "%s %.2f Gbit/s" % (label, gbit)
if s0:
    a = list(map(int, s0.split()[1:])); b = list(map(int, s1.split()[1:]))
    d = [y - x for x, y in zip(a, b)]
    busy = (sum(d) - d[3] - d[4]) / 100.0  # USER_HZ jiffies -> CPU-s, over the 3 s
    out += ", machine busy %.2f CPU-s of 3 s, %.3f CPU-s per 10 GB" % (busy, busy / (gbit * 3 / 8) * 10)
print(out)
PY
