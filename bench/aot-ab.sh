#!/usr/bin/env bash
# The AOT cache's A/B (not a test): netwatcher MODE (default -t) with the build's AOT cache and with
# the class-data archive only, alternated, three pairs, under iperf3 between two namespaces: throughput,
# netwatcher's CPU ticks and voluntary context switches (all threads) over the workload, records. As
# root, with the jar built and its AOT cache made (scripts/env.sh nw_cache_opts; bench/run.sh makes it):
#   sudo MODE="-t -u --json" IPERF="-u -l 64 -b 0" bench/aot-ab.sh
set -uo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$root/scripts/env.sh"
nw_find_java >/dev/null || exit 1
A=nwab-a B=nwab-b
jar=$root/target/netwatcher.jar
nw_cache_ready "$jar" || { echo "bench/aot-ab.sh: no AOT cache for this build: run bench/run.sh once" >&2; exit 1; }
. "$root/bench/lab.sh"
trap 'lab_down $A $B' EXIT
lab_down $A $B
lab_up $A $B 198.19.5.1/24 198.19.5.2/24
ip netns exec $B iperf3 -s -D; sleep 0.5
# the launcher's options for a run that follows packets (the cache) and, without it, AppCDS
PLAIN=("${NW_JVM_OPTS[@]}")
nw_cache_opts "$jar" -t
AOT=("${NW_JVM_OPTS[@]}")
NW_JVM_OPTS=("${PLAIN[@]}")
nw_cache_opts "$jar"
CDS=("${NW_JVM_OPTS[@]}")
err=$(mktemp)
switches() { local t n=0; for t in /proc/$1/task/*; do n=$((n + $(awk '/^voluntary_ctxt/ {print $2}' "$t/status"))); done; echo $n; }
for r in 1 2 3; do
  for v in aot cds; do
    if [ $v = aot ]; then O=("${AOT[@]}"); else O=("${CDS[@]}"); fi
    # shellcheck disable=SC2086
    "$JAVA_HOME/bin/java" "${O[@]}" -jar "$jar" ${MODE:--t} --no-logs >/dev/null 2>"$err" & P=$!
    for _ in $(seq 100); do grep -q attached "$err" && break; sleep 0.1; done
    sleep 2
    c0=$(awk '{print $14 + $15}' /proc/$P/stat) v0=$(switches $P)
    # shellcheck disable=SC2086
    rate=$(ip netns exec $A iperf3 -c 198.19.5.2 -t 6 ${IPERF:-} -J | python3 -c 'import json, sys
d = json.load(sys.stdin)["end"]
if "sum_received" in d: print("%.2f Gbit/s" % (d["sum_received"]["bits_per_second"] / 1e9))
else: print("%.0f kpkt/s sent" % (d["sum"]["packets"] / d["sum"]["seconds"] / 1e3))')
    c1=$(awk '{print $14 + $15}' /proc/$P/stat) v1=$(switches $P)
    kill -TERM $P; wait $P
    echo "$r $v: $rate, netwatcher $((c1 - c0)) ticks, voluntary switches $((v1 - v0)), $(grep -o 'detached; [0-9]* events' "$err" | grep -o '[0-9]*') records"
  done
done
rm -f "$err"
