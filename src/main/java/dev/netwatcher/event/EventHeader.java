package dev.netwatcher.event;

/**
 * What every event carries: wall-clock time (Unix epoch nanoseconds), the network namespace
 * inode, and who it belongs to: the process that owns the event's socket (the last task that
 * sent, received, connected or listened on it), else the task the kernel ran in. pid 0 and
 * comm null when neither is known (a packet no socket took, handled in softirq). cgroup: that
 * process's cgroup v2, or for an event without a process the cgroup its socket was made in;
 * null when unknown.
 */
public record EventHeader(long tsNs, long netns, int pid, int tid, String comm, Cgroup cgroup) {
    public EventHeader(long tsNs, long netns, int pid, int tid, String comm) {
        this(tsNs, netns, pid, tid, comm, null);
    }

    public boolean hasTask() {
        return pid != 0 || (comm != null && !comm.isEmpty());
    }
}
