#!/usr/bin/env bash
# Does this kernel run BPF programs for every tracepoint hit? (not a test; no netwatcher involved). As root:
#   sudo bench/tracepoint-misses.sh [TRANSFERS]      default 20
# Sends TRANSFERS x 150,000 bytes of TCP through tbf 2 Mbit/s between two namespaces (GSO packets cut into
# 1514-byte segments by tbf_segment(), dequeued from the qdisc watchdog's softirq) and counts the 1514-byte
# net_dev_start_xmit hits twice: with the kernel's own trace event (ftrace, no BPF) and with a bpftrace
# program on the same tracepoint. Prints both counts and the bpftrace program's recursion_misses.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lab.sh"
R=$root/src/test/resources/lab
N=${1:-20}
A=nwtp-a B=nwtp-b T=/sys/kernel/tracing
command -v bpftrace >/dev/null || { echo "bench/tracepoint-misses.sh: install bpftrace" >&2; exit 1; }
mountpoint -q $T || mount -t tracefs nodev $T
W=$(mktemp -d)
cleanup() {
  echo 0 > $T/events/net/net_dev_start_xmit/enable; echo 0 > $T/events/net/net_dev_start_xmit/filter || true
  [ -n "${BT:-}" ] && kill -INT "$BT" 2>/dev/null || true
  lab_down $A $B
  rm -rf "$W"
}
trap cleanup EXIT
lab_up $A $B 198.18.0.1/24 198.18.0.2/24
ip netns exec $A tc qdisc add dev veth0 root tbf rate 2mbit burst 4kb latency 2s
echo 'len == 1514' > $T/events/net/net_dev_start_xmit/filter
echo > $T/trace; echo 1 > $T/events/net/net_dev_start_xmit/enable
bpftrace -e 'tracepoint:net:net_dev_start_xmit /args->len == 1514/ { @bpf = count(); }' > "$W/bt" 2>&1 & BT=$!
sleep 4
for i in $(seq 0 $((N - 1))); do
  ip netns exec $B python3 "$R/tcp_slow_reader.py" 198.18.0.2 $((9100 + i)) 0 > /dev/null & S=$!
  sleep 0.3
  ip netns exec $A python3 "$R/tcp_send.py" $((41100 + i)) 198.18.0.2 $((9100 + i)) 10 15000 0
  wait $S
done
echo 0 > $T/events/net/net_dev_start_xmit/enable
misses=$(bpftool -j prog show | python3 -c 'import json,sys; print(sum(p.get("recursion_misses",0) for p in json.load(sys.stdin) if p.get("type")=="tracepoint"))')
kill -INT $BT; wait $BT || true; BT=
echo "trace event: $(grep -c 'net_dev_start_xmit:' $T/trace) hits; bpftrace: $(sed -n 's/@bpf: //p' "$W/bt") runs; recursion_misses: $misses"
