package dev.netwatcher.lab;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Two network namespaces joined by a veth pair: host A (198.18.0.1, fd00:198::1) and
 * host B (198.18.0.2, fd00:198::2). Everything it creates (namespaces, and with them
 * their veths and nft tables, and the processes it started) goes on close(), also
 * when the test failed.
 */
public final class Lab implements AutoCloseable {
    public static final String A4 = "198.18.0.1", B4 = "198.18.0.2", A6 = "fd00:198::1", B6 = "fd00:198::2";

    public final String a, b;
    private final List<Process> processes = new ArrayList<>();

    private Lab(String a, String b) {
        this.a = a;
        this.b = b;
    }

    public static Lab create() {
        String tag = Long.toString(ProcessHandle.current().pid());
        Lab lab = new Lab("nwt-a-" + tag, "nwt-b-" + tag);
        try {
            lab.setUp();
        } catch (RuntimeException e) {
            lab.close();
            throw e;
        }
        return lab;
    }

    private void setUp() {
        run("ip", "netns", "add", a);
        run("ip", "netns", "add", b);
        run("ip", "-n", a, "link", "add", "veth0", "type", "veth", "peer", "name", "veth0", "netns", b);
        for (String[] h : new String[][] {{a, A4, A6}, {b, B4, B6}}) {
            run("ip", "-n", h[0], "link", "set", "lo", "up");
            run("ip", "-n", h[0], "addr", "add", h[1] + "/24", "dev", "veth0");
            run("ip", "-n", h[0], "addr", "add", h[2] + "/64", "dev", "veth0", "nodad");
            run("ip", "-n", h[0], "link", "set", "veth0", "up");
        }
        // ARP/ND resolution before the test's first packet keeps timing out of the way. Right after
        // "link set up" the veth carrier can still be down, and the first ping fails at once: retry.
        reachable(B4, "-4");
        reachable(B6, "-6");
    }

    private void reachable(String addr, String family) {
        long end = System.nanoTime() + 5_000_000_000L;
        while (tryInNs(a, "ping", family, "-c1", "-W1", addr) != 0) {
            if (System.nanoTime() > end) throw new IllegalStateException("lab: " + addr + " unreachable from " + a);
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    /** Network namespace inode, as the kernel reports it in events. */
    public long netns(String ns) {
        try {
            return ((Number) Files.getAttribute(Path.of("/run/netns/" + ns), "unix:ino")).longValue();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public String inNs(String ns, String... cmd) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        full.addAll(Arrays.asList(cmd));
        return run(full.toArray(String[]::new));
    }

    /** Runs in the namespace; returns the exit code without failing. */
    public int tryInNs(String ns, String... cmd) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        full.addAll(Arrays.asList(cmd));
        return exec(full).code;
    }

    public Process spawn(String ns, String... cmd) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        full.addAll(Arrays.asList(cmd));
        try {
            Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
            processes.add(p);
            return p;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A python3 command line for a script of src/test/resources/lab (copied out of the class path once). */
    public static String[] python(String script, Object... args) {
        Path file = Path.of(System.getProperty("java.io.tmpdir"), "nwt-" + ProcessHandle.current().pid() + "-" + script);
        try {
            if (!Files.exists(file)) {
                try (var in = Lab.class.getResourceAsStream("/lab/" + script)) {
                    if (in == null) throw new IllegalStateException("no test resource lab/" + script);
                    Files.write(file, in.readAllBytes());
                }
                file.toFile().deleteOnExit();
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        List<String> cmd = new ArrayList<>(List.of("python3", file.toString()));
        for (Object a : args) cmd.add(String.valueOf(a));
        return cmd.toArray(String[]::new);
    }

    /** Starts a process in the namespace and waits for its first output line ("ready"). */
    public Process spawnReady(String ns, String... cmd) {
        Process p = spawn(ns, cmd);
        try {
            String line = readLine(p.getInputStream());
            if (!"ready".equals(line)) throw new IllegalStateException(String.join(" ", cmd) + " did not start: " + line);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return p;
    }

    /** One line, read byte by byte so that nothing after it is consumed. */
    public static String readLine(java.io.InputStream in) throws IOException {
        java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
        for (int c = in.read(); c >= 0 && c != '\n'; c = in.read()) line.write(c);
        return line.toString(StandardCharsets.UTF_8).trim();
    }

    /**
     * tbf at 2 Mbit/s on ns's veth0: a slow link whose qdisc cuts GSO packets above its 4 kB burst
     * (tbf_segment()) and sends from its watchdog's softirq. The qdisc dies with the namespace.
     */
    public void tbf2mbit(String ns) {
        inNs(ns, "tc", "qdisc", "add", "dev", "veth0", "root", "tbf", "rate", "2mbit", "burst", "4kb", "latency", "2s");
    }

    /** nft commands in a namespace (tables die with the namespace). */
    public void nft(String ns, String script) {
        inNs(ns, "nft", script);
    }

    /** An absolute kernel SNMP counter of the namespace, e.g. TcpRetransSegs. */
    public long nstat(String ns, String counter) {
        String out = inNs(ns, "nstat", "-asz", counter);
        for (String line : out.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 2 && f[0].equals(counter)) return Long.parseLong(f[1]);
        }
        throw new IllegalStateException("nstat has no " + counter + ": " + out);
    }

    /** Packets counted by a named nft counter of an inet table. */
    public long nftCounter(String ns, String table, String counter) {
        return nftCount(ns, table, counter)[0];
    }

    /** Packets and bytes counted by a named nft counter of an inet table. */
    public long[] nftCount(String ns, String table, String counter) {
        String out = inNs(ns, "nft", "list", "counter", "inet", table, counter);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("packets (\\d+) bytes (\\d+)").matcher(out);
        if (!m.find()) throw new IllegalStateException("no counter " + counter + ": " + out);
        return new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))};
    }

    /** Waits (5 s at most) until something in the namespace listens on the port (proto "t" or "u", as ss takes it). */
    public void awaitListening(String ns, String proto, int port) throws InterruptedException {
        for (int i = 0; i < 200; i++) {
            if (inNs(ns, "ss", "-Hl" + proto + "n", "sport = :" + port).contains(":" + port)) return;
            Thread.sleep(25);
        }
        throw new AssertionError("nothing listens on " + proto + " port " + port + " in " + ns);
    }

    public static String run(String... cmd) {
        Result r = exec(List.of(cmd));
        if (r.code != 0) throw new IllegalStateException(String.join(" ", cmd) + " failed (" + r.code + "): " + r.out);
        return r.out;
    }

    /** Runs a command of the host and returns its exit code. */
    public static int tryRun(String... cmd) {
        return exec(List.of(cmd)).code;
    }

    private record Result(int code, String out) {}

    private static Result exec(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            // read on another thread: a command that never ends (or a daemon child keeping the pipe
            // open) must not hold the test past the bound below
            java.util.concurrent.CompletableFuture<String> out = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    return "(output unreadable: " + e.getMessage() + ")";
                }
            });
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", cmd) + " timed out after 30 s");
            }
            try {
                return new Result(p.exitValue(), out.get(10, TimeUnit.SECONDS));
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                throw new IllegalStateException(String.join(" ", cmd) + ": output still open 10 s after exit (a child holds it)");
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Removes a cgroup directory the test made, waiting (1 s at most) for killed processes to leave it; fails if it stays. */
    public static void removeCgroup(java.nio.file.Path dir) throws InterruptedException {
        for (int i = 0; i < 50 && java.nio.file.Files.exists(dir); i++) {
            try {
                java.nio.file.Files.delete(dir);
            } catch (IOException busy) {
                Thread.sleep(20); // a killed process leaves its cgroup asynchronously
            }
        }
        if (java.nio.file.Files.exists(dir)) throw new AssertionError("the test's cgroup " + dir + " is not removed");
    }

    @Override
    public void close() {
        for (Process p : processes) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        List<String> left = new ArrayList<>();
        for (String ns : List.of(a, b)) {
            Result r = exec(List.of("ip", "netns", "del", ns));
            if (r.code() != 0 && java.nio.file.Files.exists(java.nio.file.Path.of("/run/netns", ns))) left.add(ns + ": " + r.out().strip());
        }
        // a namespace left behind keeps its veth, qdiscs and nft tables for the tests after this one
        if (!left.isEmpty()) throw new IllegalStateException("network namespaces not deleted: " + left);
    }
}
