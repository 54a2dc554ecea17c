package dev.netwatcher.probe;

import dev.netwatcher.event.Event;
import dev.netwatcher.protocol.Exchanges;
import dev.netwatcher.protocol.Segment;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.netwatcher.probe.Records.BODY;
import static dev.netwatcher.probe.StructSpec.f;

/**
 * -i, --dns: struct payload_event (bpf/payload.h). Each record is one message start;
 * {@link Exchanges} pairs requests with answers, so decode() returns an event only
 * when a record completes an exchange (null otherwise). One instance per run: it
 * holds the pending requests.
 */
public final class PayloadProbe implements Probe {
    public static final int HTTP = 1, DNS = 2;
    static final int COOKIE = BODY, SEQ = BODY + 8, PAYLOAD_LEN = BODY + 16, CAPTURED = BODY + 20, EGRESS = BODY + 22,
            KIND = BODY + 23, DATA = BODY + 24, MAX = 512, SIZE = DATA + MAX;

    private final int modes;
    private final Exchanges exchanges;

    public PayloadProbe(int modes) {
        this(modes, false);
    }

    /** fullPaths: HTTP paths with their query values (--http-full-path). */
    public PayloadProbe(int modes, boolean fullPaths) {
        this.exchanges = new Exchanges(fullPaths);
        if (modes == 0 || (modes & ~(HTTP | DNS)) != 0) throw new IllegalArgumentException("modes " + modes);
        this.modes = modes;
    }

    @Override public String name() { return "payload"; }
    @Override public int eventType() { return 9; }

    @Override
    public String option() {
        List<String> o = new ArrayList<>();
        if ((modes & HTTP) != 0) o.add("-i");
        if ((modes & DNS) != 0) o.add("--dns");
        return String.join(" ", o);
    }

    @Override
    public String describe(String program) {
        return program.endsWith("_in") ? "received payload (cgroup ingress)" : "sent payload (cgroup egress)";
    }

    @Override
    public boolean cgroupHook(String program) {
        return true;
    }

    @Override
    public Map<String, byte[]> rodata() {
        return Map.of("nw_payload_mode", Probe.u32(modes));
    }

    /** Requests dropped from the pairing tables before their answer (bounded tables). */
    public long forgotten() {
        return exchanges.forgotten();
    }

    @Override
    public Map<String, Long> decoderCounters() {
        return Map.of("requests forgotten before their answer (pairing table full)", exchanges.forgotten());
    }

    @Override
    public List<Event> expire(long nowEpochNs) {
        return exchanges.expire(nowEpochNs);
    }

    @Override
    public Event decode(ByteBuffer b, int off, int len, DecodeContext ctx) {
        return exchanges.accept(segment(b, off, ctx)).orElse(null);
    }

    static Segment segment(ByteBuffer b, int off, DecodeContext ctx) {
        int n = Math.min(Short.toUnsignedInt(b.getShort(off + CAPTURED)), MAX);
        byte[] data = new byte[n];
        b.get(off + DATA, data);
        Segment.Kind kind = b.get(off + KIND) == DNS ? Segment.Kind.DNS : Segment.Kind.HTTP;
        return new Segment(Records.header(b, off, ctx.clock()), Records.flow(b, off), b.getLong(off + COOKIE),
                Integer.toUnsignedLong(b.getInt(off + SEQ)), b.get(off + EGRESS) != 0, kind, b.getInt(off + PAYLOAD_LEN), data);
    }

    @Override
    public StructSpec layout() {
        return new StructSpec("payload_event", SIZE, Records.with(Records.commonFields(),
                f("cookie", COOKIE, 8), f("seq", SEQ, 4), f("payload_len", PAYLOAD_LEN, 4), f("captured", CAPTURED, 2),
                f("egress", EGRESS, 1), f("kind", KIND, 1), f("data", DATA, MAX)));
    }
}
