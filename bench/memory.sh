#!/usr/bin/env bash
# Peak memory of netwatcher with every option on, under traffic (not a test). As root, jar built:
#   sudo bench/memory.sh [RUNS]     (default 3)
# Each run: a lab of two namespaces (nwmem-a/-b, 198.19.9.1/.2), netwatcher launched as
# ./netwatcher launches it (scripts/env.sh's JVM options and class-data archive) with every option
# and --json to /dev/null, then 6 s of iperf3 TCP -P 4 with a ping every 10 ms, then 6 s of a
# UDP flood of 64-byte datagrams. Prints VmHWM (peak RSS) and, at the end of the traffic, what the
# resident memory is made of (/proc/PID/smaps: the Java heap, BPF maps, the JVM's own memory,
# native allocations (libbpf, glibc arenas), files mapped (libjvm, the class-data archive));
# with NW_NMT=1 also the JVM's own accounting (jcmd VM.native_memory summary: heap, metaspace,
# code cache, threads), which costs some memory itself.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$root/scripts/env.sh"
nw_need_tools iperf3 ip || exit 1
nw_find_java || exit 1
RUNS=${1:-3}
jar=$root/target/netwatcher.jar
[ -f "$jar" ] || { echo "bench/memory.sh: build first (mvn -DskipTests package)" >&2; exit 1; }
nw_cache_opts "$jar" # as ./netwatcher runs it (its caches, none recorded here)
. "$root/bench/lab.sh"
A=nwmem-a B=nwmem-b
NWPID=
cleanup() {
  [ -n "$NWPID" ] && kill -9 "$NWPID" 2>/dev/null || true
  lab_down $A $B
}
trap cleanup EXIT INT TERM
ALL="-S -r -k -e -t -u -I -n -L -x -a --rtt -i --dns --tls -M -R -p"
extra=()
[ -n "${NW_NMT:-}" ] && extra=(-XX:NativeMemoryTracking=summary)
for run in $(seq "$RUNS"); do
  cleanup
  lab_up $A $B 198.19.9.1/24 198.19.9.2/24
  ip netns exec $B iperf3 -s >/dev/null 2>&1 &
  err=$(mktemp)
  # shellcheck disable=SC2086
  "$JAVA_HOME/bin/java" "${NW_JVM_OPTS[@]}" "${extra[@]}" -jar "$jar" $ALL --json --no-logs >/dev/null 2>"$err" & NWPID=$!
  for _ in $(seq 600); do grep -q attached "$err" && break; sleep 0.1; done
  grep -q attached "$err" || { echo "bench/memory.sh: netwatcher did not attach: $(head -2 "$err")" >&2; exit 1; }
  attached=$(awk '/VmRSS/ {printf "%.0f", $2/1024}' /proc/$NWPID/status)
  ip netns exec $A ping -q -i 0.01 -w 12 198.19.9.2 >/dev/null 2>&1 &
  ip netns exec $A iperf3 -c 198.19.9.2 -t 6 -P 4 >/dev/null 2>&1 || true
  ip netns exec $A iperf3 -c 198.19.9.2 -t 6 -u -b 0 -l 64 >/dev/null 2>&1 || true
  hwm=$(awk '/VmHWM/ {printf "%.0f", $2/1024}' /proc/$NWPID/status)
  rss=$(awk '/VmRSS/ {printf "%.0f", $2/1024}' /proc/$NWPID/status)
  # resident memory by what is mapped (MB): the heap is the JVM's reserved range for -Xmx (from NMT,
  # else the largest anonymous mapping)
  parts=$(python3 - "$NWPID" <<'PY'
import re, sys
pid = sys.argv[1]
cats = {}
cur = None
maps = []
for line in open(f"/proc/{pid}/smaps"):
    m = re.match(r"^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \d+\s*(.*)$", line)
    if m:
        size = int(m.group(2), 16) - int(m.group(1), 16)
        cur = [m.group(3).strip(), size, 0]
        maps.append(cur)
        continue
    if line.startswith("Rss:") and cur is not None:
        cur[2] = int(line.split()[1])
MiB = 1 << 20
for name, size, rss in maps:
    if "bpf-map" in name or "bpf_ringbuf" in name or "anon_inode:bpf" in name: k = "bpf maps (ring buffer)"
    elif not name and size == 96 * MiB: k = "java heap (-Xmx96m)"
    elif not name and size in (240 * MiB, 48 * MiB): k = "code cache"
    elif not name and size >= 1024 * MiB: k = "class space"
    elif name.startswith("[stack"): k = "stacks"
    elif not name or name == "[heap]": k = "other anon (malloc: libbpf, the JVM's own; thread stacks; metaspace)"
    elif name.endswith(".jsa"): k = "class-data archives"
    elif name.startswith("/"): k = "files (libjvm, jars, libraries)"
    else: continue
    cats[k] = cats.get(k, 0) + rss
print("; ".join(f"{k} {v/1024:.0f}" for k, v in sorted(cats.items(), key=lambda kv: -kv[1])))
PY
)
  echo "run $run: VmHWM ${hwm} MB, VmRSS ${rss} MB at the end (${attached} MB when attached); RSS by mapping (MB): $parts"
  if [ -n "${NW_NMT:-}" ]; then
    "$JAVA_HOME/bin/jcmd" $NWPID VM.native_memory summary 2>/dev/null | grep -E "^-? *(Total|Java Heap|Class|Thread|Code|GC|Internal|Other|Symbol|Metaspace|Arena|Shared class)" | sed 's/^/    /' | head -20
  fi
  kill -INT $NWPID; wait $NWPID 2>/dev/null || true; NWPID=
  rm -f "$err"
done
