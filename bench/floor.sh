#!/usr/bin/env bash
# The floor of the packet engine's cost (not a test). As root:
#   sudo bench/floor.sh [ROUNDS] [SECONDS]          (defaults: 2 rounds of 4 s)
# Builds a copy of the jar whose BPF objects are compiled with -DNW_FLOOR=1 (every packet and
# event program returns at its first statement: the same hooks attached, nothing done in them), then
# runs bench/run.sh with the floor modes next to the real ones and the bpftrace anchor, in one
# run. What the floor modes lose is what the hooks cost by being there (tracepoint and netfilter
# dispatch); no program at those hooks can cost less.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$root/scripts/env.sh"
nw_find_java || exit 1
[ -f "$root/target/netwatcher.jar" ] || (cd "$root" && mvn -q -B -DskipTests package)
W=$(mktemp -d)
# next to the real jar: its manifest's class path names lib/ beside it
jar=$root/target/netwatcher-floor.jar
trap 'rm -rf "$W" "$jar"' EXIT
mkdir -p "$W/bpf"
NW_BPF_CFLAGS=-DNW_FLOOR=1 "$root/bpf/build.sh" "$W/bpf"
cp "$root/target/netwatcher.jar" "$jar"
(cd "$W" && "$JAVA_HOME/bin/jar" uf "$jar" bpf/*.bpf.o)
export NW_BENCH_FLOOR_JAR=$jar
export NW_BENCH_MODES=${NW_BENCH_MODES:-"anchor floor-t t floor-tujson tujson floor-metrics metrics floor-events events"}
"$root/bench/run.sh" "${1:-2}" "${2:-4}"
