package dev.netwatcher.cli;

import dev.netwatcher.cli.Converters.DurationConverter;
import dev.netwatcher.cli.Converters.MicrosConverter;
import dev.netwatcher.cli.Converters.PositiveConverter;
import dev.netwatcher.cli.Converters.SampleConverter;

import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;

/** Packet timing's settings: -L's thresholds and period, the flow totals' period, --sample. */
final class TimingOptions {
    @Option(names = "--interval", paramLabel = "SECONDS", converter = DurationConverter.class, defaultValue = "1",
            description = "Time-load table period with -L (default: ${DEFAULT-VALUE}).")
    double interval = 1; // the same as defaultValue: picocli leaves an unmatched group as initialised
    @Option(names = "--totals-every", paramLabel = "SECONDS", converter = DurationConverter.class, defaultValue = "10",
            description = "Flow totals period with -t/-u (default: ${DEFAULT-VALUE}; also printed at exit).")
    double totalsEvery = 10; // the same as defaultValue: picocli leaves an unmatched group as initialised
    @Option(names = "--anomaly-factor", paramLabel = "X", converter = PositiveConverter.class, defaultValue = "3",
            description = "-L: abnormal only above X times the baseline mean (default: ${DEFAULT-VALUE}).")
    double anomalyFactor = 3; // the same as defaultValue: picocli leaves an unmatched group as initialised
    @Option(names = "--anomaly-sigmas", paramLabel = "K", converter = PositiveConverter.class, defaultValue = "6",
            description = "-L: abnormal only above mean + K standard deviations (default: ${DEFAULT-VALUE}).")
    double anomalySigmas = 6; // the same as defaultValue: picocli leaves an unmatched group as initialised
    @Option(names = "--anomaly-floor-us", paramLabel = "US", converter = MicrosConverter.class, defaultValue = "10",
            description = "-L: never abnormal below this many µs (default: ${DEFAULT-VALUE}).")
    double anomalyFloorUs = 10; // the same as defaultValue: picocli leaves an unmatched group as initialised
    @Option(names = "--anomaly-warmup", paramLabel = "N", converter = PositiveConverter.class, defaultValue = "50",
            description = "-L: samples a baseline needs before it judges (default: ${DEFAULT-VALUE}).")
    double anomalyWarmup = 50; // the same as defaultValue: picocli leaves an unmatched group as initialised
    @Option(names = "--latency-threshold-us", paramLabel = "US", converter = MicrosConverter.class,
            description = "-L: also flag any layer time above this fixed threshold.")
    double thresholdUs;
    @Option(names = "--sample", paramLabel = "N", converter = SampleConverter.class, defaultValue = "1",
            description = "With -t/-u/-I: follow 1 packet in N (default: every packet). The choice is made once per "
                    + "packet from bytes it carries, so all its layers are timed; packet records are real packets, "
                    + "while flow totals, packet counts and kernel histograms count each sampled packet N times.")
    int sample = 1; // the same as defaultValue: picocli leaves an unmatched group as initialised
    @Option(names = "--udp-send-syscalls",
            description = "With -u: time every UDP send from its send system call (sendto, sendmsg, sendmmsg tracepoints). "
                    + "Only needed on kernels without fentry, where datagrams of connected sockets have no transport time "
                    + "otherwise; while it runs, every system call of every process takes the kernel's slower entry (dd bs=1: 1.2x).")
    boolean udpSendSyscalls;

    /** These settings belong to options of the watch group. */
    void validate(ParseResult pr, WatchOptions w) {
        if (sample > 1 && w.packetModes() == 0) throw new UsageException("--sample belongs to -t, -u and -I: add one of them");
        if (udpSendSyscalls && !w.udp) throw new UsageException("--udp-send-syscalls belongs to -u: add it");
        for (String o : new String[] {"--interval", "--anomaly-factor", "--anomaly-sigmas", "--anomaly-floor-us",
                "--anomaly-warmup", "--latency-threshold-us"}) {
            if (pr.hasMatchedOption(o) && !w.timeload && !(w.proto && o.equals("--interval")))
                throw new UsageException(o + " belongs to -L (--timeload)" + (o.equals("--interval") ? " or -p (--proto)" : "") + ": add it");
        }
        if (pr.hasMatchedOption("--totals-every") && !w.time && !w.udp)
            throw new UsageException("--totals-every belongs to -t/-u: add one of them");
    }
}
