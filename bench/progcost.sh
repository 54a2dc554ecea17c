#!/usr/bin/env bash
# BPF cost per program run under iperf3 (not a test). As root:
#   sudo bench/progcost.sh "-x -a --rtt -i --dns" [IPERF_ARGS]     e.g. IPERF_ARGS="-u -l 64 -b 0"
# Builds namespaces nwcost-a/-b (198.19.2.1/.2, a veth), runs netwatcher with the given options plus
# --metrics --bpf-stats, scrapes netwatcher_bpf_program_run* before and after a 5 s iperf3 run, and
# prints runs and ns per run of each program (bpf_stats' own two clock reads included).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lab.sh"
NWARGS=${1:?netwatcher options}
IPERF=${2:-}
A=nwcost-a B=nwcost-b PORT=19465
M=$(mktemp -d)
cleanup() {
  [ -n "${NW:-}" ] && kill -TERM "$NW" 2>/dev/null && wait "$NW" 2>/dev/null || true
  lab_down $A $B
  rm -rf "$M"
}
trap cleanup EXIT
. "$root/scripts/env.sh"
nw_need_tools iperf3 curl || exit 1
lab_up $A $B 198.19.2.1/24 198.19.2.2/24
ip netns exec $B iperf3 -s -B 198.19.2.2 -D; sleep 1
# shellcheck disable=SC2086
"$root/netwatcher" $NWARGS --metrics 127.0.0.1:$PORT --bpf-stats --no-logs 2>"$M/nw.err" >/dev/null & NW=$!
# the metrics server answers before the probes attach: wait for the "attached" line first
for _ in $(seq 200); do grep -q 'attached' "$M/nw.err" 2>/dev/null && break; sleep 0.1; done
for _ in $(seq 100); do curl -sf 127.0.0.1:$PORT/metrics >"$M/m0" && break; sleep 0.1; done
# shellcheck disable=SC2086
ip netns exec $A iperf3 -c 198.19.2.2 -t 5 $IPERF | grep -E 'sender|receiver'
curl -sf 127.0.0.1:$PORT/metrics >"$M/m1"
python3 - "$M/m0" "$M/m1" <<'PY'
import re, sys
def load(f):
    d = {}
    for l in open(f):
        m = re.match(r'netwatcher_bpf_program_(runs|run_seconds)_total\{program="(\w+)"\} (\S+)', l)
        if m: d[(m.group(1), m.group(2))] = float(m.group(3))
    return d
a, b = load(sys.argv[1]), load(sys.argv[2])
for (k, p), v in sorted(b.items()):
    if k != 'runs': continue
    runs = v - a.get(('runs', p), 0)
    secs = b[('run_seconds', p)] - a.get(('run_seconds', p), 0)
    print(f"{p:16s} runs={runs:10.0f} ns/run={secs * 1e9 / runs if runs else 0:8.1f}")
PY
