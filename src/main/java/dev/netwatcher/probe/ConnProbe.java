package dev.netwatcher.probe;

import dev.netwatcher.event.Event;
import dev.netwatcher.event.EventHeader;
import dev.netwatcher.event.Flow;
import dev.netwatcher.event.RttHistogram;
import dev.netwatcher.event.TcpCloseEvent;
import dev.netwatcher.event.TcpConnEvent;
import dev.netwatcher.event.TcpInfo;
import dev.netwatcher.event.TcpRttEvent;
import dev.netwatcher.event.TcpStates;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.netwatcher.probe.Records.BODY;
import static dev.netwatcher.probe.StructSpec.f;

/** -x, -a, --rtt: struct conn_event, rtt_key and rtt_hist (bpf/conn.h). */
public final class ConnProbe implements Probe {
    public static final int EXTRA = 1, ALL = 2, RTT = 4;
    static final int REASON_SNAPSHOT = 1, REASON_STATE = 2, REASON_CLOSED = 3;
    static final int SKADDR = BODY, DURATION = BODY + 8, BYTES_SENT = BODY + 16, BYTES_ACKED = BODY + 24,
            BYTES_RECEIVED = BODY + 32, REASON = BODY + 40, STATE = BODY + 44, OLDSTATE = BODY + 45, CA_STATE = BODY + 46,
            SND_UNA = BODY + 48, SND_NXT = BODY + 52, RCV_NXT = BODY + 56, CWND = BODY + 60, SSTHRESH = BODY + 64,
            SND_WND = BODY + 68, RCV_WND = BODY + 72, SRTT = BODY + 76, RTTVAR = BODY + 80, MIN_RTT = BODY + 84,
            MSS = BODY + 88, RCV_SPACE = BODY + 92, SNDBUF = BODY + 96, WMEM_QUEUED = BODY + 100, RCVBUF = BODY + 104,
            RMEM_ALLOC = BODY + 108, SEGS_OUT = BODY + 112, SEGS_IN = BODY + 116, TOTAL_RETRANS = BODY + 120,
            RETRANS_FAST = BODY + 124, RETRANS_RTO = BODY + 128, RTO_TIMEOUTS = BODY + 132, ACK_BACKLOG = BODY + 136,
            MAX_ACK_BACKLOG = BODY + 140, SK_ERR = BODY + 144, INO = BODY + 152, SIZE = BODY + 160;
    static final int RTT_SLOTS = 24, KEY_ADDR = 0, KEY_NETNS = 16, KEY_FAMILY = 20, KEY_SIZE = 24,
            H_SLOTS = 0, H_COUNT = RTT_SLOTS * 8, H_SUM = H_COUNT + 8, H_MIN = H_SUM + 8, H_MAX = H_MIN + 4, H_SIZE = H_MAX + 4;

    /** rtt_min's value before the first sample (minmax_reset with ~0U). */
    public static final long NO_SAMPLE = 0xffffffffL;

    private final int modes;
    private final ConnRoles roles = new ConnRoles();
    private dev.netwatcher.kernel.SocketOwners owners;

    public ConnProbe(int modes) {
        if (modes == 0 || (modes & ~(EXTRA | ALL | RTT)) != 0) throw new IllegalArgumentException("modes " + modes);
        this.modes = modes;
    }

    /** A socket walk of one network namespace starts: its listeners come first (iter/tcp walks the listening hash, then the established one). */
    @Override
    public void walkStart(long netns, long nowEpochNs) {
        roles.walkStart(netns, nowEpochNs);
    }

    /** A round of walks (every watched namespace) starts: one /proc scan may run for the sockets it brings. */
    @Override
    public void walksStart() {
        if (owners != null) owners.newWalk();
    }

    public int modes() {
        return modes;
    }

    @Override public String name() { return "conn"; }
    @Override public int eventType() { return 8; }

    @Override
    public String option() {
        List<String> o = new ArrayList<>();
        if ((modes & EXTRA) != 0) o.add("-x");
        if ((modes & ALL) != 0) o.add("-a");
        if ((modes & RTT) != 0) o.add("--rtt");
        return String.join(" ", o);
    }

    @Override
    public boolean wants(String program) {
        return switch (program) {
            case "nw_conn_iter" -> (modes & (EXTRA | RTT)) != 0;
            case "nw_conn_state" -> true; // also --rtt alone: a closing socket's entries are deleted there
            case "nw_conn_retx" -> (modes & EXTRA) != 0;
            case "nw_conn_rtt" -> (modes & RTT) != 0;
            default -> true;
        };
    }

    @Override
    public String describe(String program) {
        return switch (program) {
            case "nw_conn_iter" -> "socket walk (iter/tcp)";
            case "nw_conn_state" -> "state changes";
            case "nw_conn_retx" -> "retransmission split";
            case "nw_conn_rtt" -> "RTT samples";
            default -> program;
        };
    }

    @Override
    public Map<String, byte[]> rodata() {
        return Map.of("nw_conn_mode", Probe.u32(modes & (EXTRA | ALL)));
    }

    /** Records are written by the kernel; a snapshot without -x becomes a tcp_rtt event (--rtt). */
    @Override
    public Event decode(ByteBuffer b, int off, int len, DecodeContext ctx) {
        EventHeader h = Records.header(b, off, ctx.clock());
        Flow flow = Records.flow(b, off);
        long sk = b.getLong(off + SKADDR);
        int reason = b.getInt(off + REASON);
        if (reason == REASON_SNAPSHOT && (modes & EXTRA) == 0) {
            long srtt = u32(b, off + SRTT), min = u32(b, off + MIN_RTT);
            if (srtt == 0) return null; // listeners and sockets without an RTT sample yet
            return new TcpRttEvent(h, flow, sk, srtt, u32(b, off + RTTVAR), min == NO_SAMPLE ? -1 : min);
        }
        TcpInfo info = info(b, off);
        String old = TcpStates.name(Byte.toUnsignedInt(b.get(off + OLDSTATE)));
        if (reason == REASON_CLOSED) {
            long d = b.getLong(off + DURATION);
            return new TcpCloseEvent(h, flow, sk, old, d == 0 ? -1 : d, info);
        }
        if (reason == REASON_STATE) {
            ConnRoles.Seen seen = roles.stateChange(sk, h.tsNs(), old, info.state());
            return new TcpConnEvent(h, flow, sk, "state", old, info, null, seen == null ? null : seen.role(),
                    seen == null ? -1 : h.tsNs() - seen.sinceNs(), seen != null && seen.atLeast());
        }
        ConnRoles.Seen seen = roles.snapshot(sk, h.netns(), flow.sport(), h.tsNs(), info.listening());
        if (owners == null) owners = new dev.netwatcher.kernel.SocketOwners();
        return new TcpConnEvent(h, flow, sk, "snapshot", null, info, owners.owner(b.getLong(off + INO)), seen.role(),
                Math.max(0, h.tsNs() - seen.sinceNs()), seen.atLeast());
    }

    static TcpInfo info(ByteBuffer b, int off) {
        return new TcpInfo(TcpStates.name(Byte.toUnsignedInt(b.get(off + STATE))),
                TcpStates.caName(Byte.toUnsignedInt(b.get(off + CA_STATE))), u32(b, off + SND_UNA), u32(b, off + SND_NXT),
                u32(b, off + RCV_NXT), u32(b, off + CWND), u32(b, off + SSTHRESH), u32(b, off + SND_WND), u32(b, off + RCV_WND),
                u32(b, off + SRTT), u32(b, off + RTTVAR), u32(b, off + MIN_RTT), u32(b, off + MSS), u32(b, off + RCV_SPACE),
                b.getInt(off + SNDBUF), b.getInt(off + WMEM_QUEUED), b.getInt(off + RCVBUF), b.getInt(off + RMEM_ALLOC),
                b.getLong(off + BYTES_SENT), b.getLong(off + BYTES_ACKED), b.getLong(off + BYTES_RECEIVED),
                u32(b, off + SEGS_OUT), u32(b, off + SEGS_IN), u32(b, off + TOTAL_RETRANS), u32(b, off + RETRANS_FAST),
                u32(b, off + RETRANS_RTO), u32(b, off + RTO_TIMEOUTS), u32(b, off + ACK_BACKLOG),
                u32(b, off + MAX_ACK_BACKLOG), b.getInt(off + SK_ERR));
    }

    private static long u32(ByteBuffer b, int at) {
        return Integer.toUnsignedLong(b.getInt(at));
    }

    /** One entry of the rtt_hists map. */
    static RttHistogram histogram(byte[] key, ByteBuffer value) {
        ByteBuffer k = ByteBuffer.wrap(key).order(ByteOrder.LITTLE_ENDIAN), v = value.order(ByteOrder.LITTLE_ENDIAN);
        int family = Short.toUnsignedInt(k.getShort(KEY_FAMILY));
        byte[] a = new byte[family == Flow.AF_INET ? 4 : 16];
        k.get(KEY_ADDR, a);
        InetAddress remote;
        try {
            remote = InetAddress.getByAddress(a);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
        // per-CPU map: one rtt_hist per possible CPU, back to back
        long[] counts = new long[RTT_SLOTS];
        long count = 0, sum = 0, min = Long.MAX_VALUE, max = 0;
        for (int cpu = 0; cpu + H_SIZE <= v.capacity(); cpu += H_SIZE) {
            long n = v.getLong(cpu + H_COUNT);
            if (n == 0) continue;
            for (int i = 0; i < RTT_SLOTS; i++) counts[i] += v.getLong(cpu + H_SLOTS + 8 * i);
            count += n;
            sum += v.getLong(cpu + H_SUM);
            min = Math.min(min, Integer.toUnsignedLong(v.getInt(cpu + H_MIN)));
            max = Math.max(max, Integer.toUnsignedLong(v.getInt(cpu + H_MAX)));
        }
        return new RttHistogram(Integer.toUnsignedLong(k.getInt(KEY_NETNS)), family, remote, counts, count, sum,
                count == 0 ? 0 : min, max);
    }

    @Override
    public StructSpec layout() {
        return new StructSpec("conn_event", SIZE, Records.with(Records.commonFields(),
                f("skaddr", SKADDR, 8), f("duration_ns", DURATION, 8), f("bytes_sent", BYTES_SENT, 8),
                f("bytes_acked", BYTES_ACKED, 8), f("bytes_received", BYTES_RECEIVED, 8), f("reason", REASON, 4),
                f("state", STATE, 1), f("oldstate", OLDSTATE, 1), f("ca_state", CA_STATE, 1), f("snd_una", SND_UNA, 4),
                f("snd_nxt", SND_NXT, 4), f("rcv_nxt", RCV_NXT, 4), f("snd_cwnd", CWND, 4), f("snd_ssthresh", SSTHRESH, 4),
                f("snd_wnd", SND_WND, 4), f("rcv_wnd", RCV_WND, 4), f("srtt_us", SRTT, 4), f("rttvar_us", RTTVAR, 4),
                f("min_rtt_us", MIN_RTT, 4), f("mss", MSS, 4), f("rcv_space", RCV_SPACE, 4), f("sndbuf", SNDBUF, 4),
                f("wmem_queued", WMEM_QUEUED, 4), f("rcvbuf", RCVBUF, 4), f("rmem_alloc", RMEM_ALLOC, 4),
                f("segs_out", SEGS_OUT, 4), f("segs_in", SEGS_IN, 4), f("total_retrans", TOTAL_RETRANS, 4),
                f("retrans_fast", RETRANS_FAST, 4), f("retrans_rto", RETRANS_RTO, 4), f("rto_timeouts", RTO_TIMEOUTS, 4),
                f("ack_backlog", ACK_BACKLOG, 4), f("max_ack_backlog", MAX_ACK_BACKLOG, 4), f("sk_err", SK_ERR, 4),
                f("ino", INO, 8)));
    }

    @Override
    public List<StructSpec> layouts() {
        return List.of(layout(),
                new StructSpec("rtt_key", KEY_SIZE, List.of(f("addr", KEY_ADDR, 16), f("netns", KEY_NETNS, 4),
                        f("family", KEY_FAMILY, 2))),
                new StructSpec("rtt_hist", H_SIZE, List.of(f("slots", H_SLOTS, RTT_SLOTS * 8), f("count", H_COUNT, 8),
                        f("sum_us", H_SUM, 8), f("min_us", H_MIN, 4), f("max_us", H_MAX, 4))));
    }
}
