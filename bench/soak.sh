#!/usr/bin/env bash
# 10-minute soak (not a test): netwatcher -t -u -k with JSON output and --metrics under mixed
# traffic in a veth lab (TCP at 200 Mbit/s, UDP at 5000 datagrams/s, ping), sampled every 30 s:
# RSS, CPU, events delivered and lost (from /metrics), entries in the packet probe's LRU maps,
# and the consumer's lag (wall clock at reading minus the event's ts_ns, max per sample).
#   sudo bench/soak.sh [SECONDS]        (default 600) -> bench/results/soak.csv
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$root/scripts/env.sh"
nw_need_tools iperf3 ip || exit 1
nw_find_java || exit 1
[ -f "$root/target/netwatcher.jar" ] && nw_cache_opts "$root/target/netwatcher.jar" # as ./netwatcher runs it (its caches, none recorded here)
DUR=${1:-600}
A=nwsoak-a B=nwsoak-b IPA=198.19.1.1 IPB=198.19.1.2 PORT=19465
OUT="$root/bench/results"; mkdir -p "$OUT"
NWPID=
cleanup() {
  [ -n "$NWPID" ] && kill -9 "$NWPID" 2>/dev/null || true
  for n in $A $B; do ip netns pids $n 2>/dev/null | xargs -r kill -9 2>/dev/null || true; ip netns del $n 2>/dev/null || true; done
  rm -f "$OUT/soak.fifo"
}
trap cleanup EXIT INT TERM
cleanup
ip netns add $A; ip netns add $B
ip link add nws0 netns $A type veth peer name nws1 netns $B
ip -n $A addr add $IPA/24 dev nws0; ip -n $B addr add $IPB/24 dev nws1
for n in $A $B; do ip -n $n link set lo up; done
ip -n $A link set nws0 up; ip -n $B link set nws1 up
ip netns exec $B iperf3 -s -D -p 5201; ip netns exec $B iperf3 -s -D -p 5202

mkfifo "$OUT/soak.fifo"
# lag reader: prints "max_lag_ms lines" every time it is poked (SIGUSR1 not needed: a file per sample)
python3 - "$OUT/soak.fifo" "$OUT/soak.lag" <<'PY' &
import json, sys, time
fifo, lagfile = sys.argv[1], sys.argv[2]
worst, lines, last = 0.0, 0, time.time()
with open(fifo) as f:
    for line in f:
        lines += 1
        if lines % 64 == 0:
            try:
                ts = json.loads(line).get("ts_ns")
            except ValueError:
                continue
            if ts:
                worst = max(worst, time.time() * 1000 - ts / 1e6)
        now = time.time()
        if now - last >= 5:
            with open(lagfile, "w") as o:
                o.write(f"{worst:.1f} {lines}\n")
            worst, last = 0.0, now
PY
"$JAVA_HOME/bin/java" "${NW_JVM_OPTS[@]}" \
  -jar "$root/target/netwatcher.jar" -t -u -k --json --no-logs --metrics 127.0.0.1:$PORT \
  >"$OUT/soak.fifo" 2>"$OUT/soak.err" &
NWPID=$!
for _ in $(seq 1 300); do grep -qs attached "$OUT/soak.err" && break; sleep 0.1; done
ip netns exec $A iperf3 -c $IPB -p 5201 -t "$DUR" -b 200M >/dev/null &
ip netns exec $A iperf3 -c $IPB -p 5202 -t "$DUR" -u -l 200 -b 8M >/dev/null &
ip netns exec $A ping -q -i 0.2 -w "$DUR" $IPB >/dev/null &

metric() { curl -s 127.0.0.1:$PORT/metrics | awk -v m="$1" '$1 == m {print $2}'; }
maps() { # entries in the packet probe's LRU maps
  local total=0 id n
  for id in $(bpftool map show | awk '/lru_hash/ && /name (tx_pkt|tx_sock|rx_flow|udp_q|flow_totals|udp_send|icmp_req)/ {sub(":","",$1); print $1}'); do
    n=$(bpftool map dump id "$id" 2>/dev/null | grep -c '"key"' || true); total=$((total + n))
  done
  echo $total
}
hz=$(getconf CLK_TCK)
echo "t_s,rss_mb,cpu_s,events,lost,lru_entries,max_lag_ms" | tee "$OUT/soak.csv"
start=$(date +%s)
while :; do
  sleep 30
  t=$(( $(date +%s) - start ))
  rss=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$NWPID/status)
  cpu=$(awk -v hz="$hz" '{printf "%.1f", ($14+$15)/hz}' /proc/$NWPID/stat)
  lag=$(cut -d' ' -f1 "$OUT/soak.lag" 2>/dev/null || echo -)
  echo "$t,$rss,$cpu,$(metric netwatcher_events_received_total),$(metric netwatcher_events_lost_total),$(maps),$lag" | tee -a "$OUT/soak.csv"
  [ "$t" -ge "$DUR" ] && break
done
kill -TERM $NWPID; wait $NWPID || true; NWPID=
tail -3 "$OUT/soak.err"
