package dev.netwatcher.probe;

import dev.netwatcher.bpf.BpfException;
import dev.netwatcher.bpf.BpfLink;
import dev.netwatcher.bpf.BpfMap;
import dev.netwatcher.bpf.BpfObject;
import dev.netwatcher.bpf.Cgroups;
import dev.netwatcher.bpf.NetNamespaces;
import dev.netwatcher.bpf.NetfilterHook;
import dev.netwatcher.bpf.ProgramStats;
import dev.netwatcher.bpf.RingBuffer;
import dev.netwatcher.bpf.RingBufferPoller;
import dev.netwatcher.btf.Btf;
import dev.netwatcher.event.Event;
import dev.netwatcher.event.Flow;
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
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Consumer;

/**
 * Probes loaded and attached in the kernel, and the loop that turns their records
 * into events. Start-up is all-or-report: a probe whose hooks the kernel lacks is
 * listed in {@link #unavailable()} and the others run. close() detaches everything
 * and is safe to call from a shutdown hook while {@link #run} is still looping.
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

    private record Loaded(Probe probe, BpfObject object) {}

    /**
     * One ring buffer for all probes, each object's "events" map made to use it: all of a ring's
     * pages are mapped into netwatcher at mmap() time (kernel/bpf/ringbuf.c), and libbpf-style
     * readers map the data twice, so seven rings of 4 MiB were 56 MB of RSS before a single
     * record. RingBuffer maps the one ring's data once.
     */
    public static final int DEFAULT_RING_BYTES = 16 << 20;
    private BpfMap ringMap;
    private RingBuffer ring;

    private final List<Loaded> loaded = new ArrayList<>();
    /** owner.bpf.c and the socket-owner map every object shares (startOwners); null when it could not start. */
    private BpfObject owners;
    private BpfMap ownerMap;
    private final StartReport report = new StartReport();
    /**
     * How long a record may wait in a ring buffer: the BPF side wakes the consumer only when a
     * sixteenth of a ring is waiting (nw_submit() in nw_common.h), so the loop looks this often.
     */
    static final int POLL_MS = 20;
    private final RingBufferPoller poller = new RingBufferPoller();
    private final Probe[] byType = new Probe[16];
    private Filter filter = Filter.NONE;
    private NetfilterLinks netfilter = new NetfilterLinks(Filter.NONE);
    private final DecodeContext ctx;
    private final Consumer<Event> listener;
    private final CountDownLatch finished = new CountDownLatch(1);
    private volatile boolean stopping;
    private boolean running;
    private boolean closed;
    private long delivered;
    private long lostAtClose;
    private long missedAtClose;
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
        s.filter = config.filter();
        s.netfilter = new NetfilterLinks(config.filter());
        try {
            s.ringMap = BpfMap.createRingBuffer("nw_events", config.ringBytes() > 0 ? config.ringBytes() : DEFAULT_RING_BYTES);
            s.ring = new RingBuffer(s.ringMap);
            s.poller.add(s.ring);
            if (config.probes().stream().anyMatch(Probe::needsOwners)) s.startOwners(kernel, config.filter());
            s.startAll(config.probes(), kernel, config.filter());
            s.awaitSeeding();
            BpfObject.releaseFreedMemory();

            if (s.loaded.isEmpty()) {
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

    /**
     * Loads owner.bpf.c before every other object, which then reads its socket-storage map
     * (nw_owners), and walks every process's open files and every namespace's TCP and UDP sockets once, so
     * sockets open now have owners (owner.bpf.c).
     * Without it the probes still run: their records name the task they ran in, as before.
     */
    private void startOwners(Btf kernel, Filter filter) {
        start(Probes.OWNERS, kernel, filter);
        if (owners != null) seeding = OwnerSeed.start(owners, filter); // while the other objects load; open() waits
    }

    private OwnerSeed seeding;

    private void awaitSeeding() {
        if (seeding == null) return;
        seeding.await().ifPresent(this::note);
        seeding = null;
    }

    /** The part of the report of the probe the current thread starts (see startAll); else the report itself. */
    private static final ThreadLocal<StartReport> PART = new ThreadLocal<>();

    private ProbeLoader.Said said() {
        StartReport part = PART.get();
        return part != null ? part : report;
    }

    /** A feature this kernel cannot serve (a line "unavailable:"). */
    private void note(String message) {
        said().unavailable(message);
    }

    /**
     * Starts every probe, each on its own thread, at most one per CPU at a time: the kernel
     * verifies each object in the bpf() call that loads it, and the packet object alone takes as
     * long as all the others together (bench/startup.sh). More at a time gained no time and cost
     * memory: each load makes libbpf parse the kernel's BTF anew (~10 MB while it loads), and nine
     * at once put netwatcher's peak RSS 70-80 MB above its running RSS (bench/memory.sh). What
     * they report is kept in the probes' order.
     */
    private final java.util.concurrent.Semaphore loading = new java.util.concurrent.Semaphore(
            Math.max(2, Runtime.getRuntime().availableProcessors()));

    private void startAll(List<Probe> probes, Btf kernel, Filter filter) {
        kernel.hasFunction("tcp_v4_rcv"); // builds the name index before the threads share it
        List<StartReport> parts = new ArrayList<>();
        Throwable[] failed = new Throwable[probes.size()];
        List<Thread> threads = new ArrayList<>();
        // the largest object first (the packet object): it is the longest load, the others fill the other CPUs
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < probes.size(); i++) order.add(i);
        long[] size = new long[probes.size()];
        for (int i = 0; i < size.length; i++) size[i] = ProbeLoader.objectSize(probes.get(i));
        order.sort(Comparator.comparingLong((Integer i) -> size[i]).reversed());
        for (int i = 0; i < probes.size(); i++) parts.add(new StartReport());
        for (int i : order) {
            Probe p = probes.get(i);
            StartReport mine = parts.get(i);
            int at = i;
            loading.acquireUninterruptibly(); // taken here, in this order; the loading thread gives it back
            threads.add(Thread.ofPlatform().name("netwatcher-load-" + p.name()).start(() -> {
                PART.set(mine);
                try {
                    start(p, kernel, filter);
                } catch (Throwable t) {
                    failed[at] = t;
                } finally {
                    loading.release();
                    PART.remove();
                }
            }));
        }
        Joins.all(threads);
        for (StartReport part : parts) report.add(part);
        synchronized (this) {
            loaded.sort(Comparator.comparingInt(l -> probes.indexOf(l.probe())));
        }
        for (Throwable t : failed) {
            if (t instanceof RuntimeException r) throw r;
            if (t instanceof Error e) throw e;
        }
    }

    /** Loads p's object (ProbeLoader), attaches what loaded and registers it; what p loses goes into the start report (said()). */
    private void start(Probe p, Btf kernel, Filter filter) {
        ProbeLoader.Loaded l = new ProbeLoader(kernel, filter, ringMap, ownerMap).load(p, said());
        if (l == null) return;
        BpfObject obj = l.object();
        List<String> wanted = l.programs();
        try {
            for (String prog : wanted) {
                List<NetfilterHook> hooks = p.netfilterHooks(prog);
                if (SWEEP_SECTION.equals(obj.sectionName(prog))) continue; // not attached (SWEEP_SECTION)
                if (p.cgroupHook(prog)) obj.attachCgroup(prog, Cgroups.v2Root());
                else if (hooks.isEmpty()) {
                    obj.attach(prog);
                    for (String tp : p.moreTracepoints(prog)) obj.attachTracepoint(prog, tp);
                }
                else netfilter.attach(obj, prog, hooks, this::note);
            }
            if (p.witnessed()) { // every program is attached: the witnesses may start counting (nw_hook_hit)
                BpfMap hook = obj.map("nw_hook");
                for (int slot = 0; slot < hook.maxEntries(); slot++) hook.setPerCpuWords(slot, 1, 0, 0, 0);
            }
            if (p instanceof OwnerProbe) { // started alone, before the others (startOwners)
                owners = obj;
                ownerMap = obj.map(OwnerProbe.MAP);
                return;
            }
            synchronized (this) {
                loaded.add(new Loaded(p, obj));
                for (int t : p.eventTypes()) byType[t] = p;
                for (String prog : wanted) {
                    if (SWEEP_SECTION.equals(obj.sectionName(prog))) sweepers.add(Map.entry(obj, prog));
                }
            }
        } catch (BpfException e) {
            obj.close();
            note(p.option() + ": " + e.getMessage());
        }
    }

    /** Network namespaces whose netfilter hooks carry our programs (0 when no probe needs them). */
    public int hookedNamespaces() {
        return netfilter.namespaceCount();
    }

    public int netfilterLinks() {
        return netfilter.links();
    }

    /**
     * A program in a bare SEC("raw_tp") is not attached anywhere: it settles per-CPU state (the
     * packet probe's nw_pkt_sweep counts send-path slots left behind) and runs on every CPU,
     * through BPF_PROG_TEST_RUN, each time the counters are read.
     */
    static final String SWEEP_SECTION = "raw_tp";
    private final List<Map.Entry<BpfObject, String>> sweepers = new ArrayList<>();

    /** Kernel-side counters of the loaded probes (see Probe.counters()), summed over CPUs. */
    public synchronized Map<String, Long> counters() {
        Map<String, Long> out = new LinkedHashMap<>();
        if (closed) return out;
        for (Map.Entry<BpfObject, String> s : sweepers) s.getKey().runOnEachCpu(s.getValue());
        for (Loaded l : loaded) {
            for (Map.Entry<String, Integer> c : l.probe().counters().entrySet()) {
                out.merge(c.getKey(), l.object().map(l.probe().counterMap()).sumPerCpu(c.getValue()), Long::sum);
            }
            for (Map.Entry<String, Long> c : l.probe().decoderCounters().entrySet()) {
                if (c.getValue() > 0) out.merge(c.getKey(), c.getValue(), Long::sum);
            }
        }
        return out;
    }

    /** What read returns for each loaded probe of this kind, concatenated (nothing after close). */
    private synchronized <P extends Probe, R> List<R> read(Class<P> kind, BiFunction<P, BpfObject, List<R>> read) {
        List<R> out = new ArrayList<>();
        if (closed) return out;
        for (Loaded l : loaded) {
            if (kind.isInstance(l.probe())) out.addAll(read.apply(kind.cast(l.probe()), l.object()));
        }
        return out;
    }

    /** Packets and bytes per flow so far (-t/-u). */
    public List<FlowTotal> flowTotals() {
        return read(PacketProbe.class, PacketProbe::flowTotals);
    }

    /** --metrics: the kernel's per-layer latency histograms (empty without a packet probe). */
    public List<LayerHistogram> packetHistograms() {
        return read(PacketProbe.class, PacketProbe::histograms);
    }

    /** --metrics: packets and bytes per direction and protocol, counted in the kernel (empty without a packet probe). */
    public List<PacketCount> packetCounts() {
        return read(PacketProbe.class, PacketProbe::counts);
    }

    /** -p: packets and bytes per protocol since start (empty without -p). */
    public List<ProtoCount> protoCounts() {
        return read(ProtoProbe.class, ProtoProbe::totals);
    }

    /** --rtt: RTT samples per remote address (empty without --rtt). */
    public List<RttHistogram> rttHistograms() {
        return read(ConnProbe.class, ConnProbe::rttHistograms);
    }

    /**
     * Runs every iterator program (iter/...) once in each watched network namespace
     * (all of them now, or the one --netns names) and delivers its records like ring
     * buffer records. Call it from the thread that runs {@link #run}. Returns the
     * number of namespaces that could not be entered.
     */
    public synchronized int readIterators() {
        if (closed) return 0;
        List<NetNamespaces.Namespace> spaces = null;
        int failed = 0;
        for (Loaded l : loaded) {
            for (String prog : l.object().programNames()) {
                String section = l.object().sectionName(prog);
                if (section == null || !section.startsWith("iter/")) continue;
                Optional<BpfLink> link = l.object().link(prog);
                if (link.isEmpty()) continue;
                if (spaces == null) {
                    spaces = NetNamespaces.discover();
                    if (filter.netns() != 0) spaces = spaces.stream().filter(n -> n.inode() == filter.netns()).toList();
                }
                int size = l.probe().recordSize();
                l.probe().walksStart();
                for (NetNamespaces.Namespace ns : spaces) {
                    l.probe().walkStart(ns.inode(), ctx.clock().nowEpochNs());
                    byte[] out;
                    try {
                        out = NetNamespaces.inNamespace(ns.path(), () -> link.get().readIterator());
                    } catch (BpfException e) {
                        failed++; // the namespace went away, or setns() is not allowed
                        continue;
                    }
                    ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
                    for (int off = 0; off + size <= out.length; off += size) onRecord(b, off, size);
                }
            }
        }
        if (spaces != null) connectionStates = read(ConnProbe.class, ConnProbe::takeStates);
        return failed;
    }

    private volatile List<TcpStateCount> connectionStates = List.of();

    /** TCP sockets per state in the last round of walks (readIterators), empty before the first. */
    public List<TcpStateCount> connectionStates() {
        return connectionStates;
    }

    /** Delivers what the probes' decoders have due by now (see Probe.expire). Call it from the thread that runs {@link #run}. */
    public void expire(long nowEpochNs) {
        for (Loaded l : loaded) {
            for (Event e : l.probe().expire(nowEpochNs)) {
                listener.accept(e);
                delivered++;
            }
        }
    }

    /** Runs the kernel skipped because a program was already running on that CPU, summed over programs. */
    public synchronized long recursionMisses() {
        long n = 0;
        if (closed) return 0;
        for (Loaded l : loaded) {
            for (ProgramStats p : l.object().programStats()) n += p.recursionMisses();
        }
        return n;
    }

    /** Events delivered and lost, probe counters and per-program stats, as plain numbers. */
    public synchronized Health health() {
        List<Health.ProgramRun> runs = new ArrayList<>();
        if (!closed) {
            List<BpfObject> objects = new ArrayList<>(loaded.stream().map(Loaded::object).toList());
            if (owners != null) objects.add(owners);
            for (BpfObject o : objects) {
                for (ProgramStats p : o.programStats()) {
                    runs.add(new Health.ProgramRun(p.program(), p.runCount(), p.runTimeNs(),
                            p.recursionMisses()));
                }
            }
        }
        return new Health(delivered, lost(), missed(), counters(), runs);
    }

    /**
     * The pid socket storage names as the owner of one of this process's sockets (its fd), 0 when
     * none: a socket-storage map is looked up from user space by a socket fd of the caller
     * (bpf_fd_sk_storage_lookup_elem()). Empty without socket owners. For tests.
     */
    synchronized Optional<Integer> ownerPidOfFd(int fd) {
        if (owners == null || closed) return Optional.empty();
        byte[] key = java.nio.ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(fd).array();
        return Optional.of(owners.map(OwnerProbe.MAP).lookup(key).map(b -> b.getInt(0)).orElse(0));
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
        return loaded.stream().map(l -> l.probe().option()).toList();
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
                    netfilter.rescan(lateNotes);
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

    /**
     * How often run() looks for network namespaces that appeared or went away (NetfilterLinks.rescan):
     * a listing of /run/netns and of /proc, with one readlink() per process (about 0.4 ms
     * with 72 processes on the bench machine).
     */
    static final long RESCAN_NS = 1_000_000_000L;
    private volatile Consumer<String> lateNotes = m -> {};

    /** Where run() says what it could not hook later (a new namespace netwatcher may not enter). */
    public void onLateNote(Consumer<String> notes) {
        lateNotes = notes;
    }

    private void onRecord(ByteBuffer b, int off, int len) {
        if (len < Records.MIN_SIZE) return;
        int type = Records.type(b, off);
        Probe p = type > 0 && type < byType.length ? byType[type] : null;
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
    public synchronized long lost() {
        return closed ? lostAtClose : countLost();
    }

    /**
     * Hook hits the kernel did not run a probe for, summed over probes with a witness
     * program (Probe.witnessed(); nw_hook_hit() in nw_common.h). Not the same as lost:
     * a lost record was made and found no room; a missed hit never reached the probe.
     */
    public synchronized long missed() {
        return closed ? missedAtClose : countMissed();
    }

    /**
     * Detaches one attached program and leaves the rest running. Tests use it to stand
     * in for a kernel that stops running a probe (its witness then counts missed hits).
     */
    public synchronized void detachProgram(String program) {
        for (Loaded l : loaded) l.object().link(program).ifPresent(BpfLink::close);
    }

    /** True when some loaded probe has a witness, i.e. missed() means something. */
    public synchronized boolean countsMissed() {
        for (Loaded l : loaded) if (l.probe().witnessed()) return true;
        return false;
    }

    private long countMissed() {
        long sum = 0;
        for (Loaded l : loaded) {
            if (!l.probe().witnessed()) continue;
            BpfMap hook = l.object().map("nw_hook");
            for (int slot = 0; slot < hook.maxEntries(); slot++) {
                long[] a = hook.sumPerCpuWords(slot); // struct nw_hook_acct: armed, hits, runs, pending
                sum += Math.max(0, a[1] - a[2]);
            }
        }
        return sum;
    }

    private long countLost() {
        long sum = 0;
        for (Loaded l : loaded) sum += l.object().map("nw_lost").sumPerCpu(0);
        return sum;
    }

    /** Detaches every program and frees every map. Idempotent; call after run() has returned. */
    @Override
    public synchronized void close() {
        if (closed) return;
        awaitSeeding();
        netfilter.close();
        try {
            lostAtClose = countLost();
            missedAtClose = countMissed();
        } catch (RuntimeException ignored) {
            // counting is best effort at close
        } finally {
            closed = true;
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
            for (int i = loaded.size() - 1; i >= 0; i--) {
                try {
                    loaded.get(i).object().close();
                } catch (RuntimeException e) {
                    if (first == null) first = e;
                }
            }
            if (owners != null) {
                try {
                    owners.close();
                } catch (RuntimeException e) {
                    if (first == null) first = e;
                }
            }
            if (ringMap != null) ringMap.close();
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
}
