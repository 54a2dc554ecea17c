package dev.netwatcher.probe;

import dev.netwatcher.bpf.BpfException;
import dev.netwatcher.bpf.BpfMap;
import dev.netwatcher.bpf.BpfObject;
import dev.netwatcher.bpf.Cgroups;
import dev.netwatcher.bpf.NetfilterHook;
import dev.netwatcher.btf.Btf;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Semaphore;

/**
 * Where programs are loaded and attached: the socket-owner object first (its map is shared by the
 * others, and its walk of the host's sockets runs while they load), then every other probe, each
 * loaded by ProbeLoader (what this kernel runs: missing hooks, stand-ins, refused programs) and its
 * programs attached to their tracepoints, cgroup hooks or netfilter hooks in every watched namespace.
 * What a probe loses goes into the StartReport; what started goes into the Attached set.
 */
final class ProbeStarter {
    private final Btf kernel;
    private final Filter filter;
    private final Attached attached;
    private final StartReport report;
    private OwnerSeed seeding;

    /** The part of the report of the probe the current thread starts (see all); else the report itself. */
    private static final ThreadLocal<StartReport> PART = new ThreadLocal<>();

    /**
     * At most one load per CPU at a time: the kernel verifies each object in the bpf() call that
     * loads it, and the packet object alone takes as long as all the others together
     * (bench/startup.sh). More at a time gained no time and cost memory: each load makes libbpf parse
     * the kernel's BTF anew (~10 MB while it loads), and nine at once put netwatcher's peak RSS 70-80 MB
     * above its running RSS (bench/memory.sh).
     */
    private final Semaphore loading = new Semaphore(Math.max(2, Runtime.getRuntime().availableProcessors()));

    ProbeStarter(Btf kernel, Filter filter, Attached attached, StartReport report) {
        this.kernel = kernel;
        this.filter = filter;
        this.attached = attached;
        this.report = report;
    }

    /**
     * Loads owner.bpf.c before every other object, which then reads its socket-storage map
     * (nw_owners), and walks every process's open files and every namespace's TCP and UDP sockets once,
     * so sockets open now have owners (owner.bpf.c). Without it the probes still run: their records
     * name the task they ran in, as before.
     */
    void owners() {
        start(Probes.OWNERS);
        if (attached.owners() != null) seeding = OwnerSeed.start(attached.owners(), filter); // while the others load
    }

    /** Waits for the owners' first walk (owners()); what it could not do is a note. */
    void awaitSeeding() {
        if (seeding == null) return;
        seeding.await().ifPresent(this::note);
        seeding = null;
    }

    /**
     * Starts every probe, each on its own thread, at most one per CPU at a time (see loading), the
     * largest object first. What they report is kept in the probes' order.
     */
    void all(List<Probe> probes) {
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
                    start(p);
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
        attached.order(probes);
        for (Throwable t : failed) {
            if (t instanceof RuntimeException r) throw r;
            if (t instanceof Error e) throw e;
        }
    }

    /** Loads p's object (ProbeLoader), attaches what loaded and registers it; what p loses goes into the start report. */
    private void start(Probe p) {
        BpfMap ownerMap = attached.ownerMap();
        ProbeLoader.Loaded l = new ProbeLoader(kernel, filter, attached.ringMap, ownerMap).load(p, said());
        if (l == null) return;
        BpfObject obj = l.object();
        List<String> wanted = l.programs();
        try {
            for (String prog : wanted) {
                List<NetfilterHook> hooks = p.netfilterHooks(prog);
                if (Attached.SWEEP_SECTION.equals(obj.sectionName(prog))) continue; // not attached (SWEEP_SECTION)
                if (p.cgroupHook(prog)) attachCgroup(p, obj, prog);
                else if (hooks.isEmpty()) {
                    obj.attach(prog);
                    for (String tp : p.moreTracepoints(prog)) obj.attachTracepoint(prog, tp);
                }
                else attached.netfilter.attach(obj, prog, hooks, this::note);
            }
            if (p.witnessed()) { // every program is attached: the witnesses may start counting (nw_hook_hit)
                BpfMap hook = obj.map("nw_hook");
                for (int slot = 0; slot < hook.maxEntries(); slot++) hook.setPerCpuWords(slot, 1, 0, 0, 0);
            }
            if (p instanceof OwnerProbe) attached.owners(obj); // started alone, before the others (owners())
            else attached.add(p, obj, wanted);
        } catch (BpfException e) {
            obj.close();
            note(p.option() + ": " + e.getMessage());
        }
    }

    private ProbeLoader.Said said() {
        StartReport part = PART.get();
        return part != null ? part : report;
    }

    /** A cgroup program at the cgroup root; one the probe can do without costs only its feature when the kernel refuses it. */
    private void attachCgroup(Probe p, BpfObject obj, String prog) {
        try {
            obj.attachCgroup(prog, Cgroups.v2Root());
        } catch (BpfException e) {
            if (p.essential(prog)) throw e;
            note(p.option() + " " + p.describe(prog) + ": " + e.getMessage());
        }
    }

    /** A feature this kernel cannot serve (a line "unavailable:"). */
    private void note(String message) {
        said().unavailable(message);
    }
}
