package dev.netwatcher.bpf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Network namespaces of the host, and running code inside one. Netfilter hooks
 * (and so netfilter BPF links) belong to one namespace: bpf(BPF_LINK_CREATE)
 * registers them in the caller's (bpf_nf_link_attach() uses current->nsproxy->net_ns).
 * setns(CLONE_NEWNET) changes only the calling thread, which is what makes this
 * safe inside the JVM.
 */
public final class NetNamespaces {
    private static final MethodHandle SETNS = Native.libcErrno("setns", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final int CLONE_NEWNET = 0x40000000;
    private static final Path SELF = Path.of("/proc/thread-self/ns/net");

    /** A namespace: its inode and a path that names it. */
    public record Namespace(long inode, Path path) {}

    private NetNamespaces() {}

    public static long inode(Path nsPath) throws IOException {
        return ((Number) Files.getAttribute(nsPath, "unix:ino")).longValue();
    }

    /** The caller's namespace. */
    public static Namespace current() {
        try {
            Path p = Path.of("/proc/self/ns/net");
            return new Namespace(inode(p), p);
        } catch (IOException e) {
            throw new BpfException("cannot read /proc/self/ns/net: " + e.getMessage());
        }
    }

    /**
     * Every namespace in use now: ours, those named under /run/netns (ip netns),
     * and those of running processes (containers). Distinct by inode, ours first.
     */
    public static List<Namespace> discover() {
        Map<Long, Namespace> found = new LinkedHashMap<>();
        Namespace own = current();
        found.put(own.inode(), own);
        addAll(found, Path.of("/run/netns"), null);
        addAll(found, Path.of("/proc"), "ns/net");
        return new ArrayList<>(found.values());
    }

    private static void addAll(Map<Long, Namespace> found, Path dir, String child) {
        if (!Files.isDirectory(dir)) return;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                if (child != null && !p.getFileName().toString().chars().allMatch(Character::isDigit)) continue;
                Path ns = child == null ? p : p.resolve(child);
                try {
                    long inode = child == null ? inode(ns) : linkInode(ns);
                    found.putIfAbsent(inode, new Namespace(inode, ns));
                } catch (IOException | SecurityException | UnsupportedOperationException gone) {
                    // the process exited or the file is not a namespace: skip it
                }
            }
        } catch (IOException e) {
            // unreadable folder: fewer namespaces, not an error
        }
    }

    /**
     * The inode a /proc/PID/ns/net link names ("net:[4026531840]"): one readlink(), less than half the
     * time of a stat() of the namespace (about 6 against 14 µs per process here), and run() looks
     * every second (NetfilterLinks.rescan).
     */
    private static long linkInode(Path link) throws IOException {
        String target = Files.readSymbolicLink(link).toString();
        int open = target.indexOf('['), close = target.lastIndexOf(']');
        if (!target.startsWith("net:[") || close < open) return inode(link);
        return Long.parseLong(target, open + 1, close, 10);
    }

    /** Runs action with the calling thread inside the namespace at nsPath, then switches back. */
    public static <T> T inNamespace(Path nsPath, Supplier<T> action) {
        try (Fd back = Fd.openReadOnly(SELF); Fd target = Fd.openReadOnly(nsPath)) {
            setns(target.fd(), nsPath);
            try {
                return action.get();
            } finally {
                setns(back.fd(), SELF);
            }
        }
    }

    private static void setns(int fd, Path what) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(Native.CAPTURE);
            int rc = Native.callInt(() -> (int) SETNS.invokeExact(capture, fd, CLONE_NEWNET));
            if (rc != 0) {
                int errno = Native.errno(capture);
                throw new BpfException("cannot enter network namespace " + what + ": " + Native.strerror(errno), errno);
            }
        }
    }
}
