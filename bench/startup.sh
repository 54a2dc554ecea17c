#!/usr/bin/env bash
# Start-up time (not a test): from the launch of ./netwatcher to its "attached" line on stderr,
# N runs per mode (default 5), median and range. As root, with the jar built:
#   sudo bench/startup.sh [N] [CHECKOUT...]
# With other checkouts (each built, e.g. a git worktree of an older commit), their launchers are
# measured too, run for run in turn with this one, so that both see the same machine.
# Modes: -S, and every option on (-S -r -k -e -t -u -I -n -L -x -a --rtt -i --dns).
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
N=${1:-5}
shift || true
others=("$@")
[ -f "$root/target/netwatcher.jar" ] || { echo "bench/startup.sh: build first (mvn -DskipTests package)" >&2; exit 1; }
# The clock stops when the "attached" line arrives on a pipe the measuring process blocks on
# (no polling: a 5 ms grep loop competed with the JVM for the 2 vCPUs and added ~1 s).
measure() {
  local mode=$1
  python3 - "$N" "$mode" "$root" "${others[@]}" <<'PY'
import signal, subprocess, sys, time
n, mode, roots = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
times = {r: [] for r in roots}
for _ in range(n):
    for r in roots:
        t0 = time.monotonic()
        p = subprocess.Popen([r + "/netwatcher"] + mode.split() + ["--no-logs"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        first = []
        for line in p.stderr:
            if b"attached" in line:
                times[r].append(time.monotonic() - t0)
                break
            first.append(line.decode(errors="replace").strip())
        else:
            sys.exit("bench/startup.sh: %s/netwatcher %s exited: %s" % (r, mode, first[:1]))
        p.send_signal(signal.SIGINT)
        p.stderr.read()
        p.wait()
for r in roots:
    v = sorted(times[r])
    label = mode if len(roots) == 1 else "%s [%s]" % (mode, r)
    print("%-60s median %.2f s  (%.2f..%.2f, %d runs)" % (label, v[len(v) // 2], v[0], v[-1], len(v)))
PY
}
measure "-S"
measure "-S -r -k -e -t -u -I -n -L -x -a --rtt -i --dns"
measure "-S -r -k -e -t -u -I -n -L -x -a --rtt -i --dns --tls -M -R -p"
