#!/usr/bin/env bash
# -k under a drop flood from every CPU (not a test; DropFloodIT is the test). As root:
#   sudo [NW_EXTRA=--stack] bench/dropflood.sh [ROUNDS] [SECONDS]
# Builds namespaces nwflood-a/-b (198.19.3.1/.2, a veth), a UDP receiver in B that never reads
# (4 KiB buffer), and per round: netwatcher -k --netns B --metrics --bpf-stats, one sender per CPU
# at full speed for SECONDS, then prints the kernel's count of the drops (UdpRcvbufErrors), what
# netwatcher accounted for (events, lost, missed), the runs of nw_drop and of its witness
# nw_w_drop, and ns per run of each (bpf_stats' own two clock reads included).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lab.sh"
ROUNDS=${1:-5}
SECS=${2:-3}
A=nwflood-a B=nwflood-b PORT=19466
M=$(mktemp -d)
FLOOD="$root/src/test/resources/lab/flood.py"
cleanup() {
  [ -n "${NW:-}" ] && kill -TERM "$NW" 2>/dev/null && wait "$NW" 2>/dev/null || true
  lab_down $A $B
  rm -rf "$M"
}
trap cleanup EXIT
lab_up $A $B 198.19.3.1/24 198.19.3.2/24
ip netns exec $A ping -c1 -W2 198.19.3.2 >/dev/null
ip netns exec $B python3 "$FLOOD" sink 198.19.3.2 9000 >/dev/null &
inode=$(stat -L -c %i /run/netns/$B)
stat_of() { # program field: from bpftool's JSON
  bpftool -j prog show name "$1" | python3 -c "import json,sys; d=json.load(sys.stdin); d=d[0] if isinstance(d,list) else d; print(d.get('$2',0))"
}
printf '%5s %10s %10s %8s %8s %10s %10s %8s %8s\n' round kernel events lost missed drop_runs hit_runs drop_ns hit_ns
for r in $(seq "$ROUNDS"); do
  # shellcheck disable=SC2086  # NW_EXTRA: more options, e.g. --stack
  "$root/netwatcher" -k ${NW_EXTRA:-} --netns "$inode" --metrics 127.0.0.1:$PORT --bpf-stats 2>"$M/nw.err" >/dev/null & NW=$!
  for _ in $(seq 200); do grep -q attached "$M/nw.err" && break; sleep 0.1; done
  before=$(ip netns exec $B nstat -asz UdpRcvbufErrors | awk '/UdpRcvbufErrors/{print $2}')
  pids=()
  for cpu in $(seq 0 $(( $(nproc) > 4 ? 3 : $(nproc) - 1 ))); do
    ip netns exec $A taskset -c "$cpu" python3 "$FLOOD" udp 198.19.3.2 9000 "$SECS" >/dev/null & pids+=($!)
  done
  wait "${pids[@]}"
  after=$(ip netns exec $B nstat -asz UdpRcvbufErrors | awk '/UdpRcvbufErrors/{print $2}')
  sleep 2
  dr=$(stat_of nw_drop run_cnt); dt=$(stat_of nw_drop run_time_ns)
  hr=$(stat_of nw_w_drop run_cnt); ht=$(stat_of nw_w_drop run_time_ns)
  kill -TERM $NW; wait $NW || true; NW=
  line=$(grep -o 'detached; [0-9]* events, [0-9]* lost[^,]*, [0-9]* missed' "$M/nw.err")
  read -r ev lost missed < <(echo "$line" | sed -E 's/detached; ([0-9]+) events, ([0-9]+) lost[^,]*, ([0-9]+) missed/\1 \2 \3/')
  printf '%5s %10s %10s %8s %8s %10s %10s %8s %8s\n' "$r" $((after - before)) "$ev" "$lost" "$missed" "$dr" "$hr" \
    $((dt / (dr > 0 ? dr : 1))) $((ht / (hr > 0 ? hr : 1)))
done
