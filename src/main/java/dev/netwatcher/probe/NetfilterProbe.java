package dev.netwatcher.probe;

import dev.netwatcher.contract.NfEventLayout;
import dev.netwatcher.contract.NwEventType;
import dev.netwatcher.contract.NwNfHook;
import dev.netwatcher.bpf.NetfilterHook;
import dev.netwatcher.event.Event;
import dev.netwatcher.event.Layers;
import dev.netwatcher.event.NetfilterEvent;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/** -n: struct nf_event (bpf/netfilter.h), from programs at the first and last priority of every hook. */
public final class NetfilterProbe implements Probe {
    /** Every program times one hook: none works without netfilter BPF programs. */
    @Override
    public boolean essential(String program) {
        return true;
    }

    private static final String[] DIRS = {"tx", "rx", "fwd"};

    @Override public String name() { return "netfilter"; }
    @Override public String option() { return "-n"; }
    @Override public int eventType() { return NwEventType.NW_EV_NETFILTER; }

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
            for (int hook = 0; hook < NwNfHook.NW_NF_HOOKS; hook++) hooks.add(new NetfilterHook(pf, hook, prio, false));
        }
        return hooks;
    }

    @Override
    public Event decode(ByteBuffer b, int off, int len, DecodeContext ctx) {
        long[] ns = new long[NfEventLayout.HOOK_NS_LEN];
        for (int i = 0; i < ns.length; i++) ns[i] = NfEventLayout.hookNs(b, off, i);
        int dir = NfEventLayout.dir(b, off);
        return new NetfilterEvent(Records.header(b, off, ctx), Records.flow(b, off),
                dir >= 0 && dir < DIRS.length ? DIRS[dir] : "?",
                new Layers(NetfilterEvent.HOOKS, ns, NfEventLayout.hookMask(b, off)),
                NfEventLayout.len(b, off), NfEventLayout.ifindex(b, off));
    }

    @Override
    public int recordSize() {
        return NfEventLayout.SIZE;
    }
}
