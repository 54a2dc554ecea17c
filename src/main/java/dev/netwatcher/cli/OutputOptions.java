package dev.netwatcher.cli;

import dev.netwatcher.cli.Converters.DurationConverter;
import dev.netwatcher.cli.Converters.Endpoint;
import dev.netwatcher.cli.Converters.EndpointConverter;
import dev.netwatcher.cli.Converters.RingConverter;
import dev.netwatcher.metrics.OwnerLabels;
import dev.netwatcher.web.WebConfig;

import java.nio.file.Path;
import java.util.List;

import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;

/** Where events go and how the run goes: JSON, log files, metrics, the live view, its length, the ring buffer, --check. */
final class OutputOptions {
    @Option(names = "--json", description = "JSON Lines on stdout, one event per line.")
    boolean json;
    @Option(names = "--top", paramLabel = "N", converter = Converters.PositiveIntConverter.class,
            description = "Connection tables (the overview, -x, the live view) show the N busiest connections, then a line "
                    + "that counts the others per state (default: as many as the terminal has rows for; 50 when the output "
                    + "is not a terminal; all in JSON).")
    int top = -1;
    @Option(names = "--duration", paramLabel = "SECONDS", converter = DurationConverter.class,
            description = "Stop after this long: seconds, or a number with a unit (500ms, 5s, 2m, 1h; so are the other "
                    + "durations; -ms and -us options take their unit plain) (default: until Ctrl-C).")
    double duration;
    @Option(names = "--log-dir", paramLabel = "DIR", defaultValue = "data",
            description = "Folder for the log files (default: ${DEFAULT-VALUE}).")
    Path logDir = Path.of("data"); // the same as defaultValue: picocli leaves an unmatched group as initialised
    @Option(names = "--no-logs", description = "Write no log files.")
    boolean noLogs;
    @Option(names = "--metrics", paramLabel = "[HOST:]PORT", converter = EndpointConverter.class,
            description = "Serve Prometheus metrics on http://HOST:PORT/metrics (all addresses without HOST; port 0: a free one, "
                    + "shown in the \"attached\" line). "
                    + "Turns per-event console output and log files off unless --events, --json or --log-dir ask for them; "
                    + "per-layer latency is then aggregated in the kernel.")
    Endpoint metrics;
    @Option(names = "--metrics-labels", paramLabel = "LABELS", split = ",",
            description = "With --metrics: label event metrics (drops, retransmits, states, errors, HTTP, DNS, ...) by their "
                    + "owner's cgroup and/or container (cgroup,container), each with at most 100 values (then \"other\").")
    List<String> metricsLabels;
    @Option(names = {"-w", "--write"}, paramLabel = "FILE",
            description = "Write every packet -t, -u or -I follows, and every drop -k reports, to FILE as pcapng (Wireshark, "
                    + "tshark; - for stdout): its bytes, direction and device, and in its comment its owner and its time in each "
                    + "layer, or the drop's reason and place (docs/netwatcher.lua makes them Wireshark fields). Turns per-event console output and log files off unless --events, --json or "
                    + "--log-dir ask for them. An existing FILE is refused without --overwrite.")
    Path write;
    @Option(names = "--snaplen", paramLabel = "BYTES", converter = Converters.PositiveIntConverter.class,
            description = "With -w: bytes kept of each packet (default: 262144, as tcpdump). What the kernel's hooks can read "
                    + "ends sooner: see README, \"Writing pcapng\".")
    int snaplen = 262144;
    @Option(names = "--overwrite", description = "With -w: replace FILE if it exists.")
    boolean overwrite;
    @Option(names = "--events", description = "With --metrics or --ui: print events on the console as well.")
    boolean events;
    @Option(names = "--ui", paramLabel = "[HOST:]PORT", converter = EndpointConverter.class,
            description = "Serve a live view in the browser on http://HOST:PORT/ (127.0.0.1 without HOST; the --metrics "
                    + "server when both name the same port): per-layer latency, flows, drops, retransmissions, anomalies, "
                    + "connections. Read-only. Turns per-event console output and log files off, as --metrics does.")
    Endpoint ui;
    @Option(names = "--web-config", paramLabel = "FILE",
            description = "TLS and basic authentication for --metrics and --ui, in node_exporter's web configuration format "
                    + "(tls_server_config: cert_file, key_file, client_ca_file, client_auth_type, min_version; "
                    + "basic_auth_users: bcrypt hashes).")
    Path webConfigFile;
    /** --web-config, loaded and checked by validate(). */
    WebConfig web;
    @Option(names = "--bpf-stats", description = "With --metrics: turn on the kernel's per-program run count and time "
            + "(netwatcher_bpf_program_*; costs two clock reads per program run).")
    boolean bpfStats;
    @Option(names = "--ring-buffer-kb", paramLabel = "KB", converter = RingConverter.class, defaultValue = "16384",
            description = "Size in KiB of the ring buffer all probes write to, a power of 2 from 4 (default: ${DEFAULT-VALUE}). "
                    + "Bigger absorbs longer bursts before events are lost (and counted); it counts twice in netwatcher's RSS.")
    int ringKb = 16384; // the same as defaultValue: picocli leaves an unmatched group as initialised
    @Option(names = "--debug", description = "Show libbpf messages and stack traces.")
    boolean debug;
    @Option(names = "--check", description = "Check the options (every usage error, exit 2), then load and attach every "
            + "feature once and detach: one row per feature (ok, note, unavailable and why); exit 0 when every requested "
            + "feature works on this kernel, 1 when one does not.")
    boolean check;

    void validate(ParseResult pr) {
        if (noLogs && pr.hasMatchedOption("--log-dir")) throw new UsageException("--no-logs and --log-dir contradict each other");
        if (metrics == null && ui == null && write == null && events)
            throw new UsageException("--events belongs to --metrics, --ui or -w (without them events are always shown)");
        if (write == null && pr.hasMatchedOption("--snaplen")) throw new UsageException("--snaplen belongs to -w: add -w FILE");
        if (write == null && overwrite) throw new UsageException("--overwrite belongs to -w: add -w FILE");
        if (write != null) Capture.check(write, overwrite);
        if (stdoutCapture() && (json || events))
            throw new UsageException("-w - writes pcapng to stdout: " + (json ? "--json" : "--events") + " cannot share it");
        if (metricsLabels != null) {
            if (metrics == null) throw new UsageException("--metrics-labels belongs to --metrics: add --metrics [HOST:]PORT");
            for (String l : metricsLabels) {
                if (!OwnerLabels.KNOWN.contains(l))
                    throw new UsageException("--metrics-labels: '" + l + "' is not one of " + String.join(", ", OwnerLabels.KNOWN));
            }
        }
        if (metrics == null && bpfStats) throw new UsageException("--bpf-stats belongs to --metrics: add --metrics [HOST:]PORT");
        if (events && json) throw new UsageException("--events and --json contradict each other: choose one output");
        if (webConfigFile != null) {
            if (metrics == null && ui == null) throw new UsageException("--web-config protects --metrics and --ui: add one of them");
            try {
                web = WebConfig.load(webConfigFile);
            } catch (WebConfig.Invalid e) {
                throw new UsageException("--web-config: " + e.getMessage());
            }
        }
    }

    /** -w -: pcapng on stdout. */
    boolean stdoutCapture() {
        return write != null && write.toString().equals("-");
    }

    /** Per-event output goes somewhere else than the console unless asked for (--metrics, --ui, -w). */
    boolean quiet() {
        return metrics != null || ui != null || write != null;
    }

    /** "http" or "https", as the servers answer. */
    String scheme() {
        return web == null ? "http" : web.scheme();
    }

    /**
     * One line per server that anyone on the network can reach without credentials: bound beyond
     * loopback with no --web-config users.
     */
    List<String> exposure() {
        if (web != null && web.authenticates()) return List.of();
        List<String> out = new java.util.ArrayList<>();
        if (metrics != null && !loopback(metrics.host())) {
            out.add("metrics on " + (metrics.host() == null ? "every address" : metrics.host())
                    + " are readable by anyone who can reach the port" + (metricsLabels != null ? " (with the owners' cgroups and containers)" : "")
                    + "; protect them with --web-config (README, \"Protecting --metrics and --ui\")");
        }
        if (ui != null && ui.host() != null && !loopback(ui.host()) && !(metrics != null && ui.port() == metrics.port())) {
            out.add("the live view on " + ui.host() + " shows this host's flows, processes, containers, drops and connections to anyone "
                    + "who can reach the port; protect it with --web-config (README, \"Protecting --metrics and --ui\")");
        }
        return out;
    }

    private static boolean loopback(String host) {
        if (host == null) return false;
        try {
            return java.net.InetAddress.getByName(host).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }
}
