package dev.netwatcher.probe;

import dev.netwatcher.bpf.BpfLink;
import dev.netwatcher.bpf.BpfMap;
import dev.netwatcher.bpf.BpfObject;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * What netwatcher has in the kernel: each started probe with its object (programs, maps, links), the
 * socket-owner object every other one reads, the ring map they all write to, the netfilter links of
 * every watched namespace; and taking all of it out again (close, in reverse order). Probes are added
 * from the loading threads (ProbeStarter); readers (Readings) and close() hold this object's lock, so
 * no map is read while its object is freed.
 */
final class Attached {
    /** A probe and the object it loaded. */
    record Loaded(Probe probe, BpfObject object) {}

    /**
     * A program in a bare SEC("raw_tp") is not attached anywhere: it settles per-CPU state (the
     * packet probe's nw_pkt_sweep counts send-path slots left behind) and runs on every CPU,
     * through BPF_PROG_TEST_RUN, each time the counters are read (Readings.counters).
     */
    static final String SWEEP_SECTION = "raw_tp";

    final BpfMap ringMap;
    final NetfilterLinks netfilter;
    private final List<Loaded> loaded = new ArrayList<>();
    private final Probe[] byType = new Probe[16];
    private final List<Map.Entry<BpfObject, String>> sweepers = new ArrayList<>();
    private BpfObject owners;
    private BpfMap ownerMap;
    private boolean closed;

    Attached(BpfMap ringMap, Filter filter) {
        this.ringMap = ringMap;
        this.netfilter = new NetfilterLinks(filter);
    }

    /** The socket-owner object (owner.bpf.c), started before the others. */
    synchronized void owners(BpfObject obj) {
        owners = obj;
        ownerMap = obj.map(OwnerProbe.MAP);
    }

    synchronized BpfObject owners() {
        return owners;
    }

    /** The owner map the other objects share, null when owners could not start. */
    synchronized BpfMap ownerMap() {
        return ownerMap;
    }

    /** A started probe: its record types and its sweep programs (SWEEP_SECTION) are registered. */
    synchronized void add(Probe p, BpfObject obj, List<String> programs) {
        loaded.add(new Loaded(p, obj));
        for (int t : p.eventTypes()) byType[t] = p;
        for (String prog : programs) {
            if (SWEEP_SECTION.equals(obj.sectionName(prog))) sweepers.add(Map.entry(obj, prog));
        }
    }

    /** Puts the probes in the order they were asked for (they start on several threads). */
    synchronized void order(List<Probe> asked) {
        loaded.sort(Comparator.comparingInt(l -> asked.indexOf(l.probe())));
    }

    /** The probe that decodes records of this type, or null. Read by the run loop without the lock: set before it starts. */
    Probe probeOf(int type) {
        return type > 0 && type < byType.length ? byType[type] : null;
    }

    /** The loaded probes (empty once closed). Call with this object's lock held to use their objects. */
    synchronized List<Loaded> loaded() {
        return closed ? List.of() : List.copyOf(loaded);
    }

    synchronized List<Map.Entry<BpfObject, String>> sweepers() {
        return closed ? List.of() : List.copyOf(sweepers);
    }

    synchronized boolean closed() {
        return closed;
    }

    /** The options whose probes run, e.g. [-S, -k]. */
    synchronized List<String> running() {
        return loaded.stream().map(l -> l.probe().option()).toList();
    }

    /**
     * Detaches one attached program and leaves the rest running. Tests use it to stand
     * in for a kernel that stops running a probe (its witness then counts missed hits).
     */
    synchronized void detachProgram(String program) {
        for (Loaded l : loaded) l.object().link(program).ifPresent(BpfLink::close);
    }

    /** Detaches every program and frees every map, the probes' in reverse order. Idempotent. */
    synchronized void close() {
        if (closed) return;
        closed = true;
        netfilter.close();
        RuntimeException first = null;
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
        if (first != null) throw first;
    }
}
