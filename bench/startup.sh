#!/usr/bin/env bash
# Start-up time (not a test): from the launch of ./netwatcher to its "attached" line on stderr,
# N runs per mode (default 5), median and range. As root, with the jar built:
#   sudo bench/startup.sh [N]
# Modes: -S, and every option on (-S -r -k -e -t -u -I -n -L -x -a --rtt -i --dns).
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
N=${1:-5}
[ -f "$root/target/netwatcher.jar" ] || { echo "bench/startup.sh: build first (mvn -DskipTests package)" >&2; exit 1; }
# The clock stops when the "attached" line arrives on a pipe the measuring process blocks on
# (no polling: a 5 ms grep loop competed with the JVM for the 2 vCPUs and added ~1 s).
measure() {
  local mode=$1
  python3 - "$root/netwatcher" "$N" "$mode" <<'PY'
import os, signal, subprocess, sys, time
launcher, n, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
times = []
for _ in range(n):
    t0 = time.monotonic()
    p = subprocess.Popen([launcher] + mode.split() + ["--no-logs"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    first = []
    for line in p.stderr:
        if b"attached" in line:
            times.append(time.monotonic() - t0)
            break
        first.append(line.decode(errors="replace").strip())
    else:
        sys.exit("bench/startup.sh: netwatcher %s exited: %s" % (mode, first[:1]))
    p.send_signal(signal.SIGINT)
    p.stderr.read()
    p.wait()
times.sort()
print("%-60s median %.2f s  (%.2f..%.2f, %d runs)" % (mode, times[len(times) // 2], times[0], times[-1], len(times)))
PY
}
measure "-S"
measure "-S -r -k -e -t -u -I -n -L -x -a --rtt -i --dns"
measure "-S -r -k -e -t -u -I -n -L -x -a --rtt -i --dns --tls -M -R -p"
