package dev.netwatcher.probe;

import dev.netwatcher.bpf.Buffers;
import dev.netwatcher.bpf.BpfException;
import dev.netwatcher.bpf.BpfLink;
import dev.netwatcher.bpf.BpfMap;
import dev.netwatcher.bpf.BpfObject;
import dev.netwatcher.bpf.NetNamespaces;
import dev.netwatcher.bpf.ProgramStats;
import dev.netwatcher.bpf.RecordHandler;
import dev.netwatcher.kernel.Clock;
import dev.netwatcher.stats.Health;
import dev.netwatcher.stats.TcpStateCount;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;

/**
 * What netwatcher reads from the kernel besides the ring buffer: the probes' maps (flow totals,
 * histograms, counts), their iterators (socket walks, in each watched namespace), their counters,
 * records lost and hook hits missed, per-program run statistics. Every read holds the Attached set's
 * lock, so nothing is read from an object while it is freed, and reads nothing once it is closed.
 */
final class Readings {
    private final Attached attached;
    private final Filter filter;
    private volatile List<TcpStateCount> connectionStates = List.of();
    private long lostAtClose, missedAtClose;

    Readings(Attached attached, Filter filter) {
        this.attached = attached;
        this.filter = filter;
    }

    /** Kernel-side counters of the loaded probes (see Probe.counters()), summed over CPUs. */
    Map<String, Long> counters() {
        synchronized (attached) {
            Map<String, Long> out = new LinkedHashMap<>();
            for (Map.Entry<BpfObject, String> s : attached.sweepers()) s.getKey().runOnEachCpu(s.getValue());
            for (Attached.Loaded l : attached.loaded()) {
                for (Map.Entry<String, Integer> c : l.probe().counters().entrySet()) {
                    out.merge(c.getKey(), l.object().map(l.probe().counterMap()).sumPerCpu(c.getValue()), Long::sum);
                }
                for (Map.Entry<String, Long> c : l.probe().decoderCounters().entrySet()) {
                    if (c.getValue() > 0) out.merge(c.getKey(), c.getValue(), Long::sum);
                }
            }
            return out;
        }
    }

    /** What read returns for each loaded probe of this kind, concatenated (nothing after close). */
    <P extends Probe, R> List<R> read(Class<P> kind, BiFunction<P, BpfObject, List<R>> read) {
        synchronized (attached) {
            List<R> out = new ArrayList<>();
            for (Attached.Loaded l : attached.loaded()) {
                if (kind.isInstance(l.probe())) out.addAll(read.apply(kind.cast(l.probe()), l.object()));
            }
            return out;
        }
    }

    /**
     * Runs every iterator program (iter/...) once in each watched network namespace (all of them now,
     * or the one --netns names) and hands its records to records, as ring buffer records are. Returns
     * the number of namespaces that could not be entered.
     */
    int readIterators(RecordHandler records, Clock clock) {
        synchronized (attached) {
            List<NetNamespaces.Namespace> spaces = null;
            int failed = 0;
            for (Attached.Loaded l : attached.loaded()) {
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
                        l.probe().walkStart(ns.inode(), clock.nowEpochNs());
                        byte[] out;
                        try {
                            out = NetNamespaces.inNamespace(ns.path(), () -> link.get().readIterator());
                        } catch (BpfException e) {
                            failed++; // the namespace went away, or setns() is not allowed
                            continue;
                        }
                        ByteBuffer b = Buffers.direct(out);
                        for (int off = 0; off + size <= out.length; off += size) records.onRecord(b, off, size);
                    }
                }
            }
            if (spaces != null) connectionStates = read(ConnProbe.class, ConnProbe::takeStates);
            return failed;
        }
    }

    /** TCP sockets per state in the last round of walks (readIterators), empty before the first. */
    List<TcpStateCount> connectionStates() {
        return connectionStates;
    }

    /** Runs the kernel skipped because a program was already running on that CPU, summed over programs. */
    long recursionMisses() {
        synchronized (attached) {
            long n = 0;
            for (Attached.Loaded l : attached.loaded()) {
                for (ProgramStats p : l.object().programStats()) n += p.recursionMisses();
            }
            return n;
        }
    }

    /** Events delivered (by the run loop) and lost, probe counters and per-program stats, as plain numbers. */
    Health health(long delivered) {
        synchronized (attached) {
            List<Health.ProgramRun> runs = new ArrayList<>();
            if (!attached.closed()) {
                List<BpfObject> objects = new ArrayList<>(attached.loaded().stream().map(Attached.Loaded::object).toList());
                if (attached.owners() != null) objects.add(attached.owners());
                for (BpfObject o : objects) {
                    for (ProgramStats p : o.programStats()) {
                        runs.add(new Health.ProgramRun(p.program(), p.runCount(), p.runTimeNs(), p.recursionMisses()));
                    }
                }
            }
            return new Health(delivered, lost(), missed(), counters(), runs);
        }
    }

    /**
     * The pid socket storage names as the owner of one of this process's sockets (its fd), 0 when
     * none: a socket-storage map is looked up from user space by a socket fd of the caller
     * (bpf_fd_sk_storage_lookup_elem()). Empty without socket owners. For tests.
     */
    Optional<Integer> ownerPidOfFd(int fd) {
        synchronized (attached) {
            if (attached.owners() == null || attached.closed()) return Optional.empty();
            byte[] key = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(fd).array();
            return Optional.of(attached.owners().map(OwnerProbe.MAP).lookup(key).map(b -> b.getInt(0)).orElse(0));
        }
    }

    /** Records the kernel side could not put in a ring buffer (full), summed over probes and CPUs. */
    long lost() {
        synchronized (attached) {
            if (attached.closed()) return lostAtClose;
            long sum = 0;
            for (Attached.Loaded l : attached.loaded()) sum += l.object().map("nw_lost").sumPerCpu(0);
            return sum;
        }
    }

    /**
     * Hook hits the kernel did not run a probe for, summed over probes with a witness
     * program (Probe.witnessed(); nw_hook_hit() in nw_common.h). Not the same as lost:
     * a lost record was made and found no room; a missed hit never reached the probe.
     */
    long missed() {
        synchronized (attached) {
            if (attached.closed()) return missedAtClose;
            long sum = 0;
            for (Attached.Loaded l : attached.loaded()) {
                if (!l.probe().witnessed()) continue;
                BpfMap hook = l.object().map("nw_hook");
                for (int slot = 0; slot < hook.maxEntries(); slot++) {
                    long[] a = hook.sumPerCpuWords(slot); // struct nw_hook_acct: armed, hits, runs, pending
                    sum += Math.max(0, a[1] - a[2]);
                }
            }
            return sum;
        }
    }

    /** True when some loaded probe has a witness, i.e. missed() means something. */
    boolean countsMissed() {
        for (Attached.Loaded l : attached.loaded()) if (l.probe().witnessed()) return true;
        return false;
    }

    /** Keeps lost and missed as they are now, for after the objects are gone (call before Attached.close). */
    void keepFinalCounts() {
        synchronized (attached) {
            try {
                lostAtClose = lost();
                missedAtClose = missed();
            } catch (RuntimeException ignored) {
                // counting is best effort at close
            }
        }
    }
}
