package dev.netwatcher.probe;

import dev.netwatcher.bpf.BpfMap;
import dev.netwatcher.bpf.NetfilterHook;
import dev.netwatcher.event.Event;
import dev.netwatcher.event.IcmpEvent;
import dev.netwatcher.event.Layers;
import dev.netwatcher.event.PacketEvent;
import dev.netwatcher.stats.LayerHistogram;
import dev.netwatcher.stats.PacketCount;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.netwatcher.probe.Records.BODY;
import static dev.netwatcher.probe.StructSpec.f;

/**
 * -t -u -I: struct packet_event and struct icmp_event (bpf/packet.h). One object
 * serves the three options; nw_modes in .rodata says which protocols it follows.
 */
public final class PacketProbe implements Probe {
    public static final int MODE_TCP = 1, MODE_UDP = 2, MODE_ICMP = 4;
    static final int TYPE_PACKET = 5, TYPE_ICMP = 6;
    /** enum nw_layer order in layer_ns[]. */
    private static final int TRANSPORT = 0, IP = 1, QDISC = 2, DRIVER = 3, SOCKET = 4;
    private static final int[] TX_ORDER = {TRANSPORT, IP, QDISC, DRIVER};
    private static final int[] RX_ORDER = {DRIVER, IP, TRANSPORT, SOCKET};

    static final int LAYER_NS = BODY, SEQ = BODY + 40, ACK = BODY + 44, LEN = BODY + 48, IFINDEX = BODY + 52,
            DIR = BODY + 56, LAYER_MASK = BODY + 57, TCP_FLAGS = BODY + 58, FLAGS = BODY + 59, ICMP_TYPE = BODY + 60,
            SIZE = BODY + 64;
    static final int I_RX_NS = BODY, I_ICMP_NS = BODY + 16, I_TX_NS = BODY + 24, I_TOTAL_NS = BODY + 48,
            I_ID = BODY + 56, I_SEQ = BODY + 58, I_IFINDEX = BODY + 60, I_RX_MASK = BODY + 64, I_TX_MASK = BODY + 65,
            I_SIZE = BODY + 72;
    /** struct flow_key and struct flow_totals: the flow_totals map. */
    static final int K_NETNS = 0, K_FLOW = 4, K_SIZE = 44, T_SIZE = 32;

    /** nw_aggregate: records only, records and kernel histograms, histograms only (bpf/packet.bpf.c). */
    public enum Aggregate { NONE, ALSO, ONLY }

    private final int modes;
    private final Aggregate aggregate;
    private final int sample;

    /** sample: nw_sample, 1 packet in sample is followed (bpf/packet.bpf.c sampled()). */
    public PacketProbe(int modes, Aggregate aggregate, int sample) {
        this.modes = modes;
        this.aggregate = aggregate;
        this.sample = Math.max(1, sample);
    }

    public int sample() {
        return sample;
    }

    public Aggregate aggregate() {
        return aggregate;
    }

    public int modes() {
        return modes;
    }

    @Override public String name() { return "packet"; }

    @Override
    public String option() {
        List<String> o = new ArrayList<>();
        if ((modes & MODE_TCP) != 0) o.add("-t");
        if ((modes & MODE_UDP) != 0) o.add("-u");
        if ((modes & MODE_ICMP) != 0) o.add("-I");
        return String.join(" ", o);
    }

    @Override public int eventType() { return TYPE_PACKET; }
    @Override public int[] eventTypes() { return new int[] {TYPE_PACKET, TYPE_ICMP}; }

    @Override
    public Map<String, byte[]> rodata() {
        return Map.of("nw_modes", Probe.u32(modes), "nw_aggregate", Probe.u32(aggregate.ordinal()),
                "nw_sample", Probe.u32(sample));
    }

    /** LOCAL_OUT and LOCAL_IN make every record: without them nothing is timed. */
    @Override
    public boolean essential(String program) {
        return program.equals("nw_pkt_out") || program.equals("nw_pkt_in");
    }

    @Override
    public boolean wants(String program) {
        return switch (program) {
            case "nw_pkt_app" -> (modes & MODE_TCP) != 0;
            case "nw_pkt_sysenter" -> (modes & MODE_UDP) != 0;
            case "nw_pkt_copy", "nw_pkt_close" -> (modes & MODE_TCP) != 0;
            case "nw_pkt_read" -> (modes & MODE_UDP) != 0;
            // stand-ins for nw_pkt_sent on kernels without sock_send_length (Fallbacks)
            case "nw_pkt_sent_f1" -> (modes & MODE_TCP) != 0;
            case "nw_pkt_sent_f2", "nw_pkt_sent_f3" -> (modes & MODE_UDP) != 0;
            case "nw_pkt_ready" -> (modes & (MODE_TCP | MODE_UDP)) != 0;
            default -> true;
        };
    }

    @Override
    public List<NetfilterHook> netfilterHooks(String program) {
        // LOCAL_OUT first (the packet has just left TCP/UDP/ICMP) and LOCAL_IN last
        // (it is about to enter them), for IPv4 and IPv6.
        int hook, prio;
        switch (program) {
            // one step inside -n's programs, which hold the outermost priorities
            case "nw_pkt_out" -> { hook = 3; prio = Integer.MIN_VALUE + 2; }
            case "nw_pkt_in" -> { hook = 1; prio = Integer.MAX_VALUE - 2; }
            default -> { return List.of(); }
        }
        return List.of(new NetfilterHook(NetfilterHook.PF_INET, hook, prio, false),
                new NetfilterHook(NetfilterHook.PF_INET6, hook, prio, false));
    }

    @Override
    public Map<String, Integer> counters() {
        Map<String, Integer> m = new LinkedHashMap<>();
        m.put("packets evicted before delivery (per-flow table full)", 0);
        m.put("packets matched only in part (fewer layers)", 1);
        m.put("packets that left LOCAL_OUT and were not seen at the driver", 2);
        m.put("payload bytes of those packets", 3);
        return m;
    }

    @Override
    public String describe(String program) {
        return switch (program) {
            case "nw_pkt_app" -> "TCP send (tcp_sendmsg_locked)";
            case "nw_pkt_sent" -> "end of a send call (sock_send_length)";
            case "nw_pkt_sysenter" -> "UDP send syscalls (sys_enter)";
            case "nw_pkt_queue" -> "qdisc entry (net_dev_queue)";
            case "nw_pkt_start" -> "driver start (net_dev_start_xmit)";
            case "nw_pkt_xmit" -> "driver done (net_dev_xmit)";
            case "nw_pkt_netif_rx" -> "device receive (netif_rx)";
            case "nw_pkt_gro" -> "GRO receive (napi_gro_receive_entry)";
            case "nw_pkt_receive" -> "IP receive (netif_receive_skb)";
            case "nw_pkt_ready" -> "socket queue (sk_data_ready)";
            case "nw_pkt_copy" -> "TCP copy to the application (skb_copy_datagram_iovec)";
            case "nw_pkt_read" -> "UDP read by the application (sock_recv_length)";
            case "nw_pkt_close" -> "TCP close, to forget the socket's state (inet_sock_set_state)";
            default -> program;
        };
    }

    @Override
    public Event decode(ByteBuffer b, int off, int len, DecodeContext ctx) {
        if (Records.type(b, off) == TYPE_ICMP) return decodeIcmp(b, off, ctx);
        boolean rx = b.get(off + DIR) == 1;
        int mask = Byte.toUnsignedInt(b.get(off + LAYER_MASK));
        int[] order = rx ? RX_ORDER : TX_ORDER;
        long[] ns = new long[order.length];
        int m = 0;
        for (int i = 0; i < order.length; i++) {
            if ((mask & (1 << order[i])) != 0) {
                ns[i] = b.getLong(off + LAYER_NS + 8 * order[i]);
                m |= 1 << i;
            }
        }
        int flags = Byte.toUnsignedInt(b.get(off + FLAGS));
        return new PacketEvent(Records.header(b, off, ctx.clock()), Records.flow(b, off), rx ? "rx" : "tx",
                new Layers(rx ? Layers.RX : Layers.TX, ns, m), Integer.toUnsignedLong(b.getInt(off + SEQ)),
                Integer.toUnsignedLong(b.getInt(off + ACK)), b.getInt(off + LEN), b.getInt(off + IFINDEX),
                Byte.toUnsignedInt(b.get(off + TCP_FLAGS)), (flags & 1) != 0, (flags & 2) != 0,
                Byte.toUnsignedInt(b.get(off + ICMP_TYPE)));
    }

    private static Event decodeIcmp(ByteBuffer b, int off, DecodeContext ctx) {
        long[] rx = {b.getLong(off + I_RX_NS), b.getLong(off + I_RX_NS + 8)};
        long[] tx = {b.getLong(off + I_TX_NS), b.getLong(off + I_TX_NS + 8), b.getLong(off + I_TX_NS + 16)};
        return new IcmpEvent(Records.header(b, off, ctx.clock()), Records.flow(b, off),
                Short.toUnsignedInt(b.getShort(off + I_ID)), Short.toUnsignedInt(b.getShort(off + I_SEQ)),
                new Layers(IcmpEvent.RX, rx, Byte.toUnsignedInt(b.get(off + I_RX_MASK))), b.getLong(off + I_ICMP_NS),
                new Layers(IcmpEvent.TX, tx, Byte.toUnsignedInt(b.get(off + I_TX_MASK))), b.getLong(off + I_TOTAL_NS),
                b.getInt(off + I_IFINDEX));
    }

    @Override
    public StructSpec layout() {
        return new StructSpec("packet_event", SIZE, Records.with(Records.commonFields(),
                f("layer_ns", LAYER_NS, 40), f("seq", SEQ, 4), f("ack", ACK, 4), f("len", LEN, 4),
                f("ifindex", IFINDEX, 4), f("dir", DIR, 1), f("layer_mask", LAYER_MASK, 1),
                f("tcp_flags", TCP_FLAGS, 1), f("flags", FLAGS, 1), f("icmp_type", ICMP_TYPE, 1)));
    }

    @Override
    public List<StructSpec> layouts() {
        return List.of(layout(),
                new StructSpec("icmp_event", I_SIZE, Records.with(Records.commonFields(),
                        f("rx_ns", I_RX_NS, 16), f("icmp_ns", I_ICMP_NS, 8), f("tx_ns", I_TX_NS, 24),
                        f("total_ns", I_TOTAL_NS, 8), f("id", I_ID, 2), f("seq", I_SEQ, 2), f("ifindex", I_IFINDEX, 4),
                        f("rx_mask", I_RX_MASK, 1), f("tx_mask", I_TX_MASK, 1))),
                new StructSpec("flow_key", K_SIZE, List.of(f("netns", K_NETNS, 4), f("flow", K_FLOW, 40))),
                new StructSpec("flow_totals", T_SIZE, List.of(f("tx_packets", 0, 8), f("tx_bytes", 8, 8),
                        f("rx_packets", 16, 8), f("rx_bytes", 24, 8))),
                new StructSpec("layer_hist", H_SIZE, List.of(f("buckets", 0, 8 * LayerHistogram.BUCKETS),
                        f("sum_ns", 8 * LayerHistogram.BUCKETS, 8))),
                new StructSpec("packet_count", 16, List.of(f("packets", 0, 8), f("bytes", 8, 8))));
    }

    /** struct layer_hist: the buckets, then sum_ns. */
    static final int H_SIZE = 8 * (LayerHistogram.BUCKETS + 1);
    /** Index order of the kernel's maps: dir (tx, rx) x proto (NW_HIST_PROTOS) x enum nw_layer. */
    private static final String[] DIRS = {"tx", "rx"}, PROTOS = {"tcp", "udp", "icmp"},
            LAYERS = {"transport", "ip", "qdisc", "driver", "socket"};

    /** --metrics: the kernel's per-layer histograms (map layer_hists), empty ones left out. */
    public static List<LayerHistogram> histograms(BpfMap hists) {
        List<LayerHistogram> out = new ArrayList<>();
        for (int d = 0; d < DIRS.length; d++) {
            for (int p = 0; p < PROTOS.length; p++) {
                for (int l = 0; l < LAYERS.length; l++) {
                    long[] w = hists.sumPerCpuWords((d * PROTOS.length + p) * LAYERS.length + l);
                    long[] buckets = java.util.Arrays.copyOf(w, LayerHistogram.BUCKETS);
                    LayerHistogram h = new LayerHistogram(DIRS[d], PROTOS[p], LAYERS[l], buckets, w[LayerHistogram.BUCKETS]);
                    if (h.count() > 0) out.add(h);
                }
            }
        }
        return out;
    }

    /** --metrics: packets and bytes per direction and protocol (map packet_counts). */
    public static List<PacketCount> counts(BpfMap counts) {
        List<PacketCount> out = new ArrayList<>();
        for (int d = 0; d < DIRS.length; d++) {
            for (int p = 0; p < PROTOS.length; p++) {
                long[] w = counts.sumPerCpuWords(d * PROTOS.length + p);
                out.add(new PacketCount(DIRS[d], PROTOS[p], w[0], w[1]));
            }
        }
        return out;
    }
}
