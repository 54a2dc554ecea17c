#!/usr/bin/env bash
# Where netwatcher's own CPU goes under a workload, while iperf3 runs in a two-namespace lab (as
# bench/run.sh), with the JVM options of every launch (NW_JVM_OPTS). As root:
#   sudo bench/profile.sh "-t" [tcp1|udp64] [SECONDS]
# Prints netwatcher's CPU per record by thread (user and system apart; the consumer is the thread
# "java", apart from the JIT compilers and the GC) over the whole workload and after its first
# NW_PROFILE_WARM seconds (default 4: the JIT compiles the hot path in the first ones); the records
# are the lines of its stdout (a file in /dev/shm: its writes are the consumer's system time). Then
# the top frames of JFR execution samples (1 ms), self and netwatcher's anywhere on the stack.
#   NW_PROFILE_JFR=0      no recording (its sampler costs CPU of its own)
#   NW_PROFILE_JAR=FILE   another build's jar (a worktree of an older commit), for before/after
#   NW_JVM_FLAGS="..."    more JVM options
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$root/scripts/env.sh"
nw_need_tools iperf3 ip || exit 1
opts=$1 work=${2:-tcp1} secs=${3:-6}
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
A=nwprofa B=nwprofb IPA=198.19.1.1 IPB=198.19.1.2
out=$(mktemp -d /tmp/nw-profile.XXXXXX)
NWPID=
cleanup() {
  [ -n "$NWPID" ] && kill -9 "$NWPID" 2>/dev/null || true
  ip netns pids $B 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  ip netns del $A 2>/dev/null || true; ip netns del $B 2>/dev/null || true
}
trap cleanup EXIT INT TERM
cleanup
ip netns add $A; ip netns add $B
ip link add nwp0 netns $A type veth peer name nwp1 netns $B
ip -n $A addr add $IPA/24 dev nwp0; ip -n $B addr add $IPB/24 dev nwp1
for n in $A $B; do ip -n $n link set lo up; done
ip -n $A link set nwp0 up; ip -n $B link set nwp1 up
ip netns exec $B iperf3 -s -D >/dev/null 2>&1; sleep 0.3
# shellcheck disable=SC2086
# NW_PROFILE_JFR=0: the threads' CPU only, without the recording's own cost
jfr=(-XX:StartFlightRecording=filename=$out/nw.jfr,settings=profile,jdk.ExecutionSample#period=1ms)
[ "${NW_PROFILE_JFR:-1}" = 0 ] && jfr=()
# stdout goes to a file in /dev/shm: its lines are the records delivered, counted at each snapshot
outf=$(mktemp /dev/shm/nw-profile.XXXXXX)
"$JAVA_HOME/bin/java" "${NW_JVM_OPTS[@]}" --enable-native-access=ALL-UNNAMED "${jfr[@]}" ${NW_JVM_FLAGS:-} \
  -jar "${NW_PROFILE_JAR:-$root/target/netwatcher.jar}" $opts --no-logs >"$outf" 2>"$out/err" &
NWPID=$!
for _ in $(seq 1 100); do grep -q attached "$out/err" && break; sleep 0.1; done
sleep 3
# per-thread CPU ticks (utime+stime) of netwatcher and the records so far: at the workload's start,
# after NW_PROFILE_WARM seconds of it (the JIT's compilation of the hot path is in the first ones),
# and at its end. The consumer's own thread apart from the JIT compilers, the GC and the rest.
warm=${NW_PROFILE_WARM:-4}
snap() { for t in /proc/$NWPID/task/*; do
  # comm can hold spaces: the fields after its closing parenthesis, utime and stime apart
  printf '%s user\t%s\n%s sys\t%s\n' "$(cat $t/comm)" "$(sed 's/.*) //' $t/stat | awk '{print $12}')" \
    "$(cat $t/comm)" "$(sed 's/.*) //' $t/stat | awk '{print $13}')"; done
  printf 'records\t%s\n' "$(wc -l <"$outf")"; }
snap >"$out/snap0"
case $work in
  tcp1) ip netns exec $A iperf3 -c $IPB -t "$secs" >/dev/null & ;;
  udp64) ip netns exec $A iperf3 -c $IPB -t "$secs" -u -l 64 -b 0 >/dev/null & ;;
esac
client=$!
sleep "$warm"; snap >"$out/snap1"
wait $client; snap >"$out/snap2"
kill -INT $NWPID; wait $NWPID || true; NWPID=
rm -f "$outf"
python3 - "$out" "$warm" "$(getconf CLK_TCK)" <<'PY'
import collections, re, sys
def load(p):
    c = collections.Counter()
    for line in open(p):
        name, v = line.rstrip("\n").rsplit("\t", 1)
        c[name if name == "records" else re.sub(r"[0-9]+( (user|sys))$", r"#\1", name)] += int(v)
    return c
out, warm, hz = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = [load(f"{out}/snap{i}") for i in range(3)]
for title, a, b in (("whole workload", s[0], s[2]), (f"after its first {warm} s", s[1], s[2])):
    a, b = collections.Counter(a), collections.Counter(b)
    ev = b.pop("records") - a.pop("records")
    total = sum(b.values()) - sum(a.values())
    print(f"{title}: {ev} records; netwatcher CPU {total / hz:.2f} s = {total / hz * 1e6 / max(ev, 1):.2f} µs per record; by thread:")
    for name in sorted(b, key=lambda n: a[n] - b[n]):
        d = b[name] - a[name]
        if d:
            print(f"  {name:24s} {d / hz:6.2f} s  {d / hz * 1e6 / max(ev, 1):6.2f} µs per record")
PY
[ "${NW_PROFILE_JFR:-1}" = 0 ] && exit 0
"$JAVA_HOME/bin/jfr" print --events jdk.ExecutionSample "$out/nw.jfr" > "$out/samples.txt"
python3 - "$out/samples.txt" <<'PY'
import collections, re, sys
top, mine, n = collections.Counter(), collections.Counter(), 0
frames = []
def flush():
    global n
    if frames:
        n += 1
        top[frames[0]] += 1
        for f in set(f for f in frames if f.startswith("dev.netwatcher")):
            mine[f] += 1
for line in open(sys.argv[1]):
    line = line.strip()
    if line.startswith("jdk.ExecutionSample"):
        flush(); frames = []
    m = re.match(r"([\w.$<>]+)\(.*line:", line)
    if m:
        frames.append(m.group(1))
flush()
print(f"{n} samples; top frames (self):")
for f, c in top.most_common(15): print(f"  {100*c/n:5.1f}%  {f}")
print("netwatcher frames on the stack:")
for f, c in mine.most_common(15): print(f"  {100*c/n:5.1f}%  {f}")
PY
echo "recording: $out/nw.jfr"
