package dev.netwatcher.probe;

import dev.netwatcher.bpf.NetfilterHook;
import dev.netwatcher.event.Event;
import dev.netwatcher.event.Layers;
import dev.netwatcher.event.NetfilterEvent;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static dev.netwatcher.probe.Records.BODY;
import static dev.netwatcher.probe.StructSpec.f;

/** -n: struct nf_event (bpf/netfilter.h), from programs at the first and last priority of every hook. */
public final class NetfilterProbe implements Probe {
    /** Every program times one hook: none works without netfilter BPF programs. */
    @Override
    public boolean essential(String program) {
        return true;
    }

    static final int HOOK_NS = BODY, LEN = BODY + 40, IFINDEX = BODY + 44, HOOK_MASK = BODY + 48, DIR = BODY + 49,
            SIZE = BODY + 56;
    private static final String[] DIRS = {"tx", "rx", "fwd"};

    @Override public String name() { return "netfilter"; }
    @Override public String option() { return "-n"; }
    @Override public int eventType() { return 7; }

    @Override
    public List<NetfilterHook> netfilterHooks(String program) {
        int prio = switch (program) {
            case "nw_nf_first" -> Integer.MIN_VALUE + 1;
            case "nw_nf_last" -> Integer.MAX_VALUE - 1;
            default -> 0;
        };
        if (prio == 0) return List.of();
        List<NetfilterHook> hooks = new ArrayList<>();
        for (int pf : new int[] {NetfilterHook.PF_INET, NetfilterHook.PF_INET6}) {
            for (int hook = 0; hook < 5; hook++) hooks.add(new NetfilterHook(pf, hook, prio, false));
        }
        return hooks;
    }

    @Override
    public Event decode(ByteBuffer b, int off, int len, DecodeContext ctx) {
        long[] ns = new long[5];
        for (int i = 0; i < 5; i++) ns[i] = b.getLong(off + HOOK_NS + 8 * i);
        int dir = b.get(off + DIR);
        return new NetfilterEvent(Records.header(b, off, ctx.clock()), Records.flow(b, off),
                dir >= 0 && dir < DIRS.length ? DIRS[dir] : "?",
                new Layers(NetfilterEvent.HOOKS, ns, Byte.toUnsignedInt(b.get(off + HOOK_MASK))),
                b.getInt(off + LEN), b.getInt(off + IFINDEX));
    }

    @Override
    public StructSpec layout() {
        return new StructSpec("nf_event", SIZE, Records.with(Records.commonFields(),
                f("hook_ns", HOOK_NS, 40), f("len", LEN, 4), f("ifindex", IFINDEX, 4), f("hook_mask", HOOK_MASK, 1),
                f("dir", DIR, 1)));
    }
}
