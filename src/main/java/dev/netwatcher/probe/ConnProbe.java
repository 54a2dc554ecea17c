package dev.netwatcher.probe;

import dev.netwatcher.bpf.Buffers;
import dev.netwatcher.bpf.BpfMap;
import dev.netwatcher.bpf.BpfObject;
import dev.netwatcher.contract.ConnEventLayout;
import dev.netwatcher.contract.NwConnMode;
import dev.netwatcher.contract.NwConnReason;
import dev.netwatcher.contract.NwConnShape;
import dev.netwatcher.contract.NwEventType;
import dev.netwatcher.contract.RttHistLayout;
import dev.netwatcher.contract.RttKeyLayout;
import dev.netwatcher.event.Event;
import dev.netwatcher.event.EventHeader;
import dev.netwatcher.event.Flow;
import dev.netwatcher.event.RttHistogram;
import dev.netwatcher.event.SocketOwner;
import dev.netwatcher.event.TcpCloseEvent;
import dev.netwatcher.event.TcpConnEvent;
import dev.netwatcher.event.TcpInfo;
import dev.netwatcher.event.TcpRttEvent;
import dev.netwatcher.event.TcpStates;
import dev.netwatcher.kernel.SocketOwners;
import dev.netwatcher.stats.TcpStateCount;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** -x, -a, --rtt: struct conn_event, rtt_key and rtt_hist (bpf/conn.h). */
public final class ConnProbe implements Probe {
    /** -x and -a (the kernel's enum nw_conn_mode), and --rtt (user space only: a bit above them). */
    public static final int EXTRA = NwConnMode.NW_CONN_EXTRA, ALL = NwConnMode.NW_CONN_ALL, RTT = 4;

    /** rtt_min's value before the first sample (minmax_reset with ~0U). */
    public static final long NO_SAMPLE = 0xffffffffL;

    private final int modes;
    private final ConnRoles roles = new ConnRoles();
    private SocketOwners owners;

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
    @Override public int eventType() { return NwEventType.NW_EV_CONN; }

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
        EventHeader h = Records.header(b, off, ctx);
        Flow flow = Records.flow(b, off);
        long sk = ConnEventLayout.skaddr(b, off);
        int reason = ConnEventLayout.reason(b, off);
        if (reason == NwConnReason.NW_CONN_SNAPSHOT && (modes & EXTRA) == 0) {
            long srtt = u32(ConnEventLayout.srttUs(b, off)), min = u32(ConnEventLayout.minRttUs(b, off));
            if (srtt == 0) return null; // listeners and sockets without an RTT sample yet
            return new TcpRttEvent(h, flow, sk, srtt, u32(ConnEventLayout.rttvarUs(b, off)), min == NO_SAMPLE ? -1 : min);
        }
        TcpInfo info = info(b, off);
        String old = TcpStates.name(ConnEventLayout.oldstate(b, off));
        if (reason == NwConnReason.NW_CONN_CLOSED) {
            long d = ConnEventLayout.durationNs(b, off);
            return new TcpCloseEvent(h, flow, sk, old, d == 0 ? -1 : d, info);
        }
        if (reason == NwConnReason.NW_CONN_STATE) {
            ConnRoles.Seen seen = roles.stateChange(sk, h.tsNs(), old, info.state());
            return new TcpConnEvent(h, flow, sk, "state", old, info, null, seen == null ? null : seen.role(),
                    seen == null ? -1 : h.tsNs() - seen.sinceNs(), seen != null && seen.atLeast());
        }
        ConnRoles.Seen seen = roles.snapshot(sk, h.netns(), flow.sport(), h.tsNs(), info.listening());
        // the socket's owner from socket storage (owner.bpf.c); else the process holding it open, from /proc
        SocketOwner owner;
        if (h.hasTask()) {
            owner = new SocketOwner(h.pid(), h.comm());
        } else {
            if (owners == null) owners = new SocketOwners();
            owner = owners.owner(ConnEventLayout.ino(b, off));
        }
        return new TcpConnEvent(h, flow, sk, "snapshot", null, info, owner, seen.role(),
                Math.max(0, h.tsNs() - seen.sinceNs()), seen.atLeast());
    }

    static TcpInfo info(ByteBuffer b, int off) {
        return new TcpInfo(TcpStates.name(ConnEventLayout.state(b, off)), TcpStates.caName(ConnEventLayout.caState(b, off)),
                u32(ConnEventLayout.sndUna(b, off)), u32(ConnEventLayout.sndNxt(b, off)), u32(ConnEventLayout.rcvNxt(b, off)), u32(ConnEventLayout.sndCwnd(b, off)),
                u32(ConnEventLayout.sndSsthresh(b, off)), u32(ConnEventLayout.sndWnd(b, off)), u32(ConnEventLayout.rcvWnd(b, off)), u32(ConnEventLayout.srttUs(b, off)),
                u32(ConnEventLayout.rttvarUs(b, off)), u32(ConnEventLayout.minRttUs(b, off)), u32(ConnEventLayout.mss(b, off)), u32(ConnEventLayout.rcvSpace(b, off)),
                ConnEventLayout.sndbuf(b, off), ConnEventLayout.wmemQueued(b, off), ConnEventLayout.rcvbuf(b, off), ConnEventLayout.rmemAlloc(b, off),
                ConnEventLayout.bytesSent(b, off), ConnEventLayout.bytesAcked(b, off), ConnEventLayout.bytesReceived(b, off),
                u32(ConnEventLayout.segsOut(b, off)), u32(ConnEventLayout.segsIn(b, off)), u32(ConnEventLayout.totalRetrans(b, off)), u32(ConnEventLayout.retransFast(b, off)),
                u32(ConnEventLayout.retransRto(b, off)), u32(ConnEventLayout.rtoTimeouts(b, off)), u32(ConnEventLayout.ackBacklog(b, off)),
                u32(ConnEventLayout.maxAckBacklog(b, off)), ConnEventLayout.skErr(b, off));
    }

    private static long u32(int v) {
        return Integer.toUnsignedLong(v);
    }

    /** --rtt: RTT samples per remote address so far (map rtt_hists); none without --rtt. */
    List<RttHistogram> rttHistograms(BpfObject obj) {
        List<RttHistogram> out = new ArrayList<>();
        if ((modes & RTT) == 0) return out;
        BpfMap m = obj.map("rtt_hists");
        for (byte[] key : m.keys()) m.lookup(key).ifPresent(v -> out.add(histogram(key, v)));
        return out;
    }

    /**
     * Sockets per TCP state counted by the walks since the last call (map conn_states, then cleared):
     * every state from ESTABLISHED to NEW_SYN_RECV, zeros included, so a gauge keeps its series.
     */
    List<TcpStateCount> takeStates(BpfObject obj) {
        BpfMap m = obj.map("conn_states");
        List<TcpStateCount> out = new ArrayList<>();
        for (int s = 1; s < NwConnShape.NW_CONN_STATES; s++) {
            long n = m.sumPerCpuWords(s)[0];
            if (n > 0) m.setPerCpuWords(s, 0);
            if (n > 0 || s <= TcpStates.NEW_SYN_RECV) out.add(new TcpStateCount(TcpStates.name(s), n));
        }
        return out;
    }

    /** One entry of the rtt_hists map. */
    static RttHistogram histogram(byte[] key, ByteBuffer value) {
        ByteBuffer k = Buffers.direct(key), v = value.order(ByteOrder.LITTLE_ENDIAN);
        int family = RttKeyLayout.family(k, 0);
        byte[] a = new byte[family == Flow.AF_INET ? 4 : 16];
        k.get(RttKeyLayout.ADDR, a);
        InetAddress remote;
        try {
            remote = InetAddress.getByAddress(a);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
        // per-CPU map: one rtt_hist per possible CPU, back to back
        long[] counts = new long[RttHistLayout.SLOTS_LEN];
        long count = 0, sum = 0, min = Long.MAX_VALUE, max = 0;
        for (int cpu = 0; cpu + RttHistLayout.SIZE <= v.capacity(); cpu += RttHistLayout.SIZE) {
            long n = RttHistLayout.count(v, cpu);
            if (n == 0) continue;
            for (int i = 0; i < counts.length; i++) counts[i] += RttHistLayout.slots(v, cpu, i);
            count += n;
            sum += RttHistLayout.sumUs(v, cpu);
            min = Math.min(min, u32(RttHistLayout.minUs(v, cpu)));
            max = Math.max(max, u32(RttHistLayout.maxUs(v, cpu)));
        }
        return new RttHistogram(u32(RttKeyLayout.netns(k, 0)), family, remote, counts, count, sum,
                count == 0 ? 0 : min, max);
    }

    @Override
    public int recordSize() {
        return ConnEventLayout.SIZE;
    }
}
