package dev.netwatcher.event;

/**
 * What every event carries: wall-clock time (Unix epoch nanoseconds), the network
 * namespace inode, and the task when the kernel ran in its context (pid 0 and comm
 * null when the event happened in softirq/interrupt context).
 */
public record EventHeader(long tsNs, long netns, int pid, int tid, String comm) {
    public boolean hasTask() {
        return pid != 0 || (comm != null && !comm.isEmpty());
    }
}
