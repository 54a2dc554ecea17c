package dev.netwatcher.event;

/**
 * The cgroup v2 of an event's process: its path (relative to the cgroup2 mount, "/" for the
 * root) and what the path says (CgroupNames): the container id and the pod uid, or null.
 */
public record Cgroup(String path, String container, String podUid) {
    public Cgroup(String path) {
        this(path, CgroupNames.container(path), CgroupNames.podUid(path));
    }
}
