#!/usr/bin/env bash
# netwatcher overhead benchmark (not a test: CI does not run it). As root:
#   sudo bench/run.sh [ROUNDS] [SECONDS]        (defaults: 3 rounds of 5 s per workload)
#   sudo NW_BENCH_MODES="conn" bench/run.sh     (only some modes)
# Builds a lab (namespaces nwbench-a/-b joined by a veth, 198.19.0.1/.2), then for each
# round and each netwatcher mode runs every workload twice, side by side: once with no
# netwatcher (baseline) and once with netwatcher running in that mode. Reports medians of
# traced/baseline ratios, netwatcher's CPU time and peak RSS, start-up and exit time, and
# writes the raw rows to bench/results/raw.csv. Everything it creates is removed on exit.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$root/scripts/env.sh"
nw_find_java || exit 1
# the JVM options of a run of ./netwatcher: NW_JVM_OPTS, and the caches of the build (set below, once
# the lab is up: a run that records the AOT cache's profile needs traffic)
NW_PLAIN_OPTS=("${NW_JVM_OPTS[@]}")
ROUNDS=${1:-3}
SECS=${2:-5}
A=nwbench-a B=nwbench-b IPA=198.19.0.1 IPB=198.19.0.2
OUT="$root/bench/results"
mkdir -p "$OUT"
RAW="$OUT/raw.csv"

mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing # bpftrace needs it
nw_need_tools iperf3 ip python3 bpftrace bpftool || exit 1
[ "$(id -u)" = 0 ] || { echo "bench: run as root" >&2; exit 1; }
[ -f "$root/target/netwatcher.jar" ] || (cd "$root" && mvn -q -B -DskipTests package)

NWPID=
cleanup() {
  [ -n "$NWPID" ] && kill -9 "$NWPID" 2>/dev/null || true
  rm -f /dev/shm/nwbench.pcapng
  ip netns pids $B 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  ip netns del $A 2>/dev/null || true
  ip netns del $B 2>/dev/null || true
}
trap cleanup EXIT INT TERM
cleanup
ip netns add $A
ip netns add $B
ip link add nwb0 netns $A type veth peer name nwb1 netns $B
ip -n $A addr add $IPA/24 dev nwb0
ip -n $B addr add $IPB/24 dev nwb1
for n in $A $B; do ip -n $n link set lo up; done
ip -n $A link set nwb0 up
ip -n $B link set nwb1 up
ip netns exec $B iperf3 -s -D -1 >/dev/null 2>&1 || true
sleep 0.5

# workload NAME -> prints one number: bits/s (tcp) or received packets/s (udp)
workload() {
  ip netns exec $B pkill -x iperf3 2>/dev/null || true
  ip netns exec $B iperf3 -s -D >/dev/null 2>&1
  sleep 0.3
  local json tries
  # iperf3 now and then ends with an error object instead of results ("the server is busy",
  # a control connection cut): try again, at most three times
  for tries in 1 2 3; do
    case $1 in
      tcp1) json=$(ip netns exec $A iperf3 -c $IPB -t "$SECS" -J || true) ;;
      tcp4) json=$(ip netns exec $A iperf3 -c $IPB -t "$SECS" -P 4 -J || true) ;;
      udp64) json=$(ip netns exec $A iperf3 -c $IPB -t "$SECS" -u -l 64 -b 0 -J || true) ;;
    esac
    python3 - "$1" "$json" <<'PY' && return 0
import json, sys
kind, d = sys.argv[1], json.loads(sys.argv[2])
s = d["end"]
if kind.startswith("tcp"):
    print(s["sum_received"]["bits_per_second"])
else:
    u = s["sum"]
    print((u["packets"] - u["lost_packets"]) / u["seconds"])
PY
    echo "bench: iperf3 $1 gave no result (try $tries): $(echo "$json" | grep -m1 '"error"')" >&2
    ip netns exec $B pkill -x iperf3 2>/dev/null || true
    ip netns exec $B iperf3 -s -D >/dev/null 2>&1
    sleep 1
  done
  return 1
}

# The AOT cache of the build (scripts/env.sh nw_cache_opts), as a user has it from the second run after
# a build on: if there is none, one run of -t -u -I --json under tcp1 and udp64 records the profile
# first (a user's first run does the same), and the cache is made before any round. Modes that follow
# packets map it, as with ./netwatcher; modes named *-jit run with the class-data archive instead
# (AppCDS, what the JVM used before), for the A/B.
JAR=$root/target/netwatcher.jar
if ! nw_cache_ready "$JAR"; then
  echo "bench: no AOT cache for this build: one run of -t -u -I --json records its profile" >&2
  NW_JVM_OPTS=("${NW_PLAIN_OPTS[@]}")
  nw_cache_opts "$JAR" -t # no cache, no profile: the options of a recording run
  "$JAVA_HOME/bin/java" "${NW_JVM_OPTS[@]}" -jar "$JAR" -t -u -I --json --no-logs >/dev/null 2>"$OUT/train.err" &
  NWPID=$!
  for _ in $(seq 1 300); do grep -q attached "$OUT/train.err" 2>/dev/null && break; sleep 0.1; done
  workload tcp1 >/dev/null; workload udp64 >/dev/null
  kill -TERM $NWPID; wait $NWPID || true; NWPID=
  nw_cache_ready "$JAR" || { echo "bench: the AOT cache was not made: $(tail -3 "$OUT/train.err")" >&2; exit 1; }
fi
# the launcher's options for a run that follows packets (the cache) and for one that does not (AppCDS)
NW_JVM_OPTS=("${NW_PLAIN_OPTS[@]}")
nw_cache_opts "$JAR" -t
NW_AOT_OPTS=("${NW_JVM_OPTS[@]}")
NW_JVM_OPTS=("${NW_PLAIN_OPTS[@]}")
nw_cache_opts "$JAR"
NW_CDS_OPTS=("${NW_JVM_OPTS[@]}")

# start netwatcher in a mode (or, for the mode "anchor", the bpftrace script of ../shared/bench);
# sets NWPID and STARTUP_S
start_nw() {
  local log="$OUT/nw.err" t0 t1 ready=attached
  t0=$(date +%s.%N)
  if [ "$1" = anchor ]; then
    # bpftrace says "Attaching 4 probes..." before it attaches; the 3 s below cover the rest
    bpftrace "$ANCHOR" >"$log" 2>&1 &
    NWPID=$!
    ready=Attaching
  else
    "$JAVA_HOME/bin/java" "${JVM_OPTS[@]}" \
      -jar "$JAR" "$@" --no-logs >/dev/null 2>"$log" &
    NWPID=$!
  fi
  for _ in $(seq 1 300); do
    grep -q "$ready" "$log" 2>/dev/null && break
    kill -0 $NWPID 2>/dev/null || { echo "bench: netwatcher $* failed: $(cat "$log")" >&2; exit 1; }
    sleep 0.01
  done
  t1=$(date +%s.%N)
  STARTUP_S=$(echo "$t1 - $t0" | bc -l)
  sleep 3 # steady state: the JVM's start-up compilation is not part of the overhead measured
  TICKS0=$(awk '{print $14 + $15}' /proc/$NWPID/stat)
}

# stop it; sets CPU_S (user+sys while the workload ran), RSS_MB (peak), EXIT_S, LOST (ring-buffer losses), EVENTS
stop_nw() {
  local stat ticks hz t0 t1
  hz=$(getconf CLK_TCK)
  stat=$(cat /proc/$NWPID/stat)
  ticks=$(echo "$stat" | awk '{print $14 + $15}')
  CPU_S=$(echo "($ticks - $TICKS0) / $hz" | bc -l)   # during the workload only
  RSS_MB=$(awk '/VmHWM/ {print $2 / 1024}' /proc/$NWPID/status)
  t0=$(date +%s.%N)
  # SIGTERM: a background job of a non-interactive shell starts with SIGINT ignored
  kill -TERM $NWPID
  wait $NWPID || true
  t1=$(date +%s.%N)
  EXIT_S=$(echo "$t1 - $t0" | bc -l)
  NWPID=
  # -w: the frames written and the ones the full ring could not take, for the log; then the file goes
  grep -o '[0-9]* packets written\|[0-9]* frames not captured[^,]*' "$OUT/nw.err" | tr '\n' ' ' >&2 || true
  rm -f /dev/shm/nwbench.pcapng
  EVENTS=$(grep -o 'detached; [0-9]* events' "$OUT/nw.err" | grep -o '[0-9]*' | head -1 || true)
  LOST=$(grep -o '[0-9]* lost' "$OUT/nw.err" | grep -o '[0-9]*' | head -1 || true)
  EVICTED=$(grep -o '[0-9]* packets evicted' "$OUT/nw.err" | grep -o '[0-9]*' | head -1 || true)
  PARTIAL=$(grep -o '[0-9]* packets matched only in part' "$OUT/nw.err" | grep -o '[0-9]*' | head -1 || true)
}

ANCHOR=${NW_BENCH_ANCHOR:-$root/../shared/bench/anchor-skb-latency.bt}
MODES=(
  "anchor:anchor"
  "events:-S -r -k -e"
  "t:-t"
  # the same without the AOT cache (the class-data archive only, as before it): what the cache buys
  "t-jit:-t"
  "tujson-jit:-t -u --json"
  "tun:-t -u -n"
  "tujson:-t -u --json"
  "t-s10:-t --sample 10"
  "t-s100:-t --sample 100"
  "tu-s10:-t -u --json --sample 10"
  "tu-s100:-t -u --json --sample 100"
  "metrics:-t -u -k --metrics 127.0.0.1:19464"
  # a filter expression (issue 32) that matches none of the workload, and one that matches all of it
  "t-expr-none:-t tcp port 1"
  "t-expr-all:-t tcp port 5201 or udp port 5201"
  # -w (issue 32): pcapng of every packet followed, into memory (/dev/shm) so that the disk does not time it
  "tw:-t -w /dev/shm/nwbench.pcapng --overwrite"
  "tuw:-t -u -w /dev/shm/nwbench.pcapng --overwrite"
  "all:-S -r -k -e -t -u -I -n -L -x -a --rtt -i --dns"
  "conn:-x -a --rtt -i --dns"
  # the same options with programs that return at once (bench/floor.sh builds that jar)
  "floor-t:-t"
  "floor-tujson:-t -u --json"
  "floor-metrics:-t -u -k --metrics 127.0.0.1:19464"
  "floor-events:-S -r -k -e"
)
# NW_BENCH_MODES="conn t" runs only those modes (names before the colon), in that order
if [ -n "${NW_BENCH_MODES:-}" ]; then
  picked=()
  for want in $NW_BENCH_MODES; do
    for m in "${MODES[@]}"; do [ "${m%%:*}" = "$want" ] && picked+=("$m"); done
  done
  MODES=("${picked[@]}")
fi
WORKLOADS=(tcp1 tcp4 udp64)

echo "round,mode,workload,baseline,traced,ratio,nw_cpu_s,nw_rss_mb,startup_s,exit_s,events,lost,evicted,partial" >"$RAW"
for r in $(seq 1 "$ROUNDS"); do
  for m in "${MODES[@]}"; do
    name=${m%%:*} args=${m#*:}
    JAR=$root/target/netwatcher.jar JVM_OPTS=("${NW_CDS_OPTS[@]}")
    # as ./netwatcher: the AOT cache for a run that follows packets, but in the *-jit modes
    # shellcheck disable=SC2086
    if [[ $name != *-jit ]] && nw_follows_packets $args; then JVM_OPTS=("${NW_AOT_OPTS[@]}"); fi
    if [[ $name == floor-* ]]; then
      # another jar: neither cache is its own (the floor's programs deliver no records to compile for)
      JAR=${NW_BENCH_FLOOR_JAR:?the floor modes need NW_BENCH_FLOOR_JAR: run bench/floor.sh} JVM_OPTS=("${NW_PLAIN_OPTS[@]}")
    fi
    for w in "${WORKLOADS[@]}"; do
      base=$(workload $w)
      # shellcheck disable=SC2086
      start_nw $args
      traced=$(workload $w)
      stop_nw
      ratio=$(echo "$traced / $base" | bc -l)
      printf '%s,%s,%s,%.0f,%.0f,%.4f,%.2f,%.1f,%.3f,%.3f,%s,%s,%s,%s\n' "$r" "$name" "$w" "$base" "$traced" "$ratio" \
        "$CPU_S" "$RSS_MB" "$STARTUP_S" "$EXIT_S" "${EVENTS:-0}" "${LOST:-0}" "${EVICTED:-0}" "${PARTIAL:-0}" | tee -a "$RAW"
    done
  done
done

python3 - "$RAW" <<'PY' | tee "$OUT/summary.md"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print("| mode | workload | baseline (median) | ratio traced/baseline (median, min..max) | nw CPU s | µs CPU per record | nw peak RSS MB | start s | exit s | events | lost | evicted | partial |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
def per_record(g):
    # the consumer's CPU over the records it delivered, median of the rounds (start-up included: small
    # against a run that delivers 10^5 records or more, large against one that delivers few)
    v = [float(x["nw_cpu_s"]) * 1e6 / float(x["events"]) for x in g if float(x["events"]) >= 1000]
    return f"{statistics.median(v):.2f}" if v else "-"
seen = []
for r in rows:
    k = (r["mode"], r["workload"])
    if k not in seen: seen.append(k)
for mode, w in seen:
    g = [r for r in rows if r["mode"] == mode and r["workload"] == w]
    f = lambda key: [float(x[key]) for x in g]
    base = statistics.median(f("baseline"))
    unit = "Gbit/s" if w.startswith("tcp") else "kpkt/s"
    base_s = f"{base/1e9:.2f} {unit}" if w.startswith("tcp") else f"{base/1e3:.0f} {unit}"
    ratios = f("ratio")
    print(f"| {mode} | {w} | {base_s} | {statistics.median(ratios):.3f} ({min(ratios):.3f}..{max(ratios):.3f}) | "
          f"{statistics.median(f('nw_cpu_s')):.2f} | {per_record(g)} | {max(f('nw_rss_mb')):.0f} | {max(f('startup_s')):.2f} | "
          f"{max(f('exit_s')):.2f} | {int(statistics.median(f('events')))} | {int(max(f('lost')))} | "
          f"{int(max(f('evicted')))} | {int(max(f('partial')))} |")
PY

# The Java event path alone (item 3 of the benchmark): records decoded, and decoded + written as JSON.
echo
for m in decode json; do
  "$JAVA_HOME/bin/java" "${NW_JVM_OPTS[@]}" --enable-native-access=ALL-UNNAMED \
    -cp "$root/target/classes:$root/target/lib/*" "$root/bench/EventPath.java" $m 5
done | tee "$OUT/eventpath.txt"
