package dev.netwatcher.cli;

import dev.netwatcher.analysis.AnomalyDetector;
import dev.netwatcher.analysis.LatencyAnalysis;
import dev.netwatcher.analysis.TimeLoad;
import dev.netwatcher.bpf.BpfObject;
import dev.netwatcher.bpf.Privileges;
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
import dev.netwatcher.probe.ConnProbe;
import dev.netwatcher.probe.Filter;
import dev.netwatcher.probe.DropProbe;
import dev.netwatcher.probe.PacketProbe;
import dev.netwatcher.sink.PcapngSink;
import dev.netwatcher.probe.Probe;
import dev.netwatcher.probe.Probes;
import dev.netwatcher.probe.Session;
import dev.netwatcher.sink.ConsoleSink;
import dev.netwatcher.sink.EventSink;
import dev.netwatcher.sink.JsonSink;
import dev.netwatcher.sink.LogFileSink;
import dev.netwatcher.sink.LogFolder;
import dev.netwatcher.sink.OverviewSink;
import dev.netwatcher.sink.BusiestSnapshots;
import dev.netwatcher.bpf.Terminal;
import dev.netwatcher.sink.RunSummary;
import dev.netwatcher.stats.Health;
import dev.netwatcher.analysis.ProtoShares;
import dev.netwatcher.ui.LiveView;
import dev.netwatcher.ui.UiServer;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

import java.io.BufferedOutputStream;
import java.io.Console;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

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

    // the options in groups (picocli mixins: one class per concern, each validating what belongs to it;
    // what crosses groups is checked in selectProbes); --help shows one section per group (optionSections).
    // Not @ArgGroup: that has the same sections built in, and cost ~60 ms of every start (bench/startup.sh).
    @Mixin
    WatchOptions watch = new WatchOptions();
    @Mixin
    PayloadOptions payload = new PayloadOptions();
    @Mixin
    FilterOptions filters = new FilterOptions();
    @Mixin
    TimingOptions timing = new TimingOptions();
    @Mixin
    OutputOptions output = new OutputOptions();

    /** No probe option was given: the overview (set by selectProbes). */
    boolean overview;

    @Override
    public Integer call() throws Exception {
        PrintWriter stderr = spec.commandLine().getErr();
        ParseResult pr = spec.commandLine().getParseResult();
        boolean logs = !output.noLogs && (!output.quiet() || pr.hasMatchedOption("--log-dir"));
        boolean console = !output.json && (!output.quiet() || output.events);
        // --metrics aggregates packet latency in the kernel; records go to user space only if something reads them
        PacketProbe.Aggregate aggregate = output.metrics == null ? PacketProbe.Aggregate.NONE
                : console || output.json || logs || watch.timeload || output.ui != null || output.write != null ? PacketProbe.Aggregate.ALSO : PacketProbe.Aggregate.ONLY;
        List<Probe> probes = selectProbes(aggregate);
        if (overview && !pr.hasMatchedOption("--conn-every")) watch.connEvery = 1;
        LatencyAnalysis analysis = watch.timeload ? new LatencyAnalysis(new AnomalyDetector.Config(0.05, (int) timing.anomalyWarmup,
                timing.anomalySigmas, timing.anomalyFactor, (long) (timing.anomalyFloorUs * 1000), (long) (timing.thresholdUs * 1000), 4096),
                (long) (timing.interval * 1e9)) : null;
        Filter filter = filters.filter();
        if (output.check) {
            String attach = String.join(" ", probes.stream().map(Probe::option).toList());
            spec.commandLine().getOut().println("netwatcher: options ok; would attach "
                    + (overview ? "the overview (" + attach + ")" : attach)
                    + (output.metrics != null ? " and serve metrics on " + (output.metrics.host() == null ? "0.0.0.0" : output.metrics.host()) + ":" + output.metrics.port() : ""));
            spec.commandLine().getOut().flush();
            BpfObject.setLibbpfVerbose(output.debug);
            return FeatureCheck.run(probes, filter, spec.commandLine().getOut());
        }

        List<String> missing = Privileges.missingForTracing();
        if (!missing.isEmpty()) {
            stderr.println("netwatcher: needs root, or the capabilities " + String.join(" and ", missing)
                    + " (missing: " + String.join(", ", missing) + "); try: sudo ./netwatcher ...");
            return 1;
        }
        BpfObject.setLibbpfVerbose(output.debug);

        io.prometheus.metrics.model.registry.PrometheusRegistry registry = null;
        MetricsServer server = null;
        AtomicReference<Session> live = new AtomicReference<>();
        LiveView view = output.ui == null ? null : new LiveView(output.top >= 0 ? output.top : OverviewSink.PIPED_ROWS);
        Clock uiClock = new Clock();
        UiServer uiServer = output.ui == null ? null : new UiServer(view, uiClock::nowEpochNs);
        boolean uiShared = output.ui != null && output.metrics != null && output.ui.port() == output.metrics.port() && output.ui.port() != 0
                && (output.ui.host() == null || output.ui.host().equals(output.metrics.host()));
        if (output.metrics != null) {
            registry = new io.prometheus.metrics.model.registry.PrometheusRegistry();
            registry.register(new KernelMetrics(new KernelMetrics.Sources(
                    () -> live.get() == null ? List.of() : live.get().packetHistograms(),
                    () -> live.get() == null ? List.of() : live.get().packetCounts(),
                    () -> live.get() == null ? new Health(0, 0, 0, Map.of(), List.of()) : live.get().health(),
                    () -> live.get() == null ? List.of() : live.get().connectionStates(),
                    () -> live.get() == null ? List.of() : live.get().protoCounts())));
            try {
                server = MetricsServer.start(output.metrics.host(), output.metrics.port(), registry, uiShared ? uiServer : null, output.web);
            } catch (UncheckedIOException e) {
                stderr.println("netwatcher: " + e.getMessage());
                if (uiServer != null) uiServer.close();
                return 1;
            }
        }
        if (uiServer != null && !uiShared) {
            try {
                uiServer.listen(output.ui.host() == null ? "127.0.0.1" : output.ui.host(), output.ui.port(), output.web);
            } catch (UncheckedIOException e) {
                stderr.println("netwatcher: " + e.getMessage());
                uiServer.close();
                if (server != null) server.close();
                return 1;
            }
        }
        AutoCloseable servers = closing(server, uiServer);
        for (String w : output.exposure()) stderr.println("netwatcher: warning: " + w);

        List<EventSink> sinks = new ArrayList<>();
        RunSummary summary = new RunSummary().sampling(timing.sample);
        sinks.add(summary);
        if (view != null) sinks.add(view);
        if (registry != null) sinks.add(new MetricsSink(registry, output.metricsLabels == null ? OwnerLabels.none() : new OwnerLabels(output.metricsLabels)));
        if (logs) {
            try {
                LogFileSink files = new LogFileSink(output.logDir);
                // the overview's per-second socket walks stay out of the files (conn.log would grow by every socket each second)
                sinks.add(overview ? new dev.netwatcher.sink.OverviewLogs(files) : files);
            } catch (LogFolder.Unsafe e) {
                stderr.println("netwatcher: " + e.getMessage() + " (choose another --log-dir, or --no-logs)");
                servers.close();
                return 1;
            }
        }
        PcapngSink pcap = null;
        if (output.write != null) {
            try {
                pcap = Capture.open(output.write, output.overwrite, output.snaplen);
            } catch (LogFolder.Unsafe e) {
                stderr.println("netwatcher: -w: " + e.getMessage());
                servers.close();
                return 1;
            }
            sinks.add(pcap);
        }
        PrintStream stdout = new PrintStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16),
                false, StandardCharsets.UTF_8);
        ConsoleSink consoleSink = null;
        if (overview) {
            if (output.json || console) {
                Console term = System.console();
                sinks.addFirst(new OverviewSink(stdout, output.json, term != null && term.isTerminal() ? Terminal::rows : null, output.top));
            }
        } else if (output.json) {
            JsonSink json = new JsonSink(stdout);
            // -x --top N: the N busiest sockets of each walk (JSON has them all by default)
            sinks.addFirst(watch.extra && output.top >= 0 ? new BusiestSnapshots(json, output.top, null) : json);
        } else if (console) {
            consoleSink = new ConsoleSink(stdout, legends(), watch.timeload ? (long) (timing.interval * 1e9) : 0);
            // -x: the busiest --top sockets of each walk (OverviewSink.PIPED_ROWS by default), then one line for the others
            sinks.addFirst(watch.extra ? new BusiestSnapshots(consoleSink, output.top >= 0 ? output.top : OverviewSink.PIPED_ROWS,
                    consoleSink::comment) : consoleSink);
        }
        Fanout out = new Fanout(sinks);

        Consumer<Event> listener = analysis == null ? out::accept : e -> {
            out.accept(e);
            analysis.accept(e, out::accept);
        };
        Session session;
        try {
            session = Session.open(new Session.Config(probes, filter, watch.addrToFunc || watch.stack, output.bpfStats, output.ringKb * 1024), listener);
        } catch (RuntimeException e) {
            servers.close();
            throw e;
        }
        live.set(session);
        for (String u : session.unavailable()) stderr.println("netwatcher: unavailable: " + u);
        for (String n : session.notes()) stderr.println("netwatcher: note: " + n);
        session.onLateNote(u -> {
            stderr.println("netwatcher: unavailable: " + u);
            stderr.flush();
        });
        Clock clock = new Clock();
        Periodic periodic = periodicWork(session, out, analysis, clock, stderr);
        PcapngSink pcapSink = pcap;
        Runnable atEnd = () -> {
            if (analysis != null) out.report(analysis.finish(System.nanoTime(), clock.nowEpochNs()));
            if (watch.time || watch.udp) out.report(new FlowTotalsReport(clock.nowEpochNs(), session.flowTotals()));
            if (watch.rtt) out.report(new RttReport(clock.nowEpochNs(), session.rttHistograms()));
            out.flush();
            summary.print(stderr, session.packetHistograms());
            if (pcapSink != null) stderr.println("netwatcher: " + pcapSink.packets() + " packets written to " + output.write);
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
            session.run(output.duration > 0 ? (long) (output.duration * 1e9) : 0, periodic);
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
        boolean snapshots = watch.extra || watch.rtt || overview;
        Periodic periodic = new Periodic()
                // what probes' decoders have due (DNS timeouts)
                .every(1_000_000_000L, () -> session.expire(clock.nowEpochNs()));
        if (snapshots) {
            periodic.fromStart((long) (watch.connEvery * 1e9), () -> {
                int failed = session.readIterators();
                if (failed > 0 && !connWarned) {
                    connWarned = true;
                    stderr.println("netwatcher: -x/--rtt: could not enter " + failed + " network namespace(s); their sockets are not shown");
                }
                if (watch.rtt) out.report(new RttReport(clock.nowEpochNs(), session.rttHistograms()));
                if (watch.extra || overview) {
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
        if (watch.time || watch.udp) periodic.every((long) (timing.totalsEvery * 1e9), () -> out.report(new FlowTotalsReport(clock.nowEpochNs(), session.flowTotals())));
        if (watch.proto) {
            ProtoShares shares = new ProtoShares(session.protoCounts(), System.nanoTime());
            periodic.every((long) (timing.interval * 1e9), () -> out.report(shares.next(clock.nowEpochNs(), System.nanoTime(), session.protoCounts())));
        }
        periodic.always(out::flush);
        return periodic;
    }

    /** "netwatcher: attached -t -k (netfilter hooks in 3 network namespaces) for 5.0 s". */
    private String attachedLine(Session session, MetricsServer server, UiServer uiServer, boolean uiShared) {
        int spaces = session.hookedNamespaces();
        return "netwatcher: attached " + String.join(" ", session.running())
                + (timing.sample > 1 ? " (following 1 packet in " + timing.sample + ")" : "")
                + (spaces > 0 ? " (netfilter hooks in " + spaces + (spaces == 1 ? " network namespace)" : " network namespaces)") : "")
                + (server != null ? "; metrics on " + output.scheme() + "://" + (output.metrics.host() == null ? "0.0.0.0" : output.metrics.host()) + ":"
                        + server.port() + "/metrics" : "")
                + (uiServer != null ? "; live view (read-only) on " + output.scheme() + "://" + (uiShared ? (output.metrics.host() == null ? "0.0.0.0" : output.metrics.host())
                        + ":" + server.port() : (output.ui.host() == null ? "127.0.0.1" : output.ui.host()) + ":" + uiServer.port()) + "/" : "")
                + (output.duration > 0 ? " for " + output.duration + " s" : "; Ctrl-C to stop");
    }

    /** The console's legend lines: what the columns of packet, icmp and netfilter lines mean. */
    private List<String> legends() {
        List<String> legends = new ArrayList<>();
        if (watch.time || watch.udp) legends.add(PacketEvent.legend());
        if (watch.icmp) legends.add(IcmpEvent.legend() + "; other ICMP as packet");
        if (watch.netfilter) legends.add(NetfilterEvent.legend());
        return legends;
    }

    /** The probes the options ask for (none: the overview's), after each group checked its options. */
    private List<Probe> selectProbes(PacketProbe.Aggregate aggregate) {
        ParseResult pr = spec.commandLine().getParseResult();
        watch.validate();
        payload.validate(pr);
        output.validate(pr);
        timing.validate(pr, watch);
        List<Probe> probes = new ArrayList<>();
        if (watch.tcpstate) probes.add(Probes.TCP_STATE);
        if (watch.retrans) probes.add(Probes.RETRANS);
        if (watch.drops) {
            DropProbe drops = watch.stack ? Probes.drops(true) : Probes.DROP;
            probes.add(output.write != null ? drops.capturing(output.snaplen) : drops);
        }
        if (watch.err) probes.add(Probes.TCP_ERROR);
        int modes = watch.packetModes();
        if (modes != 0) {
            PacketProbe packets = Probes.packets(modes, aggregate, timing.sample);
            if (timing.udpSendSyscalls) packets = packets.markingSendSyscalls();
            probes.add(output.write != null ? packets.capturing(output.snaplen) : packets);
        } else if (output.write != null && !watch.drops) {
            throw new UsageException("-w writes the packets -t, -u or -I follow and the drops -k reports: add one of them");
        }
        if (watch.netfilter) probes.add(Probes.NETFILTER);
        if (watch.proto) probes.add(Probes.PROTO);
        int conn = (watch.extra ? ConnProbe.EXTRA : 0) | (watch.all ? ConnProbe.ALL : 0) | (watch.rtt ? ConnProbe.RTT : 0);
        if (conn != 0) probes.add(Probes.connections(conn));
        if (payload.modes() != 0) {
            probes.add(Probes.payload(payload.modes(), payload.httpFullPath).mysql(payload.mysqlPort, (long) (payload.mysqlSlowMs * 1e6))
                    .redis(payload.redisPort));
        }
        if (probes.isEmpty()) {
            // the original's default: the connection table, with drops and TCP errors
            overview = true;
            probes.add(Probes.DROP);
            probes.add(Probes.TCP_ERROR);
            probes.add(Probes.connections(ConnProbe.EXTRA));
        }
        if (filters.expression() != null) {
            // the expression is decided by the packet, netfilter, drop and payload programs (bpf/include/nw_pcap_filter.h);
            // the others do not read it
            List<String> others = probes.stream().filter(p -> !(p instanceof PacketProbe || p instanceof dev.netwatcher.probe.NetfilterProbe
                    || p instanceof dev.netwatcher.probe.DropProbe || p instanceof dev.netwatcher.probe.PayloadProbe)).map(Probe::option).toList();
            if (overview || !others.isEmpty()) {
                throw new UsageException("a filter expression applies to -t, -u, -I, -n, -k, -i, --dns, --tls, -M and -R"
                        + (overview ? "; give one of them" : ", not to " + String.join(" ", others)));
            }
        }
        watch.validateConnEvery(pr, overview);
        if (pr.hasMatchedOption("--top") && !overview && !watch.extra && output.ui == null) {
            throw new UsageException("--top bounds connection tables: the overview (no option), -x or --ui");
        }
        return probes;
    }
}
