package dev.netwatcher.probe;

import dev.netwatcher.bpf.BpfException;
import dev.netwatcher.bpf.BpfMap;
import dev.netwatcher.bpf.BpfObject;
import dev.netwatcher.bpf.LoadFailure;
import dev.netwatcher.btf.Btf;
import dev.netwatcher.contract.NwCbpfInsnLayout;
import dev.netwatcher.contract.NwPcapFilterLimit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Loads one probe's BPF object into the kernel, keeping what this kernel can run: programs whose
 * hook it lacks are left out (or their stand-ins loaded, {@link Fallbacks}), tracepoint arguments
 * newer kernels added are switched on where present, and a program the verifier refuses costs
 * only its own feature: the object is opened again without it and loaded again (libbpf stops at
 * the first refused program and cannot load an object twice). Which program was refused is read
 * from libbpf's warnings, kept only when a first load has failed (a second load of a fresh copy). What the user loses is said
 * through {@link Said}: unavailable (nothing from that feature) or a note (it works, with a limit).
 */
final class ProbeLoader {
    /** Where a loader's findings go: unavailable features and notes about working ones. */
    interface Said {
        void unavailable(String text);

        void note(String text);

        /** A stand-in program runs where the kernel lacks the primary's hook (shown by --check). */
        default void fallback(String text) {}
    }

    /** A loaded object and the programs of it that are to be attached. */
    record Loaded(BpfObject object, List<String> programs) {}

    /** At most this many programs of one object may be refused before the probe is given up. */
    private static final int MAX_REFUSED = 16;

    private final Btf kernel;
    private final Filter filter;
    private final BpfMap ring;
    private final BpfMap owners;

    /** ring: the ring buffer every object writes to; owners: the socket-owner map, or null. */
    ProbeLoader(Btf kernel, Filter filter, BpfMap ring, BpfMap owners) {
        this.kernel = kernel;
        this.filter = filter;
        this.ring = ring;
        this.owners = owners;
    }

    /** Loads p's object with what this kernel runs, or returns null (said why) when p cannot run at all or needs no program. */
    Loaded load(Probe p, Said said) {
        Map<String, String> refused = new LinkedHashMap<>();
        Map<String, byte[]> overrides = Map.of();
        boolean diagnose = false;
        while (true) {
            List<String> lost = new ArrayList<>(), standIns = new ArrayList<>();
            try {
                Loaded l = loadOnce(p, overrides, refused, lost, standIns, diagnose);
                for (String u : lost) said.unavailable(u);
                for (String f : standIns) said.fallback(f);
                String loadNote = l == null ? null : p.loadNote(l.programs());
                if (loadNote != null) said.note(loadNote);
                if (dev.netwatcher.kernel.Tracefs.mountNoteDue()) {
                    said.note(p.option() + ": mounted tracefs at /sys/kernel/tracing (the send system calls' tracepoints are found there)");
                }
                if (overrides == SKB_NO_COMM) {
                    said.note(p.option() + ": task names of records from netfilter and cgroup hooks come from "
                            + "/proc (this kernel gives those programs no bpf_get_current_comm)");
                } else if (overrides == SKB_NO_TASK) {
                    said.note(p.option() + ": records from netfilter and cgroup hooks name no task (this kernel "
                            + "gives those programs neither bpf_get_current_comm nor bpf_get_current_pid_tgid)");
                }
                return l;
            } catch (Refused r) {
                String prog = r.failure.program();
                boolean skb = prog == null ? r.skbPrograms : r.skbProgram(prog);
                if (!diagnose && !(skb && overrides != SKB_NO_TASK)) { // once more, keeping libbpf's words: which program, and why
                    diagnose = true;
                    continue;
                }
                // older kernels refuse some helpers to packet programs (nw_skb_comm in nw_common.h)
                if (skb && overrides != SKB_NO_TASK) {
                    overrides = overrides.isEmpty() ? SKB_NO_COMM : SKB_NO_TASK;
                    continue;
                }
                if (prog == null || refused.containsKey(prog) || refused.size() >= MAX_REFUSED) {
                    said.unavailable(p.option() + ": " + r.failure.getMessage());
                    return null;
                }
                refused.put(prog, "refused by this kernel's verifier (" + prog + ": "
                        + (r.failure.reason() == null ? r.failure.getMessage() : r.failure.reason()) + ")");
                overrides = Map.of();
            } catch (BpfException e) {
                said.unavailable(p.option() + ": " + e.getMessage());
                return null;
            }
        }
    }

    /** The kernel refused to load the object (the verifier), as opposed to another failure. */
    private static final class Refused extends BpfException {
        final LoadFailure failure;
        /** The object has netfilter or cgroup_skb programs, the ones nw_skb_comm and nw_skb_pid are about. */
        final boolean skbPrograms;
        private final List<String> skbNames;

        Refused(LoadFailure failure, List<String> skbNames) {
            super(failure.getMessage());
            this.failure = failure;
            this.skbNames = skbNames;
            this.skbPrograms = !skbNames.isEmpty();
        }

        boolean skbProgram(String prog) {
            return skbNames.contains(prog);
        }
    }

    /** A .rodata flag that says whether the kernel's tracepoint passes at least args arguments. */
    private record NewerArg(String flag, String tracepoint, int args) {}

    /** See nw_retransmit_err() (nw_common.h), nw_rx_sk() (drop.bpf.c), nw_send_reset_has_reason (tcperr.bpf.c). */
    private static final List<NewerArg> NEWER_ARGS = List.of(new NewerArg("nw_retransmit_has_err", "tcp_retransmit_skb", 3),
            new NewerArg("nw_kfree_has_rx_sk", "kfree_skb", 4), new NewerArg("nw_send_reset_has_reason", "tcp_send_reset", 3));

    /** The fallbacks of load(): records of packet programs carry the pid but not the task name, then neither. */
    private static final Map<String, byte[]> SKB_NO_COMM = Map.of("nw_skb_comm", Probe.u32(0));
    private static final Map<String, byte[]> SKB_NO_TASK = Map.of("nw_skb_comm", Probe.u32(0), "nw_skb_pid", Probe.u32(0));

    /**
     * Opens, configures and loads p's object once; overrides are .rodata values set last, refused
     * the programs an earlier attempt lost to the verifier (left out like a missing hook), lost
     * collects what this attempt leaves out, standIns the fallbacks it loads instead of a primary.
     */
    private Loaded loadOnce(Probe p, Map<String, byte[]> overrides, Map<String, String> refused, List<String> lost,
                            List<String> standIns, boolean diagnose) {
        BpfObject obj = BpfObject.open(p.name(), objectBytes(p));
        try {
            List<String> wanted = new ArrayList<>();
            List<String> skbNames = new ArrayList<>();
            Map<String, String> missingOf = new HashMap<>();
            for (String prog : obj.programNames()) {
                String section = obj.sectionName(prog);
                // a syscall tracepoint's id is looked up in tracefs, which is mounted for it if need be: only when wanted
                boolean unasked = section != null && section.startsWith("tp/syscalls/") && !p.wants(prog);
                missingOf.put(prog, refused.containsKey(prog) ? refused.get(prog) : unasked ? null : missingHook(kernel, section));
            }
            Fallbacks fallbacks = Fallbacks.of(obj.programNames(), missingOf);
            for (String prog : obj.programNames()) {
                String section = obj.sectionName(prog);
                String primary = Fallbacks.primaryOf(prog);
                boolean needed = p.wants(primary) && p.wants(prog) && fallbacks.loads(prog);
                String missing = !needed ? null : prog.equals(primary) ? missingOf.get(prog) : null;
                if (!needed) {
                    obj.setAutoload(prog, false);
                    List<String> instead = prog.equals(primary) ? fallbacks.insteadOf(prog, obj.programNames()) : List.of();
                    if (!instead.isEmpty() && p.wants(prog) && !Probe.isWitness(prog)) {
                        List<String> by = new ArrayList<>();
                        for (String q : instead) by.add(obj.sectionName(q));
                        standIns.add(p.option() + " " + p.describe(prog) + ": " + String.join(", ", by) + " instead of "
                                + section + " (" + (fallbacks.prefers(prog) ? "cheaper, where the kernel has it" : missingOf.get(prog)) + ")");
                    }
                } else if (missing != null) {
                    obj.setAutoload(prog, false);
                    if (p.essential(prog)) throw new BpfException(p.describe(prog) + ": " + missing);
                    if (!Probe.isWitness(prog)) lost.add(p.option() + " " + p.describe(prog) + ": " + missing);
                } else {
                    if ("netfilter".equals(section)) obj.setNetfilterType(prog);
                    if (section.equals("netfilter") || section.startsWith("cgroup_skb")) skbNames.add(prog);
                    wanted.add(prog);
                }
            }
            if (wanted.isEmpty()) {
                obj.close();
                return null;
            }
            obj.setRodata("nw_filter", filter.toBytes());
            if (filter.pcap() != null && obj.hasRodata("nw_pcap_len")) {
                // the compiled expression, read-only before any program runs (bpf/include/nw_pcap_filter.h)
                Filter.PcapProgram pcap = filter.pcap();
                if (pcap.length() > NwPcapFilterLimit.NW_PCAP_MAX_INSNS) {
                    throw new BpfException("filter expression '" + pcap.expression() + "' compiles to " + pcap.length()
                            + " instructions; at most " + NwPcapFilterLimit.NW_PCAP_MAX_INSNS + " are taken");
                }
                byte[] insns = new byte[NwPcapFilterLimit.NW_PCAP_MAX_INSNS * NwCbpfInsnLayout.SIZE];
                System.arraycopy(pcap.insns(), 0, insns, 0, pcap.insns().length);
                obj.setRodata("nw_pcap_insns", insns);
                obj.setRodata("nw_pcap_len", Probe.u32(pcap.length()));
            }
            obj.reuseMap("events", ring);
            if (owners != null) obj.reuseMap(OwnerProbe.MAP, owners);
            for (Map.Entry<String, byte[]> r : p.rodata().entrySet()) obj.setRodata(r.getKey(), r.getValue());
            // tracepoint arguments newer kernels added (tcp_retransmit_skb's err, kfree_skb's rx_sk,
            // tcp_send_reset's reason): the programs read them only where the kernel passes them
            for (NewerArg a : NEWER_ARGS) {
                if (obj.hasRodata(a.flag())) obj.setRodata(a.flag(), Probe.u32(kernel.tracepointArgs(a.tracepoint()) >= a.args() ? 1 : 0));
            }
            for (Map.Entry<String, byte[]> r : overrides.entrySet()) obj.setRodata(r.getKey(), r.getValue());
            try {
                obj.load(diagnose);
            } catch (LoadFailure e) {
                throw new Refused(e, skbNames);
            }
            return new Loaded(obj, wanted);
        } catch (RuntimeException e) {
            obj.close();
            throw e;
        }
    }

    /** The size of p's object in the jar (0 if unknown): how long its load takes, roughly. */
    static long objectSize(Probe p) {
        java.net.URL u = ProbeLoader.class.getResource("/bpf/" + p.name() + ".bpf.o");
        try {
            return u == null ? 0 : u.openConnection().getContentLengthLong();
        } catch (IOException e) {
            return 0;
        }
    }

    static byte[] objectBytes(Probe p) {
        String res = "/bpf/" + p.name() + ".bpf.o";
        try (InputStream in = ProbeLoader.class.getResourceAsStream(res)) {
            if (in == null) throw new BpfException("BPF object " + res + " is missing from the build");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Why this kernel cannot run a program of this section, or null when it can (as far as BTF tells). */
    static String missingHook(Btf kernel, String section) {
        // the system call tracepoints have no BTF (no btf_trace_* typedef): tracefs knows them
        if (section != null && section.startsWith("tp/syscalls/")) {
            return dev.netwatcher.kernel.Tracefs.missing("syscalls", section.substring("tp/syscalls/".length()));
        }
        String tp = tracepointOf(section);
        if (tp != null) return kernel.hasTracepoint(tp) ? null : "tracepoint " + tp + " missing";
        if ("netfilter".equals(section)) {
            return kernel.find("bpf_nf_ctx", Btf.STRUCT).isPresent() ? null
                    : "this kernel has no netfilter BPF programs (Linux 6.4 and later)";
        }
        String fn = functionOf(section);
        if (fn != null) {
            if (!kernel.hasFunction(fn)) return "function " + fn + " missing";
            // the BTF has the function; does the kernel run fentry at all? Probed once, on
            // bpf_fentry_test1 (net/bpf/test_run.c, there to be traced) where it exists
            int probe = kernel.find("bpf_fentry_test1", Btf.FUNC).or(() -> kernel.find(fn, Btf.FUNC)).orElseThrow();
            return dev.netwatcher.bpf.Trampolines.refused(probe);
        }
        return null;
    }

    /** The kernel function of an fentry/fexit section, else null. */
    static String functionOf(String section) {
        for (String prefix : new String[] {"fentry/", "fexit/"}) {
            if (section != null && section.startsWith(prefix)) return section.substring(prefix.length());
        }
        return null;
    }

    /** "tp_btf/kfree_skb" -> "kfree_skb"; null for sections that are not tracepoints. */
    static String tracepointOf(String section) {
        if (section == null) return null;
        for (String prefix : new String[] {"tp_btf/", "raw_tp/", "raw_tracepoint/"}) {
            if (section.startsWith(prefix)) return section.substring(prefix.length());
        }
        if (section.startsWith("tp/") || section.startsWith("tracepoint/")) {
            int slash = section.lastIndexOf('/');
            return section.substring(slash + 1);
        }
        return null;
    }
}
