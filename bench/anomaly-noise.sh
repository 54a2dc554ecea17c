#!/usr/bin/env bash
# How noisy a quiet host's layer times are, and what -L makes of them (issue 34). A steady UDP flow
# of COUNT datagrams of 100 bytes (GAP seconds apart) from namespace A to B, watched by two runs at once:
# `-u -n -L --json` (every record and every latency_anomaly) and `-u -n -L` on the console (the warning
# lines a person sees). Prints, per layer: p50, p99, p99.9, max and how many samples lie above 2x, 4x
# and 10x the layer's p99.9 (of this run, as an oracle); then the anomalies in JSON and the console's
# WARNING lines. As root:  sudo bench/anomaly-noise.sh [COUNT] [GAP]
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
count=${1:-10000} gap=${2:-0.002}
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
NW=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar "$root/target/netwatcher.jar")
A=nwnoisea B=nwnoiseb out=$(mktemp -d /tmp/nw-noise.XXXXXX) P1= P2=
source "$root/bench/lab.sh"
cleanup() {
  for p in $P1 $P2; do kill -9 "$p" 2>/dev/null || true; done
  lab_down $A $B
}
trap cleanup EXIT INT TERM
cleanup
lab_up $A $B 198.18.0.1/24 198.18.0.2/24
sleep 1; ip netns exec $A ping -c1 -W1 198.18.0.2 >/dev/null
"${NW[@]}" -u -n -L --daddr 198.18.0.0/24 --json --no-logs >"$out/json" 2>"$out/json.err" & P1=$!
"${NW[@]}" -u -n -L --daddr 198.18.0.0/24 --no-logs >"$out/console" 2>"$out/console.err" & P2=$!
for _ in $(seq 1 200); do grep -q attached "$out/json.err" && grep -q attached "$out/console.err" && break; sleep 0.1; done
ip netns exec $B python3 "$root/src/test/resources/lab/udp_recv.py" 198.18.0.2 7500 "$count" >"$out/recv" &
sleep 0.5
ip netns exec $A python3 "$root/src/test/resources/lab/udp_send.py" 198.18.0.1 40500 198.18.0.2 7500 "$count" 100 "$gap"
wait %3 2>/dev/null || true
sleep 1; kill -INT $P1 $P2; wait $P1 $P2 || true; P1= P2=
echo "datagrams sent $count, read $(tail -1 "$out/recv") ($(uname -r))"
python3 - "$out/json" "$out/console" <<'PY'
import collections, json, sys
layers, anomalies = collections.defaultdict(list), collections.Counter()
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["type"] == "packet":
        for k, v in e["layers_ns"].items(): layers[(e["dir"], k)].append(v)
    elif e["type"] == "netfilter":
        for k, v in e["hooks_ns"].items(): layers[(e["dir"], k)].append(v)
    elif e["type"] == "latency_anomaly":
        anomalies[(e["dir"], e["layer"])] += 1
print("%-22s %7s %8s %8s %8s %9s %6s %6s %6s %6s" % ("LAYER", "N", "P50_US", "P99_US", "P99.9_US", "MAX_US", ">2x", ">4x", ">10x", "FLAGGED"))
for k, v in sorted(layers.items()):
    v.sort(); n = len(v); p999 = v[min(n - 1, int(.999 * n))]
    q = lambda p: v[min(n - 1, int(p * n))] / 1000
    above = lambda f: sum(1 for x in v if x > f * p999)
    print("%-22s %7d %8.1f %8.1f %8.1f %9.1f %6d %6d %6d %6d" % (" ".join(k), n, q(.5), q(.99), p999 / 1000, v[-1] / 1000, above(2), above(4), above(10), anomalies[k]))
warnings = [l for l in open(sys.argv[2]) if " WARNING " in l]
print("latency_anomaly in --json: %d; console WARNING lines: %d" % (sum(anomalies.values()), len(warnings)))
for l in warnings: print("  " + l.rstrip()[:200])
for l in open(sys.argv[2]):
    if l.startswith("# -L:"): print(l.rstrip())
PY
