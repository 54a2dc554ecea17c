package dev.netwatcher.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.netwatcher.cli.Main;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * netwatcher as a user runs it: its own process (the same entry point as ./netwatcher), stdout
 * into a file, stderr read line by line on a thread. {@link #start} returns once it printed its
 * "attached" line; the metrics and live-view ports it bound (port 0 on the command line: no race
 * for a free port) are read from that line. {@link #stop} sends SIGTERM as a user's kill would and
 * waits for the exit summary.
 */
public final class NwProcess implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static final Pattern METRICS = Pattern.compile("metrics on https?://[^ ]*:(\\d+)/metrics");
    private static final Pattern UI = Pattern.compile("live view \\(read-only\\) on https?://[^ ]*:(\\d+)/");

    private final Process process;
    private final Path stdout;
    private final List<String> stderr = new CopyOnWriteArrayList<>();
    private final String args;
    private volatile String attached;
    private volatile long attachedNanos;

    private NwProcess(Process process, Path stdout, String args) {
        this.process = process;
        this.stdout = stdout;
        this.args = args;
    }

    /** The command line that runs netwatcher with args (the test JVM's class path). */
    public static ProcessBuilder command(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd);
    }

    /**
     * Starts netwatcher with args, its stdout into a file in dir; returns once attached (20 s at
     * most). A probe that started only in part ("unavailable:") fails the start: this kernel has every hook.
     */
    public static NwProcess start(Path dir, String... args) throws Exception {
        Path out = Files.createTempFile(dir, "nw-stdout", ".txt");
        NwProcess nw = new NwProcess(command(args).redirectOutput(out.toFile()).start(), out, String.join(" ", args));
        CountDownLatch attached = new CountDownLatch(1);
        BufferedReader err = new BufferedReader(new InputStreamReader(nw.process.getErrorStream(), StandardCharsets.UTF_8));
        Thread.ofPlatform().daemon().start(() -> {
            try {
                String l;
                while ((l = err.readLine()) != null) {
                    nw.stderr.add(l);
                    if (l.startsWith("netwatcher: attached")) {
                        nw.attachedNanos = System.nanoTime();
                        nw.attached = l;
                        attached.countDown();
                    }
                }
            } catch (IOException gone) {
                // the process ended
            }
            attached.countDown();
        });
        if (!attached.await(20, TimeUnit.SECONDS) || nw.attached == null) {
            nw.process.destroyForcibly().waitFor();
            throw new AssertionError("netwatcher " + nw.args + " did not attach: " + nw.stderr);
        }
        List<String> half = nw.stderr.stream().filter(l -> l.contains("unavailable:")).toList();
        if (!half.isEmpty()) {
            nw.process.destroyForcibly().waitFor();
            throw new AssertionError("netwatcher " + nw.args + " started only in part: " + half);
        }
        return nw;
    }

    public long pid() {
        return process.pid();
    }

    /** The "netwatcher: attached ..." line. */
    public String attachedLine() {
        return attached;
    }

    /** When the attached line was read (System.nanoTime()). */
    public long attachedNanos() {
        return attachedNanos;
    }

    public List<String> stderr() {
        return stderr;
    }

    /** The port --metrics bound, from the attached line. */
    public int metricsPort() {
        return metricsPort(attached);
    }

    /** The port --metrics bound, from an attached line. */
    public static int metricsPort(String attachedLine) {
        return port(METRICS, attachedLine);
    }

    /** The port --ui bound, from the attached line. */
    public int uiPort() {
        return port(UI, attached);
    }

    private static int port(Pattern p, String line) {
        Matcher m = p.matcher(line);
        if (!m.find()) throw new AssertionError("no " + p + " in " + line);
        return Integer.parseInt(m.group(1));
    }

    /** GET http://127.0.0.1:PORT/metrics (Prometheus text format). */
    public String metrics() throws Exception {
        return get("http://127.0.0.1:" + metricsPort() + "/metrics");
    }

    /**
     * A sample's value in the metrics text ("name{label="v",...}" exactly as the client writes it, labels in
     * its order), or -1 when absent.
     */
    public static double sample(String metrics, String series) {
        for (String l : metrics.split("\n")) {
            if (l.startsWith(series + " ")) return Double.parseDouble(l.substring(series.length() + 1).trim());
        }
        return -1;
    }

    /** The sum of the samples of a metric whose labels include every one given ("k=\"v\"" each). */
    public static double sum(String metrics, String name, String... labels) {
        double s = 0;
        boolean any = false;
        for (String l : metrics.split("\n")) {
            if (!l.startsWith(name + "{") && !l.startsWith(name + " ")) continue;
            int space = l.lastIndexOf(' ');
            String series = l.substring(0, space);
            boolean all = true;
            for (String label : labels) all &= series.contains(label);
            if (all) {
                s += Double.parseDouble(l.substring(space + 1));
                any = true;
            }
        }
        return any ? s : -1;
    }

    public static String get(String url) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        return r.body();
    }

    /** SIGTERM, then the exit code once it ended and printed "detached" (10 s at most each). */
    public int stop() throws Exception {
        if (process.isAlive()) Lab.run("kill", "-TERM", Long.toString(process.pid()));
        return awaitExit(10);
    }

    /** Waits for the exit (a --duration run) and for the stderr reader to have the last line. */
    public int awaitExit(int seconds) throws Exception {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
            throw new AssertionError("netwatcher " + args + " did not exit within " + seconds + " s");
        }
        for (int i = 0; i < 100 && stderr.stream().noneMatch(l -> l.startsWith("netwatcher: detached")); i++) Thread.sleep(50);
        return process.exitValue();
    }

    /** What it printed on stdout so far. */
    public String out() throws IOException {
        return Files.readString(stdout);
    }

    /** Its --json lines so far (a last line still being written is left out). */
    public List<JsonNode> json() throws IOException {
        ObjectMapper m = new ObjectMapper();
        List<JsonNode> lines = new ArrayList<>();
        String text = out();
        int end = text.lastIndexOf('\n');
        for (String line : text.substring(0, end + 1).split("\n")) if (!line.isBlank()) lines.add(m.readTree(line));
        return lines;
    }

    /** The --json lines of one type that match. */
    public List<JsonNode> json(String type, Predicate<JsonNode> p) throws IOException {
        return json().stream().filter(e -> e.path("type").asText().equals(type) && p.test(e)).toList();
    }

    /** Waits (timeout at most) until n lines of this type match; returns them all. */
    public List<JsonNode> await(String type, Predicate<JsonNode> p, int n, Duration timeout) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        List<JsonNode> got;
        while ((got = json(type, p)).size() < n && System.nanoTime() < end) Thread.sleep(50);
        if (got.size() < n) {
            throw new AssertionError("netwatcher " + args + ": " + got.size() + " of " + n + " " + type + " lines within "
                    + timeout + ": " + got + "; stderr " + stderr);
        }
        return got;
    }

    /** Events lost, from the last line ("netwatcher: detached; N events, M lost (ring buffer full)"). */
    public long lost() {
        String last = stderr.stream().filter(l -> l.startsWith("netwatcher: detached")).findFirst()
                .orElseThrow(() -> new AssertionError("no detached line: " + stderr));
        Matcher m = Pattern.compile(", (\\d+) lost").matcher(last);
        if (!m.find()) throw new AssertionError("no lost count in " + last);
        return Long.parseLong(m.group(1));
    }

    /** The exit summary's row that starts with these words (after its indentation), or fails. */
    public String summaryRow(String start) {
        return stderr.stream().filter(l -> l.strip().startsWith(start)).findFirst()
                .orElseThrow(() -> new AssertionError("no summary row '" + start + "': " + String.join("\n", stderr)));
    }

    /** The exit summary: the stderr lines after the last event (everything it printed on stderr). */
    public String summary() {
        return String.join("\n", stderr);
    }

    @Override
    public void close() throws Exception {
        process.destroyForcibly().waitFor();
    }
}
