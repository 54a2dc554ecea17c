package dev.netwatcher.probe;

import dev.netwatcher.contract.DropEventLayout;
import dev.netwatcher.contract.NwDropCounter;
import dev.netwatcher.contract.NwHdrLayout;
import dev.netwatcher.contract.DropStackEventLayout;
import dev.netwatcher.contract.NwEventType;
import dev.netwatcher.event.DropEvent;
import dev.netwatcher.event.Event;
import dev.netwatcher.kernel.Kallsyms;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * -k: struct drop_event (bpf/drop.h). Reason names from the kernel's BTF, location via kallsyms with -T.
 * With --stack (stacks true) each record is a struct drop_stack_event: the drop and the kernel stack
 * that freed the packet, resolved through kallsyms (which --stack turns on, -T's view of the location too).
 */
public final class DropProbe implements Probe {
    private final boolean stacks;
    private final int snaplen;
    private final Captures captures = new Captures();

    public DropProbe() {
        this(false);
    }

    public DropProbe(boolean stacks) {
        this(stacks, 0);
    }

    private DropProbe(boolean stacks, int snaplen) {
        this.stacks = stacks;
        this.snaplen = snaplen;
    }

    /** -w: the same, with each dropped packet's first snaplen bytes from its IP header in its record's frame. */
    public DropProbe capturing(int snaplen) {
        if (snaplen <= 0) throw new IllegalArgumentException("snaplen " + snaplen);
        return new DropProbe(stacks, snaplen);
    }

    public boolean stacks() {
        return stacks;
    }

    @Override public String name() { return "drop"; }
    @Override public String option() { return stacks ? "-k --stack" : "-k"; }
    @Override public int eventType() { return NwEventType.NW_EV_DROP; }
    @Override public int[] eventTypes() { return new int[] {NwEventType.NW_EV_DROP, NwEventType.NW_EV_DROP_CAPTURE}; }
    @Override public boolean witnessed() { return true; }

    @Override
    public Map<String, byte[]> rodata() {
        return Map.of("nw_drop_stack", Probe.u32(stacks ? 1 : 0), "nw_snaplen", Probe.u32(snaplen));
    }

    @Override
    public Map<String, Integer> counters() {
        return snaplen > 0 ? Map.of("dropped frames not captured (ring buffer full)", NwDropCounter.NW_DC_CAPTURE_LOST) : Map.of();
    }

    @Override
    public Map<String, Long> decoderCounters() {
        return snaplen > 0 ? Map.of("dropped frames whose drop had no record (its record lost)", captures.orphans()) : Map.of();
    }

    @Override
    public Event decode(ByteBuffer b, int off, int len, DecodeContext ctx) {
        if (Records.type(b, off) == NwEventType.NW_EV_DROP_CAPTURE) {
            captures.put(b, off, len, ctx);
            return null;
        }
        long location = DropEventLayout.location(b, off);
        int reason = DropEventLayout.reason(b, off);
        String where = ctx.symbols() != null ? ctx.symbols().resolve(location) : null;
        if (where == null) where = "0x" + Long.toHexString(location);
        List<String> stack = null;
        int frames = DropEventLayout.stackLen(b, off);
        if (frames > 0 && len >= DropStackEventLayout.SIZE) stack = stack(b, off, Math.min(frames, DropStackEventLayout.IPS_LEN), ctx.symbols());
        return new DropEvent(Records.header(b, off, ctx), Records.flow(b, off), ctx.names().dropReason(reason),
                reason, where, DropEventLayout.len(b, off), Integer.toUnsignedLong(DropEventLayout.seq(b, off)),
                DropEventLayout.tcpFlags(b, off), stack, snaplen > 0 ? captures.take(NwHdrLayout.tsNs(b, off)) : null);
    }

    /** Leading frames bpf_get_stack() may return before the drop: the tracing machinery that ran the program. */
    private static final int TRACING_FRAMES_MAX = 6;

    /**
     * The frames of a drop_stack_event, innermost first, as "function+0xoff". bpf_get_stack() starts in
     * the program itself (JIT code, which kallsyms may not name) and the tracing machinery that ran it
     * (bpf_trace_run4(), __traceiter_kfree_skb(), __bpf_trace_kfree_skb()): everything up to the last of
     * those is left out, so the first frame is the function that freed the packet (sk_skb_reason_drop(),
     * kfree_skb_reason()).
     */
    static List<String> stack(ByteBuffer b, int off, int frames, Kallsyms symbols) {
        List<String> all = new ArrayList<>(frames);
        int skip = 0;
        for (int i = 0; i < frames; i++) {
            long ip = DropStackEventLayout.ips(b, off, i);
            String f = symbols != null ? symbols.resolve(ip) : null;
            if (f == null) f = "0x" + Long.toHexString(ip);
            all.add(f);
            if (i < TRACING_FRAMES_MAX && tracing(f)) skip = i + 1;
        }
        return List.copyOf(all.subList(skip, all.size()));
    }

    private static boolean tracing(String frame) {
        return frame.startsWith("bpf_trace_run") || frame.startsWith("__bpf_trace_") || frame.startsWith("__traceiter_")
                || frame.startsWith("bpf_prog_") || frame.startsWith("__bpf_prog_");
    }

    @Override
    public int recordSize() {
        return stacks ? DropStackEventLayout.SIZE : DropEventLayout.SIZE;
    }
}
