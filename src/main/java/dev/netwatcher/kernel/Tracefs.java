package dev.netwatcher.kernel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * tracefs, where a classic tracepoint's id is read to attach a program to it (libbpf's
 * bpf_program__attach_tracepoint(): events/CATEGORY/NAME/id). The system call tracepoints
 * (syscalls/sys_enter_*) have no BTF of their own, so tracefs is the only way to them. systemd
 * mounts it at boot (sys-kernel-tracing.mount); where it is not mounted, netwatcher mounts it at
 * /sys/kernel/tracing once (it needs root, as netwatcher does) and says so.
 */
public final class Tracefs {
    private Tracefs() {}

    static final List<Path> PLACES = List.of(Path.of("/sys/kernel/tracing"), Path.of("/sys/kernel/debug/tracing"));

    private static Path events;
    private static String why;
    private static boolean mounted;

    /** Why the tracepoint category/name cannot be attached to here, or null when it can. */
    public static synchronized String missing(String category, String name) {
        if (events == null && why == null) find();
        if (events == null) return why;
        return Files.isRegularFile(events.resolve(category).resolve(name).resolve("id")) ? null
                : "tracepoint " + category + "/" + name + " missing (" + events + ")";
    }

    /** True once, after netwatcher mounted tracefs itself: the start report's note says so. */
    public static synchronized boolean mountNoteDue() {
        boolean due = mounted;
        mounted = false;
        return due;
    }

    private static void find() {
        for (Path p : PLACES) {
            if (Files.isDirectory(p.resolve("events"))) {
                events = p.resolve("events");
                return;
            }
        }
        Path at = PLACES.getFirst();
        try {
            Process m = new ProcessBuilder("mount", "-t", "tracefs", "nodev", at.toString()).redirectErrorStream(true).start();
            String out = new String(m.getInputStream().readAllBytes()).strip();
            if (!m.waitFor(10, TimeUnit.SECONDS) || m.exitValue() != 0 || !Files.isDirectory(at.resolve("events"))) {
                why = "tracefs is not mounted and mounting it at " + at + " failed" + (out.isEmpty() ? "" : ": " + out);
                return;
            }
            mounted = true;
            events = at.resolve("events");
        } catch (IOException e) {
            why = "tracefs is not mounted and mounting it at " + at + " failed: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            why = "tracefs is not mounted (interrupted while mounting it)";
        }
    }
}
