#!/usr/bin/env bash
# What --ui costs netwatcher (not a test). As root:
#   sudo bench/ui.sh [ROUNDS]
# Namespaces nwui-a/-b (198.19.4.1/.2, a veth), iperf3 TCP A -> B for 5 s, netwatcher -t --netns A --ui,
# each round twice: no browser connected, then one stream client connected (curl -N on /events: what a
# browser costs netwatcher; the browser's own drawing is the browser's). Prints iperf3's Gbit/s,
# netwatcher's CPU seconds during the 5 s (user + system), its peak RSS, and how many snapshots the
# client got.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lab.sh"
. "$root/scripts/env.sh"
ROUNDS=${1:-3}
A=nwui-a B=nwui-b PORT=19481
M=$(mktemp -d)
cleanup() {
  [ -n "${CURL:-}" ] && kill "$CURL" 2>/dev/null || true
  [ -n "${NW:-}" ] && kill -TERM "$NW" 2>/dev/null && wait "$NW" 2>/dev/null || true
  lab_down $A $B
  rm -rf "$M"
}
trap cleanup EXIT
nw_need_tools iperf3 || exit 1
nw_find_java
JAR="$root/target/netwatcher.jar"
[ -f "$JAR" ] || (cd "$root" && mvn -q -B -DskipTests package)
lab_up $A $B 198.19.4.1/24 198.19.4.2/24
ip netns exec $B iperf3 -s -B 198.19.4.2 -D; sleep 1
inode=$(stat -L -c %i /var/run/netns/$A)
hz=$(getconf CLK_TCK)
printf "%-6s %-9s %8s %8s %8s %10s\n" round client gbit_s cpu_s rss_mb snapshots
for r in $(seq "$ROUNDS"); do
  for client in none stream; do
    "$JAVA_HOME/bin/java" "${NW_JVM_OPTS[@]}" -jar "$JAR" -t --netns "$inode" --ui $PORT >/dev/null 2>"$M/nw.err" & NW=$!
    for _ in $(seq 300); do grep -q attached "$M/nw.err" 2>/dev/null && break; sleep 0.05; done
    sleep 3 # the JVM's start-up compilation is not the view's cost
    CURL=
    if [ $client = stream ]; then
      curl -sN "http://127.0.0.1:$PORT/events" >"$M/events" & CURL=$!
      sleep 1.5
    fi
    t0=$(awk '{print $14 + $15}' /proc/$NW/stat)
    gbit=$(ip netns exec $A iperf3 -c 198.19.4.2 -t 5 -J | python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))')
    t1=$(awk '{print $14 + $15}' /proc/$NW/stat)
    rss=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' /proc/$NW/status)
    snaps=0
    if [ -n "$CURL" ]; then kill "$CURL" 2>/dev/null || true; wait "$CURL" 2>/dev/null || true; snaps=$(grep -c '^data: ' "$M/events" || true); fi
    CURL=
    kill -TERM $NW; wait $NW || true; NW=
    printf "%-6s %-9s %8s %8.2f %8s %10s\n" "$r" $client "$gbit" "$(echo "($t1 - $t0) / $hz" | bc -l)" "$rss" "$snaps"
  done
done
