package dev.netwatcher.cli;

import dev.netwatcher.analysis.AnomalyDetector;
import dev.netwatcher.analysis.LatencyAnalysis;
import dev.netwatcher.analysis.TimeLoad;
import dev.netwatcher.bpf.BpfObject;
import dev.netwatcher.bpf.Privileges;
import dev.netwatcher.cli.Converters.CgroupConverter;
import dev.netwatcher.cli.Converters.CidrConverter;
import dev.netwatcher.cli.Converters.CommConverter;
import dev.netwatcher.cli.Converters.DurationConverter;
import dev.netwatcher.cli.Converters.MicrosConverter;
import dev.netwatcher.cli.Converters.MillisConverter;
import dev.netwatcher.cli.Converters.Endpoint;
import dev.netwatcher.cli.Converters.EndpointConverter;
import dev.netwatcher.cli.Converters.NetnsConverter;
import dev.netwatcher.cli.Converters.PidConverter;
import dev.netwatcher.cli.Converters.PortConverter;
import dev.netwatcher.cli.Converters.PositiveConverter;
import dev.netwatcher.cli.Converters.RingConverter;
import dev.netwatcher.cli.Converters.SampleConverter;
import dev.netwatcher.event.Event;
import dev.netwatcher.event.FlowTotalsReport;
import dev.netwatcher.event.IcmpEvent;
import dev.netwatcher.event.NetfilterEvent;
import dev.netwatcher.event.PacketEvent;
import dev.netwatcher.event.RttReport;
import dev.netwatcher.event.TcpStatesReport;
import dev.netwatcher.event.TcpConnEvent;
import dev.netwatcher.kernel.Clock;
import dev.netwatcher.metrics.KernelMetrics;
import dev.netwatcher.metrics.MetricsServer;
import dev.netwatcher.metrics.MetricsSink;
import dev.netwatcher.metrics.OwnerLabels;
import dev.netwatcher.probe.Cidr;
import dev.netwatcher.probe.ConnProbe;
import dev.netwatcher.probe.Filter;
import dev.netwatcher.probe.PacketProbe;
import dev.netwatcher.probe.PayloadProbe;
import dev.netwatcher.probe.Probe;
import dev.netwatcher.probe.Probes;
import dev.netwatcher.probe.Session;
import dev.netwatcher.sink.ConsoleSink;
import dev.netwatcher.sink.EventSink;
import dev.netwatcher.sink.JsonSink;
import dev.netwatcher.sink.LogFileSink;
import dev.netwatcher.sink.LogFolder;
import dev.netwatcher.sink.OverviewSink;
import dev.netwatcher.sink.RunSummary;
import dev.netwatcher.stats.Health;
import dev.netwatcher.stats.ProtoShares;
import dev.netwatcher.ui.LiveView;
import dev.netwatcher.ui.UiServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

import java.io.BufferedOutputStream;
import java.io.Console;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

@Command(name = "netwatcher", mixinStandardHelpOptions = true, sortOptions = false, usageHelpWidth = 110,
        version = "netwatcher 0.1.0",
        description = {"Shows what the Linux network stack does to your packets, live, with eBPF.",
                "Options combine freely. With no probe option: an overview of the live TCP connections (who owns",
                "them, client or server, state, age, srtt, cwnd, bytes, retransmits), refreshed every second, with the",
                "drops and TCP errors since start by reason."},
        footer = {"", "Examples:",
                "  netwatcher                               the overview: connections, drops and TCP errors",
                "  netwatcher -S -r -k -T            state changes, retransmissions, drops with kernel functions",
                "  netwatcher -k --daddr 198.18.0.0/15 --json --duration 10",
                "  netwatcher -t -L -d 443                  per-layer time of TCP packets to port 443, with anomalies",
                "  netwatcher -u -I -n --duration 30        UDP and ICMP layer times, netfilter hook times",
                "  netwatcher -x -a --dport 443             connection detail and closed connections to port 443",
                "  netwatcher -i --dns --json               HTTP exchanges and DNS transactions as JSON Lines",
                "Exit codes: 0 ok, 1 runtime failure (privileges, kernel), 2 bad options."})
final class Netwatcher implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-a", "--all"}, description = "Closed TCP connections: one line each when it ends (duration, bytes, retransmits, last state), also in connect.log.")
    boolean all;
    @Option(names = {"-d", "--dport"}, paramLabel = "PORT", converter = PortConverter.class,
            description = "Only flows with this destination port (remote port for socket events).")
    int dport;
    @Option(names = {"-e", "--err"}, description = "TCP errors: resets sent/received, bad checksums, socket errors.")
    boolean err;
    @Option(names = {"-i", "--http"}, description = "HTTP/1.x exchanges: method, path, host, status and time to the first response byte.")
    boolean http;
    @Option(names = "--http-full-path", description = "With -i: show request paths with their query values "
            + "(by default /login?user=\u2026&token=\u2026: values often carry tokens, and root sees every user's requests).")
    boolean httpFullPath;
    @Option(names = {"-I", "--icmptime"}, description = "ICMP: time from an echo request's arrival to the reply, with per-layer times.")
    boolean icmp;
    @Option(names = {"-k", "--drop_reason"}, description = "Packet drops (kfree_skb) with the kernel's drop reason.")
    boolean drops;
    @Option(names = {"-L", "--timeload"}, description = "Abnormal-latency warnings and a time-load table per interval (with -t -u -n -I).")
    boolean timeload;
    @Option(names = {"-n", "--net_filter"}, description = "Time each packet spends in each netfilter hook.")
    boolean netfilter;
    @Option(names = {"-p", "--proto"}, description = "Protocol share: packets and bytes per protocol (all of IP, ARP, "
            + "other frames) received and sent by every interface, each --interval, counted in the kernel.")
    boolean proto;
    @Option(names = {"-r", "--retrans"}, description = "TCP retransmissions, one event each.")
    boolean retrans;
    @Option(names = {"-s", "--sport"}, paramLabel = "PORT", converter = PortConverter.class,
            description = "Only flows with this source port (local port for socket events).")
    int sport;
    @Option(names = {"-S", "--tcpstate"}, description = "TCP state changes with the time spent in the old state.")
    boolean tcpstate;
    @Option(names = {"-t", "--time"}, description = "Per-layer time of every TCP packet, both directions.")
    boolean time;
    @Option(names = {"-T", "--addr_to_func"}, description = "Show drop locations as function+0xoffset (needs -k).")
    boolean addrToFunc;
    @Option(names = "--stack", description = "With -k: the kernel stack of each drop (JSON \"stack\", innermost frame first; "
            + "the console shows its first functions) and the top stacks per reason at exit.")
    boolean stack;
    @Option(names = {"-u", "--udp"}, description = "Per-layer time of every UDP packet, and packets/bytes per flow.")
    boolean udp;
    @Option(names = {"-x", "--extra"}, description = "TCP connection detail every --conn-every seconds and on state change: seq/ack, cwnd, "
            + "ssthresh, windows, srtt, buffers, retransmits, listen backlog (the numbers of 'ss -ti').")
    boolean extra;
    @Option(names = "--dns", description = "DNS queries and answers (UDP and TCP port 53): name, type, response code, latency.")
    boolean dns;
    @Option(names = {"-M", "--mysql"}, description = "MySQL/MariaDB commands (query text, statement ids, other commands by "
            + "name) with the time to the first byte of the answer and its outcome (OK, ERR code and message, result set columns).")
    boolean mysql;
    @Option(names = "--mysql-port", paramLabel = "PORT", converter = PortConverter.class, defaultValue = "3306",
            description = "With -M: the server port (default: ${DEFAULT-VALUE}).")
    int mysqlPort;
    @Option(names = "--mysql-slow-ms", paramLabel = "MS", converter = MillisConverter.class,
            description = "With -M: only commands answered in MS milliseconds or more (the slow-query log's threshold).")
    double mysqlSlowMs;
    @Option(names = {"-R", "--redis"}, description = "Redis commands (name and first key) with their reply type and "
            + "latency; pipelined commands are paired in order.")
    boolean redis;
    @Option(names = "--redis-port", paramLabel = "PORT", converter = PortConverter.class, defaultValue = "6379",
            description = "With -R: the server port (default: ${DEFAULT-VALUE}).")
    int redisPort;
    @Option(names = "--tls", description = "TLS handshakes: server name (SNI), versions offered and chosen, ALPN, cipher, "
            + "and the time from ClientHello to ServerHello.")
    boolean tls;
    @Option(names = "--rtt", description = "Smoothed RTT per TCP connection every --conn-every seconds, and RTT samples per remote address.")
    boolean rtt;
    @Option(names = "--conn-every", paramLabel = "SECONDS", converter = DurationConverter.class, defaultValue = "5",
            description = "Period of the -x / --rtt reports (default: ${DEFAULT-VALUE}; also at start and, for --rtt, at exit), "
                    + "and of the overview (default there: 1).")
    double connEvery;

    @Option(names = "--saddr", paramLabel = "CIDR", converter = CidrConverter.class,
            description = "Only flows from this address or prefix (IPv4 or IPv6), e.g. 198.18.0.0/15.")
    Cidr saddr;
    @Option(names = "--daddr", paramLabel = "CIDR", converter = CidrConverter.class,
            description = "Only flows to this address or prefix.")
    Cidr daddr;
    @Option(names = "--netns", paramLabel = "INODE", converter = NetnsConverter.class,
            description = "Only events in this network namespace (inode, as in 'ls -L -i /proc/PID/ns/net').")
    long netns;
    @Option(names = "--pid", paramLabel = "PID", converter = PidConverter.class,
            description = "Only events of this process (its threads too): its sockets' packets, drops, retransmits and "
                    + "states, whatever context the kernel handled them in.")
    int pid;
    @Option(names = "--comm", paramLabel = "NAME", converter = CommConverter.class,
            description = "Only events of processes with this task name (as /proc/PID/comm shows it).")
    String comm;
    @Option(names = "--cgroup", paramLabel = "PATH", converter = CgroupConverter.class,
            description = "Only events of processes in this cgroup v2 or below it (a path as in /proc/PID/cgroup, "
                    + "or under /sys/fs/cgroup).")
    long cgroup;
    @Option(names = "--interval", paramLabel = "SECONDS", converter = DurationConverter.class, defaultValue = "1",
            description = "Time-load table period with -L (default: ${DEFAULT-VALUE}).")
    double interval;
    @Option(names = "--totals-every", paramLabel = "SECONDS", converter = DurationConverter.class, defaultValue = "10",
            description = "Flow totals period with -t/-u (default: ${DEFAULT-VALUE}; also printed at exit).")
    double totalsEvery;
    @Option(names = "--anomaly-factor", paramLabel = "X", converter = PositiveConverter.class, defaultValue = "3",
            description = "-L: abnormal only above X times the baseline mean (default: ${DEFAULT-VALUE}).")
    double anomalyFactor;
    @Option(names = "--anomaly-sigmas", paramLabel = "K", converter = PositiveConverter.class, defaultValue = "6",
            description = "-L: abnormal only above mean + K standard deviations (default: ${DEFAULT-VALUE}).")
    double anomalySigmas;
    @Option(names = "--anomaly-floor-us", paramLabel = "US", converter = MicrosConverter.class, defaultValue = "50",
            description = "-L: never abnormal below this many µs (default: ${DEFAULT-VALUE}).")
    double anomalyFloorUs;
    @Option(names = "--anomaly-warmup", paramLabel = "N", converter = PositiveConverter.class, defaultValue = "50",
            description = "-L: samples a baseline needs before it judges (default: ${DEFAULT-VALUE}).")
    double anomalyWarmup;
    @Option(names = "--latency-threshold-us", paramLabel = "US", converter = MicrosConverter.class,
            description = "-L: also flag any layer time above this fixed threshold.")
    double thresholdUs;
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
    @Option(names = "--events", description = "With --metrics or --ui: print events on the console as well.")
    boolean events;
    @Option(names = "--ui", paramLabel = "[HOST:]PORT", converter = EndpointConverter.class,
            description = "Serve a live view in the browser on http://HOST:PORT/ (127.0.0.1 without HOST; the --metrics "
                    + "server when both name the same port): per-layer latency, flows, drops, retransmissions, anomalies, "
                    + "connections. Read-only. Turns per-event console output and log files off, as --metrics does.")
    Endpoint ui;
    @Option(names = "--bpf-stats", description = "With --metrics: turn on the kernel's per-program run count and time "
            + "(netwatcher_bpf_program_*; costs two clock reads per program run).")
    boolean bpfStats;
    @Option(names = "--ring-buffer-kb", paramLabel = "KB", converter = RingConverter.class, defaultValue = "16384",
            description = "Size in KiB of the ring buffer all probes write to, a power of 2 from 4 (default: ${DEFAULT-VALUE}). "
                    + "Bigger absorbs longer bursts before events are lost (and counted); it counts twice in netwatcher's RSS.")
    int ringKb;
    @Option(names = "--sample", paramLabel = "N", converter = SampleConverter.class, defaultValue = "1",
            description = "With -t/-u/-I: follow 1 packet in N (default: every packet). The choice is made once per "
                    + "packet from bytes it carries, so all its layers are timed; packet records are real packets, "
                    + "while flow totals, packet counts and kernel histograms count each sampled packet N times.")
    int sample;
    @Option(names = "--json", description = "JSON Lines on stdout, one event per line.")
    boolean json;
    @Option(names = "--duration", paramLabel = "SECONDS", converter = DurationConverter.class,
            description = "Stop after this long: seconds, or a number with a unit (500ms, 5s, 2m, 1h; so are the other "
                    + "durations; -ms and -us options take their unit plain) (default: until Ctrl-C).")
    double duration;
    @Option(names = "--log-dir", paramLabel = "DIR", defaultValue = "data",
            description = "Folder for the log files (default: ${DEFAULT-VALUE}).")
    Path logDir;
    @Option(names = "--no-logs", description = "Write no log files.")
    boolean noLogs;
    @Option(names = "--debug", description = "Show libbpf messages and stack traces.")
    boolean debug;
    @Option(names = "--check", description = "Check the options (every usage error, exit 2), then load and attach every "
            + "feature once and detach: one row per feature (ok, note, unavailable and why); exit 0 when every requested "
            + "feature works on this kernel, 1 when one does not.")
    boolean check;

    /** No probe option was given: the overview (set by selectProbes). */
    boolean overview;

    /**
     * The log files of the overview: events as usual, but the socket walks' snapshots become the
     * connection table of connect.log, rewritten after each walk (conn.log would grow by every
     * socket each second).
     */
    private record OverviewLogs(LogFileSink sink, List<TcpConnEvent> walk) implements EventSink {
        OverviewLogs(LogFileSink sink) {
            this(sink, new ArrayList<>());
        }

        @Override
        public void accept(Event e) {
            if (e instanceof TcpConnEvent c && c.reason().equals("snapshot")) {
                if (!c.info().listening()) walk.add(c);
            } else {
                sink.accept(e);
            }
        }

        @Override
        public void walkDone(long epochNs) {
            sink.connections(walk);
            walk.clear();
        }

        @Override
        public void flush() {
            sink.flush();
        }

        @Override
        public void close() {
            sink.close();
        }
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter stderr = spec.commandLine().getErr();
        ParseResult pr = spec.commandLine().getParseResult();
        boolean logs = !noLogs && (metrics == null && ui == null || pr.hasMatchedOption("--log-dir"));
        boolean console = !json && (metrics == null && ui == null || events);
        // --metrics aggregates packet latency in the kernel; records go to user space only if something reads them
        PacketProbe.Aggregate aggregate = metrics == null ? PacketProbe.Aggregate.NONE
                : console || json || logs || timeload || ui != null ? PacketProbe.Aggregate.ALSO : PacketProbe.Aggregate.ONLY;
        List<Probe> probes = selectProbes(aggregate);
        if (overview && !pr.hasMatchedOption("--conn-every")) connEvery = 1;
        LatencyAnalysis analysis = timeload ? new LatencyAnalysis(new AnomalyDetector.Config(0.05, (int) anomalyWarmup,
                anomalySigmas, anomalyFactor, (long) (anomalyFloorUs * 1000), (long) (thresholdUs * 1000), 4096),
                (long) (interval * 1e9)) : null;
        Filter filter = new Filter(netns, sport, dport, saddr, daddr).withOwner(pid, comm, cgroup);
        if (check) {
            String attach = String.join(" ", probes.stream().map(Probe::option).toList());
            spec.commandLine().getOut().println("netwatcher: options ok; would attach "
                    + (overview ? "the overview (" + attach + ")" : attach)
                    + (metrics != null ? " and serve metrics on " + (metrics.host() == null ? "0.0.0.0" : metrics.host()) + ":" + metrics.port() : ""));
            spec.commandLine().getOut().flush();
            BpfObject.setLibbpfVerbose(debug);
            return FeatureCheck.run(probes, filter, spec.commandLine().getOut());
        }

        List<String> missing = Privileges.missingForTracing();
        if (!missing.isEmpty()) {
            stderr.println("netwatcher: needs root, or the capabilities " + String.join(" and ", missing)
                    + " (missing: " + String.join(", ", missing) + "); try: sudo ./netwatcher ...");
            return 1;
        }
        BpfObject.setLibbpfVerbose(debug);

        io.prometheus.metrics.model.registry.PrometheusRegistry registry = null;
        MetricsServer server = null;
        AtomicReference<Session> live = new AtomicReference<>();
        LiveView view = ui == null ? null : new LiveView();
        Clock uiClock = new Clock();
        UiServer uiServer = ui == null ? null : new UiServer(view, uiClock::nowEpochNs);
        boolean uiShared = ui != null && metrics != null && ui.port() == metrics.port() && ui.port() != 0
                && (ui.host() == null || ui.host().equals(metrics.host()));
        if (metrics != null) {
            registry = new io.prometheus.metrics.model.registry.PrometheusRegistry();
            registry.register(new KernelMetrics(new KernelMetrics.Sources(
                    () -> live.get() == null ? List.of() : live.get().packetHistograms(),
                    () -> live.get() == null ? List.of() : live.get().packetCounts(),
                    () -> live.get() == null ? new Health(0, 0, 0, Map.of(), List.of()) : live.get().health(),
                    () -> live.get() == null ? List.of() : live.get().connectionStates(),
                    () -> live.get() == null ? List.of() : live.get().protoCounts())));
            try {
                server = MetricsServer.start(metrics.host(), metrics.port(), registry, uiShared ? uiServer : null);
            } catch (UncheckedIOException e) {
                stderr.println("netwatcher: " + e.getMessage());
                if (uiServer != null) uiServer.close();
                return 1;
            }
        }
        if (uiServer != null && !uiShared) {
            try {
                uiServer.listen(ui.host() == null ? "127.0.0.1" : ui.host(), ui.port());
            } catch (UncheckedIOException e) {
                stderr.println("netwatcher: " + e.getMessage());
                uiServer.close();
                if (server != null) server.close();
                return 1;
            }
        }
        AutoCloseable servers = closing(server, uiServer);

        List<EventSink> sinks = new ArrayList<>();
        RunSummary summary = new RunSummary().sampling(sample);
        sinks.add(summary);
        if (view != null) sinks.add(view);
        if (registry != null) sinks.add(new MetricsSink(registry, metricsLabels == null ? OwnerLabels.none() : new OwnerLabels(metricsLabels)));
        if (logs) {
            try {
                LogFileSink files = new LogFileSink(logDir);
                // the overview's per-second socket walks stay out of the files (conn.log would grow by every socket each second)
                sinks.add(overview ? new OverviewLogs(files) : files);
            } catch (LogFolder.Unsafe e) {
                stderr.println("netwatcher: " + e.getMessage() + " (choose another --log-dir, or --no-logs)");
                servers.close();
                return 1;
            }
        }
        PrintStream stdout = new PrintStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16),
                false, StandardCharsets.UTF_8);
        ConsoleSink consoleSink = null;
        if (overview) {
            if (json || console) {
                Console term = System.console();
                sinks.addFirst(new OverviewSink(stdout, json, term != null && term.isTerminal()));
            }
        } else if (json) {
            sinks.addFirst(new JsonSink(stdout));
        } else if (console) {
            consoleSink = new ConsoleSink(stdout, legends());
            sinks.addFirst(consoleSink);
        }
        Fanout out = new Fanout(sinks);

        Consumer<Event> listener = analysis == null ? out::accept : e -> {
            out.accept(e);
            analysis.accept(e, out::accept);
        };
        Session session;
        try {
            session = Session.open(new Session.Config(probes, filter, addrToFunc || stack, bpfStats, ringKb * 1024), listener);
        } catch (RuntimeException e) {
            servers.close();
            throw e;
        }
        live.set(session);
        for (String u : session.unavailable()) stderr.println("netwatcher: unavailable: " + u);
        for (String n : session.notes()) stderr.println("netwatcher: note: " + n);
        Clock clock = new Clock();
        Periodic periodic = periodicWork(session, out, analysis, clock, stderr);
        Runnable atEnd = () -> {
            if (analysis != null) out.report(analysis.finish(System.nanoTime(), clock.nowEpochNs()));
            if (time || udp) out.report(new FlowTotalsReport(clock.nowEpochNs(), session.flowTotals()));
            if (rtt) out.report(new RttReport(clock.nowEpochNs(), session.rttHistograms()));
            out.flush();
            summary.print(stderr, session.packetHistograms());
        };
        Runner runner = new Runner(session, out, stderr, atEnd, () -> analysis == null ? -1 : analysis.anomalies());
        Thread hook = new Thread(runner::onSignal, "netwatcher-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        stderr.println(attachedLine(session, server, uiServer, uiShared));
        stderr.flush();
        if (consoleSink != null) {
            consoleSink.header();
            consoleSink.flush();
        }
        try {
            session.run(duration > 0 ? (long) (duration * 1e9) : 0, periodic);
        } finally {
            runner.finish();
            servers.close();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or has run: nothing to remove
            }
        }
        return 0;
    }

    /** Closes the servers that were started (null: not started); never throws. */
    private static AutoCloseable closing(MetricsServer metricsServer, UiServer uiServer) {
        return () -> {
            if (metricsServer != null) metricsServer.close();
            if (uiServer != null) uiServer.close();
        };
    }

    /** The socket walk's namespace warning was printed (once per run). */
    private boolean connWarned;

    /**
     * What the run loop does between batches of records: decoders' timeouts each second, the socket
     * walk (-x, --rtt, the overview), loss warnings, -L's interval, flow totals, and a flush.
     */
    private Periodic periodicWork(Session session, Fanout out, LatencyAnalysis analysis, Clock clock, PrintWriter stderr) {
        LossWarnings losses = new LossWarnings(() -> {
            Map<String, Long> m = new LinkedHashMap<>();
            m.put("events lost (ring buffer full)", session.lost());
            m.put("hook hits missed (the kernel did not run the probe)", session.missed());
            m.putAll(session.counters());
            m.put("probe runs skipped by the kernel (recursion)", session.recursionMisses());
            return m;
        }, stderr, 5_000_000_000L);
        boolean snapshots = extra || rtt || overview;
        Periodic periodic = new Periodic()
                // what probes' decoders have due (DNS timeouts)
                .every(1_000_000_000L, () -> session.expire(clock.nowEpochNs()));
        if (snapshots) {
            periodic.fromStart((long) (connEvery * 1e9), () -> {
                int failed = session.readIterators();
                if (failed > 0 && !connWarned) {
                    connWarned = true;
                    stderr.println("netwatcher: -x/--rtt: could not enter " + failed + " network namespace(s); their sockets are not shown");
                }
                if (rtt) out.report(new RttReport(clock.nowEpochNs(), session.rttHistograms()));
                if (extra || overview) {
                    out.report(new TcpStatesReport(clock.nowEpochNs(), session.connectionStates().stream()
                            .map(s -> new TcpStatesReport.Row(s.state(), s.sockets())).toList()));
                }
                out.walkDone(clock.nowEpochNs());
            });
        }
        periodic.always(() -> losses.check(System.nanoTime()));
        if (analysis != null) {
            periodic.always(() -> {
                TimeLoad.Report r = analysis.tick(System.nanoTime(), clock.nowEpochNs());
                if (r != null) out.report(r);
            });
        }
        if (time || udp) periodic.every((long) (totalsEvery * 1e9), () -> out.report(new FlowTotalsReport(clock.nowEpochNs(), session.flowTotals())));
        if (proto) {
            ProtoShares shares = new ProtoShares(session.protoCounts(), System.nanoTime());
            periodic.every((long) (interval * 1e9), () -> out.report(shares.next(clock.nowEpochNs(), System.nanoTime(), session.protoCounts())));
        }
        periodic.always(out::flush);
        return periodic;
    }

    /** "netwatcher: attached -t -k (netfilter hooks in 3 network namespaces) for 5.0 s". */
    private String attachedLine(Session session, MetricsServer server, UiServer uiServer, boolean uiShared) {
        int spaces = session.hookedNamespaces();
        return "netwatcher: attached " + String.join(" ", session.running())
                + (sample > 1 ? " (following 1 packet in " + sample + ")" : "")
                + (spaces > 0 ? " (netfilter hooks in " + spaces + (spaces == 1 ? " network namespace)" : " network namespaces)") : "")
                + (server != null ? "; metrics on http://" + (metrics.host() == null ? "0.0.0.0" : metrics.host()) + ":"
                        + server.port() + "/metrics" : "")
                + (uiServer != null ? "; live view (read-only) on http://" + (uiShared ? (metrics.host() == null ? "0.0.0.0" : metrics.host())
                        + ":" + server.port() : (ui.host() == null ? "127.0.0.1" : ui.host()) + ":" + uiServer.port()) + "/" : "")
                + (duration > 0 ? " for " + duration + " s" : "; Ctrl-C to stop");
    }

    /** The console's legend lines: what the columns of packet, icmp and netfilter lines mean. */
    private List<String> legends() {
        List<String> legends = new ArrayList<>();
        if (time || udp) legends.add(PacketEvent.legend());
        if (icmp) legends.add(IcmpEvent.legend() + "; other ICMP as packet");
        if (netfilter) legends.add(NetfilterEvent.legend());
        return legends;
    }

    private List<Probe> selectProbes(PacketProbe.Aggregate aggregate) {
        if (addrToFunc && !drops) throw new UsageException("-T (--addr_to_func) resolves drop locations: use it with -k");
        if (stack && !drops) throw new UsageException("--stack shows the kernel stack of drops: use it with -k");
        if (httpFullPath && !http) throw new UsageException("--http-full-path belongs to -i: add -i");
        if (noLogs && spec.commandLine().getParseResult().hasMatchedOption("--log-dir"))
            throw new UsageException("--no-logs and --log-dir contradict each other");
        List<Probe> probes = new ArrayList<>();
        if (tcpstate) probes.add(Probes.TCP_STATE);
        if (retrans) probes.add(Probes.RETRANS);
        if (drops) probes.add(stack ? Probes.drops(true) : Probes.DROP);
        if (err) probes.add(Probes.TCP_ERROR);
        int modes = packetModes();
        if (sample > 1 && modes == 0) throw new UsageException("--sample belongs to -t, -u and -I: add one of them");
        if (modes != 0) probes.add(Probes.packets(modes, aggregate, sample));
        if (netfilter) probes.add(Probes.NETFILTER);
        if (proto) probes.add(Probes.PROTO);
        int conn = (extra ? ConnProbe.EXTRA : 0) | (all ? ConnProbe.ALL : 0)
                | (rtt ? ConnProbe.RTT : 0);
        if (conn != 0) probes.add(Probes.connections(conn));
        int payload = (http ? PayloadProbe.HTTP : 0) | (dns ? PayloadProbe.DNS : 0) | (tls ? PayloadProbe.TLS : 0)
                | (mysql ? PayloadProbe.MYSQL : 0) | (redis ? PayloadProbe.REDIS : 0);
        ParseResult mp = spec.commandLine().getParseResult();
        if (!mysql && (mp.hasMatchedOption("--mysql-port") || mp.hasMatchedOption("--mysql-slow-ms")))
            throw new UsageException("--mysql-port and --mysql-slow-ms belong to -M (--mysql): add -M");
        if (!redis && mp.hasMatchedOption("--redis-port")) throw new UsageException("--redis-port belongs to -R (--redis): add -R");
        if (payload != 0) probes.add(Probes.payload(payload, httpFullPath).mysql(mysqlPort, (long) (mysqlSlowMs * 1e6)).redis(redisPort));
        if (timeload && modes == 0 && !netfilter)
            throw new UsageException("-L (--timeload) analyses latency: use it with -t, -u, -n or -I");
        ParseResult pr = spec.commandLine().getParseResult();
        if (metrics == null && ui == null && events)
            throw new UsageException("--events belongs to --metrics or --ui (without them events are always shown)");
        if (metricsLabels != null) {
            if (metrics == null) throw new UsageException("--metrics-labels belongs to --metrics: add --metrics [HOST:]PORT");
            for (String l : metricsLabels) {
                if (!OwnerLabels.KNOWN.contains(l))
                    throw new UsageException("--metrics-labels: '" + l + "' is not one of " + String.join(", ", OwnerLabels.KNOWN));
            }
        }
        if (metrics == null && bpfStats) throw new UsageException("--bpf-stats belongs to --metrics: add --metrics [HOST:]PORT");
        if (events && json) throw new UsageException("--events and --json contradict each other: choose one output");
        for (String o : new String[] {"--interval", "--anomaly-factor", "--anomaly-sigmas", "--anomaly-floor-us",
                "--anomaly-warmup", "--latency-threshold-us"}) {
            if (pr.hasMatchedOption(o) && !timeload && !(proto && o.equals("--interval")))
                throw new UsageException(o + " belongs to -L (--timeload)" + (o.equals("--interval") ? " or -p (--proto)" : "") + ": add it");
        }
        if (pr.hasMatchedOption("--totals-every") && !time && !udp)
            throw new UsageException("--totals-every belongs to -t/-u: add one of them");
        if (probes.isEmpty()) {
            // the original's default: the connection table, with drops and TCP errors
            overview = true;
            probes.add(Probes.DROP);
            probes.add(Probes.TCP_ERROR);
            probes.add(Probes.connections(ConnProbe.EXTRA));
        }
        if (pr.hasMatchedOption("--conn-every") && !extra && !rtt && !overview)
            throw new UsageException("--conn-every belongs to -x/--rtt or the overview (no probe option)");
        return probes;
    }

    private int packetModes() {
        return (time ? PacketProbe.MODE_TCP : 0) | (udp ? PacketProbe.MODE_UDP : 0) | (icmp ? PacketProbe.MODE_ICMP : 0);
    }
}
