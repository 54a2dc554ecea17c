# as_owner.py CGROUP_DIR|- COMM|- [--wait] SCRIPT ARGS...: moves this process into the cgroup v2
# directory (writing its pid to cgroup.procs), names it COMM (prctl PR_SET_NAME: /proc/PID/comm), then
# runs SCRIPT with ARGS in this same process, so the pid and the name the test knows are the script's.
# --wait: prints "ready" and waits for a line on stdin first (time to move it into a cgroup from outside:
# `ip netns exec` mounts a /sys of its own, without the cgroup2 mount).
import ctypes, os, runpy, sys
cgroup, comm = sys.argv[1], sys.argv[2]
if cgroup != '-':
    with open(os.path.join(cgroup, 'cgroup.procs'), 'w') as f:
        f.write(str(os.getpid()))
if comm != '-':
    if ctypes.CDLL(None, use_errno=True).prctl(15, comm.encode(), 0, 0, 0) != 0:
        sys.exit("prctl(PR_SET_NAME) failed")
sys.argv = sys.argv[3:]
if sys.argv[0] == '--wait':
    print("ready", flush=True)
    sys.stdin.readline()
    sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
