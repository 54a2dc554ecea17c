package dev.netwatcher.probe;

import dev.netwatcher.bpf.BpfException;
import dev.netwatcher.bpf.BpfMap;
import dev.netwatcher.bpf.BpfObject;
import dev.netwatcher.bpf.ProgramStats;
import dev.netwatcher.bpf.RingBuffer;
import dev.netwatcher.bpf.RingBufferPoller;
import dev.netwatcher.btf.Btf;
import dev.netwatcher.event.Event;
import dev.netwatcher.event.FlowTotal;
import dev.netwatcher.event.RttHistogram;
import dev.netwatcher.kernel.Clock;
import dev.netwatcher.kernel.Kallsyms;
import dev.netwatcher.kernel.KernelNames;
import dev.netwatcher.stats.Health;
import dev.netwatcher.stats.LayerHistogram;
import dev.netwatcher.stats.PacketCount;
import dev.netwatcher.stats.ProtoCount;
import dev.netwatcher.stats.TcpStateCount;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A watch: the probes started in the kernel (ProbeStarter, into an Attached set) and the loop that
 * turns their records into events (run). What is read besides the ring buffer is Readings'.
 * Start-up is all-or-report: a probe whose hooks the kernel lacks is listed in {@link #unavailable()}
 * and the others run. close() detaches everything and is safe to call from a shutdown hook while
 * {@link #run} is still looping.
 */
public final class Session implements AutoCloseable {
    /**
     * runTimeStats: turn on the kernel's per-program run count and time (bpf_stats) while the
     * session is open. ringBytes: size of the ring buffer every probe writes to (a power of 2, at
     * least a page; 0: {@link #DEFAULT_RING_BYTES}).
     */
    public record Config(List<Probe> probes, Filter filter, boolean resolveSymbols, boolean runTimeStats, int ringBytes) {
        public Config(List<Probe> probes, Filter filter, boolean resolveSymbols) {
            this(probes, filter, resolveSymbols, false, 0);
        }
    }

    /**
     * One ring buffer for all probes, each object's "events" map made to use it: all of a ring's
     * pages are mapped into netwatcher at mmap() time (kernel/bpf/ringbuf.c), and libbpf-style
     * readers map the data twice, so seven rings of 4 MiB were 56 MB of RSS before a single
     * record. RingBuffer maps the one ring's data once.
     */
    public static final int DEFAULT_RING_BYTES = 16 << 20;
    /**
     * How long a record may wait in a ring buffer: the BPF side wakes the consumer only when a
     * sixteenth of a ring is waiting (nw_submit() in nw_common.h), so the loop looks this often.
     */
    static final int POLL_MS = 20;
    /**
     * How often run() looks for network namespaces that appeared or went away (NetfilterLinks.rescan):
     * a listing of /run/netns and of /proc, with one readlink() per process (about 0.4 ms
     * with 72 processes on the bench machine).
     */
    static final long RESCAN_NS = 1_000_000_000L;

    private final DecodeContext ctx;
    private final Consumer<Event> listener;
    private final StartReport report = new StartReport();
    private final RingBufferPoller poller = new RingBufferPoller();
    private RingBuffer ring;
    private Attached attached;
    private Readings readings;
    private final CountDownLatch finished = new CountDownLatch(1);
    private volatile boolean stopping;
    private volatile Consumer<String> lateNotes = m -> {};
    private boolean running;
    private boolean closed;
    private long delivered;
    private AutoCloseable runTimeStats;

    private Session(DecodeContext ctx, Consumer<Event> listener) {
        this.ctx = ctx;
        this.listener = listener;
    }

    /** Loads and attaches the probes. Throws BpfException when none of them could start. */
    public static Session open(Config config, Consumer<Event> listener) {
        Btf kernel;
        try {
            kernel = Btf.kernel();
        } catch (IOException e) {
            throw new BpfException("cannot read the kernel's BTF (/sys/kernel/btf/vmlinux): " + e.getMessage()
                    + "; netwatcher needs a kernel built with CONFIG_DEBUG_INFO_BTF=y");
        }
        Kallsyms symbols = null;
        if (config.resolveSymbols()) {
            try {
                symbols = Kallsyms.load();
            } catch (IOException e) {
                throw new BpfException("cannot read /proc/kallsyms: " + e.getMessage());
            }
        }
        Session s = new Session(new DecodeContext(new Clock(), new KernelNames(kernel), symbols), listener);
        try {
            BpfMap ringMap = BpfMap.createRingBuffer("nw_events", config.ringBytes() > 0 ? config.ringBytes() : DEFAULT_RING_BYTES);
            s.attached = new Attached(ringMap, config.filter());
            s.readings = new Readings(s.attached, config.filter());
            s.ring = new RingBuffer(ringMap);
            s.poller.add(s.ring);
            ProbeStarter start = new ProbeStarter(kernel, config.filter(), s.attached, s.report);
            if (config.probes().stream().anyMatch(Probe::needsOwners)) start.owners();
            try {
                start.all(config.probes());
            } finally {
                start.awaitSeeding();
            }
            BpfObject.releaseFreedMemory();

            if (s.attached.loaded().isEmpty()) {
                throw new BpfException("no probe could start: " + String.join("; ", s.report.unavailable()));
            }
            if (config.runTimeStats()) {
                try {
                    s.runTimeStats = ProgramStats.enableRunTime();
                } catch (BpfException e) {
                    s.report.unavailable("--bpf-stats: " + e.getMessage());
                }
            }
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
        return s;
    }

    /** Network namespaces whose netfilter hooks carry our programs (0 when no probe needs them). */
    public int hookedNamespaces() {
        return attached.netfilter.namespaceCount();
    }

    public int netfilterLinks() {
        return attached.netfilter.links();
    }

    /** Kernel-side counters of the loaded probes (see Probe.counters()), summed over CPUs. */
    public Map<String, Long> counters() {
        return readings.counters();
    }

    /** Packets and bytes per flow so far (-t/-u). */
    public List<FlowTotal> flowTotals() {
        return readings.read(PacketProbe.class, PacketProbe::flowTotals);
    }

    /** --metrics: the kernel's per-layer latency histograms (empty without a packet probe). */
    public List<LayerHistogram> packetHistograms() {
        return readings.read(PacketProbe.class, PacketProbe::histograms);
    }

    /** --metrics: packets and bytes per direction and protocol, counted in the kernel (empty without a packet probe). */
    public List<PacketCount> packetCounts() {
        return readings.read(PacketProbe.class, PacketProbe::counts);
    }

    /** -p: packets and bytes per protocol since start (empty without -p). */
    public List<ProtoCount> protoCounts() {
        return readings.read(ProtoProbe.class, ProtoProbe::totals);
    }

    /** --rtt: RTT samples per remote address (empty without --rtt). */
    public List<RttHistogram> rttHistograms() {
        return readings.read(ConnProbe.class, ConnProbe::rttHistograms);
    }

    /**
     * Runs every iterator program once in each watched network namespace and delivers its records
     * like ring buffer records (Readings.readIterators). Call it from the thread that runs {@link #run}.
     * Returns the number of namespaces that could not be entered.
     */
    public int readIterators() {
        return readings.readIterators(this::onRecord, ctx.clock());
    }

    /** TCP sockets per state in the last round of walks (readIterators), empty before the first. */
    public List<TcpStateCount> connectionStates() {
        return readings.connectionStates();
    }

    /** Delivers what the probes' decoders have due by now (see Probe.expire). Call it from the thread that runs {@link #run}. */
    public void expire(long nowEpochNs) {
        for (Attached.Loaded l : attached.loaded()) {
            for (Event e : l.probe().expire(nowEpochNs)) {
                listener.accept(e);
                delivered++;
            }
        }
    }

    /** Runs the kernel skipped because a program was already running on that CPU, summed over programs. */
    public long recursionMisses() {
        return readings.recursionMisses();
    }

    /** Events delivered and lost, probe counters and per-program stats, as plain numbers. */
    public Health health() {
        return readings.health(delivered);
    }

    /** The pid socket storage names as the owner of one of this process's sockets (Readings.ownerPidOfFd). For tests. */
    Optional<Integer> ownerPidOfFd(int fd) {
        return readings.ownerPidOfFd(fd);
    }

    /** One line per feature the kernel could not serve: the user gets nothing from it. */
    public List<String> unavailable() {
        return report.unavailable();
    }

    /** One line per limit of a feature that works. */
    public List<String> notes() {
        return report.notes();
    }

    /** One line per stand-in program loaded where the kernel lacks a hook (Fallbacks). */
    public List<String> fallbacks() {
        return report.fallbacks();
    }

    /** The options whose probes run, e.g. [-S, -k]. */
    public List<String> running() {
        return attached.running();
    }

    /** Where run() says what it could not hook later (a new namespace netwatcher may not enter). */
    public void onLateNote(Consumer<String> notes) {
        lateNotes = notes;
    }

    /**
     * Delivers events until stop() or until {@code durationNanos} (0 = no limit) has
     * passed, then drains what the kernel already produced. afterBatch runs after
     * each round of polling, at least every POLL_MS (sinks flush and periodic
     * reports run there). Exceptions from the
     * listener end the loop and propagate.
     */
    public void run(long durationNanos, Runnable afterBatch) {
        synchronized (this) {
            if (closed) return;
            running = true;
        }
        long deadline = durationNanos > 0 ? System.nanoTime() + durationNanos : Long.MAX_VALUE;
        long nextScan = System.nanoTime() + RESCAN_NS;
        try {
            while (!stopping) {
                long now = System.nanoTime(), left = deadline - now;
                if (left <= 0) break;
                if (now >= nextScan) {
                    attached.netfilter.rescan(lateNotes);
                    nextScan = now + RESCAN_NS;
                }
                poller.poll((int) Math.min(POLL_MS, Math.max(1, TimeUnit.NANOSECONDS.toMillis(left))), this::onRecord);
                afterBatch.run();
            }
            poller.drain(this::onRecord);
            afterBatch.run();
        } finally {
            finished.countDown();
        }
    }

    private void onRecord(ByteBuffer b, int off, int len) {
        if (len < Records.MIN_SIZE) return;
        Probe p = attached.probeOf(Records.type(b, off));
        if (p == null) return;
        for (Event e = p.decode(b, off, len, ctx); e != null; e = p.more()) {
            listener.accept(e);
            delivered++;
        }
    }

    /** Asks run() to return; safe from any thread. */
    public void stop() {
        stopping = true;
    }

    /** Waits until run() has returned (if it was started). */
    public boolean awaitStopped(long timeoutMs) throws InterruptedException {
        synchronized (this) {
            if (!running) return true;
        }
        return finished.await(timeoutMs, TimeUnit.MILLISECONDS);
    }

    public long delivered() {
        return delivered;
    }

    /** Records the kernel side could not put in a ring buffer (full), summed over probes and CPUs. */
    public long lost() {
        return readings.lost();
    }

    /** Hook hits the kernel did not run a probe for (Readings.missed). */
    public long missed() {
        return readings.missed();
    }

    /**
     * Detaches one attached program and leaves the rest running. Tests use it to stand
     * in for a kernel that stops running a probe (its witness then counts missed hits).
     */
    public void detachProgram(String program) {
        attached.detachProgram(program);
    }

    /** True when some loaded probe has a witness, i.e. missed() means something. */
    public boolean countsMissed() {
        return readings.countsMissed();
    }

    /** Detaches every program and frees every map. Idempotent; call after run() has returned. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        if (readings != null) readings.keepFinalCounts();
        RuntimeException first = null;
        try {
            poller.close();
        } catch (RuntimeException e) {
            first = e;
        }
        if (ring != null) {
            try {
                ring.close();
            } catch (RuntimeException e) {
                first = e;
            }
        }
        if (attached != null) {
            try {
                attached.close();
            } catch (RuntimeException e) {
                if (first == null) first = e;
            }
        }
        if (runTimeStats != null) {
            try {
                runTimeStats.close();
            } catch (Exception e) {
                if (first == null) first = new RuntimeException(e);
            }
        }
        if (first != null) throw first;
    }
}
