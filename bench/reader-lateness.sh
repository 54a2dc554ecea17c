#!/usr/bin/env bash
# What a watched application's reads pay: a steady UDP flow (COUNT datagrams of 100 bytes, GAP s apart,
# namespace A to B, as AnomalyIT's steady flow) read by udp_recv.py "timed", which counts the reads that came
# more than 1 ms after the datagram arrived (the kernel's receive timestamp) and the longest wait. Rounds
# alternate: no netwatcher, one `-u -n -L` run, two (`--json` beside it, as AnomalyIT has). Optional NW_NICE
# (e.g. "nice -n 19") runs netwatcher under it. As root:  sudo bench/reader-lateness.sh [ROUNDS] [COUNT] [GAP]
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
rounds=${1:-3} count=${2:-3000} gap=${3:-0.002}
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
NW=(${NW_NICE:-} "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar "$root/target/netwatcher.jar")
lab=$root/src/test/resources/lab
A=nwlatea B=nwlateb out=$(mktemp -d /tmp/nw-late.XXXXXX) pids=()
stop_nw() { for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done; for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done; pids=(); }
source "$root/bench/lab.sh"
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  lab_down $A $B
}
trap cleanup EXIT INT TERM
cleanup
lab_up $A $B 198.18.0.1/24 198.18.0.2/24
sleep 1; ip netns exec $A ping -c1 -W1 198.18.0.2 >/dev/null
start_nw() { # start_nw NAME ARGS...: one netwatcher run, returns once attached
  local name=$1; shift
  "${NW[@]}" "$@" >"$out/$name.out" 2>"$out/$name.err" & pids+=($!)
  for _ in $(seq 1 300); do grep -q attached "$out/$name.err" && return; sleep 0.1; done
  echo "$name did not attach: $(cat "$out/$name.err")" >&2; exit 1
}
flow() { # one flow; prints "LATE MAX_US"
  ip netns exec $B python3 "$lab/udp_recv.py" 198.18.0.2 7500 "$count" timed >"$out/recv" &
  local r=$!
  for _ in $(seq 1 50); do grep -q ready "$out/recv" && break; sleep 0.1; done
  ip netns exec $A python3 "$lab/udp_send.py" 198.18.0.1 40500 198.18.0.2 7500 "$count" 100 "$gap"
  wait $r; tail -1 "$out/recv"
}
echo "kernel $(uname -rv); $count datagrams, ${gap} s apart; reads later than 1 ms, longest wait (µs)"
printf '%-6s %-22s %-22s %-22s\n' round "none" "one (-u -n -L)" "two (and --json)"
for r in $(seq 1 "$rounds"); do
  none=$(flow)
  start_nw console -u -n -L --daddr 198.18.0.0/24 --no-logs
  flow >/dev/null # the first flow a run sees compiles its event path: not measured
  one=$(flow)
  start_nw json -u -n -L --daddr 198.18.0.0/24 --no-logs --json
  flow >/dev/null
  two=$(flow)
  stop_nw
  printf '%-6s %-22s %-22s %-22s\n' "$r" "$none" "$one" "$two"
done
