package dev.netwatcher.probe;

import dev.netwatcher.contract.IcmpEventLayout;
import dev.netwatcher.contract.LayerHistLayout;
import dev.netwatcher.contract.NfInetHooks;
import dev.netwatcher.contract.NwAggregate;
import dev.netwatcher.contract.NwDir;
import dev.netwatcher.contract.NwHistProto;
import dev.netwatcher.contract.NwPacketCounter;
import dev.netwatcher.contract.NwPacketMode;
import dev.netwatcher.contract.NwPktFlag;
import dev.netwatcher.contract.PacketCountLayout;
import dev.netwatcher.contract.PacketEventLayout;
import dev.netwatcher.bpf.BpfMap;
import dev.netwatcher.bpf.BpfObject;
import dev.netwatcher.bpf.NetfilterHook;
import dev.netwatcher.event.Event;
import dev.netwatcher.event.FlowTotal;
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

import static dev.netwatcher.contract.NwEventType.NW_EV_CAPTURE;
import static dev.netwatcher.contract.NwEventType.NW_EV_ICMP;
import static dev.netwatcher.contract.NwEventType.NW_EV_PACKET;
import static dev.netwatcher.contract.NwLayer.*;

/**
 * -t -u -I: struct packet_event and struct icmp_event (bpf/packet.h). One object
 * serves the three options; nw_modes in .rodata says which protocols it follows.
 */
public final class PacketProbe implements Probe {
    /** -t, -u, -I: the kernel's enum nw_packet_mode. */
    public static final int MODE_TCP = NwPacketMode.NW_MODE_TCP, MODE_UDP = NwPacketMode.NW_MODE_UDP,
            MODE_ICMP = NwPacketMode.NW_MODE_ICMP;
    /** Layers in path order, as enum nw_layer indexes of layer_ns[]. */
    private static final int[] TX_ORDER = {NW_L_TRANSPORT, NW_L_IP, NW_L_QDISC, NW_L_DRIVER};
    private static final int[] RX_ORDER = {NW_L_DRIVER, NW_L_IP, NW_L_TRANSPORT, NW_L_SOCKET};

    /** nw_aggregate: records only, records and kernel histograms, histograms only (enum nw_aggregate). */
    public enum Aggregate {
        NONE(NwAggregate.NW_AGG_NONE), ALSO(NwAggregate.NW_AGG_ALSO), ONLY(NwAggregate.NW_AGG_ONLY);

        final int kernel;

        Aggregate(int kernel) {
            this.kernel = kernel;
        }
    }

    private final int modes;
    private final Aggregate aggregate;
    private final int sample;
    private final int snaplen;
    private final boolean sendSyscalls;
    private final Captures captures = new Captures();

    /** sample: nw_sample, 1 packet in sample is followed (bpf/packet.bpf.c sampled()). */
    public PacketProbe(int modes, Aggregate aggregate, int sample) {
        this(modes, aggregate, sample, 0, false);
    }

    private PacketProbe(int modes, Aggregate aggregate, int sample, int snaplen, boolean sendSyscalls) {
        this.modes = modes;
        this.aggregate = aggregate;
        this.sample = Math.max(1, sample);
        this.snaplen = snaplen;
        this.sendSyscalls = sendSyscalls;
    }

    /** -w: the same, with each followed packet's first snaplen bytes in its record's frame (bpf/packet_capture.bpf.h). */
    public PacketProbe capturing(int snaplen) {
        if (snaplen <= 0) throw new IllegalArgumentException("snaplen " + snaplen);
        return new PacketProbe(modes, aggregate, sample, snaplen, sendSyscalls);
    }

    /**
     * --udp-send-syscalls: the UDP send mark at the send system calls' tracepoints, for every send,
     * instead of fentry or the cgroup hooks (bpf/packet_tx_app.bpf.h).
     */
    public PacketProbe markingSendSyscalls() {
        return new PacketProbe(modes, aggregate, sample, snaplen, true);
    }

    /**
     * Where the cgroup hooks mark UDP sends (no fentry), a connected socket's sends have no mark:
     * said once at the start, since it is the kernel's limit, not the user's filter.
     */
    @Override
    public String loadNote(List<String> programs) {
        if (!programs.contains("nw_pkt_usnd4")) return null;
        return option() + ": datagrams sent on connected UDP sockets have no transport time here (this kernel runs no "
                + "fentry/udp_sendmsg); --udp-send-syscalls times them at the send system calls, which slows every system "
                + "call of every process while netwatcher runs";
    }

    /** The cgroup sock_addr programs of the UDP send mark and the sockops close are attached to the cgroup root. */
    @Override
    public boolean cgroupHook(String program) {
        return program.equals("nw_pkt_usnd4") || program.equals("nw_pkt_usnd6") || program.equals("nw_pkt_sops");
    }

    /** -w --snaplen, 0 without -w. */
    public int snaplen() {
        return snaplen;
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

    @Override public int eventType() { return NW_EV_PACKET; }
    @Override public int[] eventTypes() { return new int[] {NW_EV_PACKET, NW_EV_ICMP, NW_EV_CAPTURE}; }

    @Override
    public Map<String, byte[]> rodata() {
        return Map.of("nw_modes", Probe.u32(modes), "nw_aggregate", Probe.u32(aggregate.kernel),
                "nw_sample", Probe.u32(sample), "nw_snaplen", Probe.u32(snaplen));
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
            // the UDP send mark: fentry or the cgroup hooks, or the send system calls (--udp-send-syscalls)
            case "nw_pkt_usnd4", "nw_pkt_usnd6", "nw_pkt_usnd4_p1", "nw_pkt_usnd6_p1" -> (modes & MODE_UDP) != 0 && !sendSyscalls;
            case "nw_pkt_usys", "nw_pkt_usys_f1" -> (modes & MODE_UDP) != 0 && sendSyscalls;
            case "nw_pkt_copy", "nw_pkt_close", "nw_pkt_sops" -> (modes & MODE_TCP) != 0;
            case "nw_pkt_read" -> (modes & MODE_UDP) != 0;
            // stand-ins for nw_pkt_sent on kernels without sock_send_length (Fallbacks)
            case "nw_pkt_sent_f1" -> (modes & MODE_TCP) != 0;
            case "nw_pkt_sent_f2", "nw_pkt_sent_f3" -> (modes & MODE_UDP) != 0;
            case "nw_pkt_ready" -> (modes & (MODE_TCP | MODE_UDP)) != 0;
            default -> true;
        };
    }

    /** nw_pkt_usys is attached to each send system call's tracepoint: its section names the first. */
    @Override
    public List<String> moreTracepoints(String program) {
        return program.equals("nw_pkt_usys") ? List.of("syscalls/sys_enter_sendmsg", "syscalls/sys_enter_sendmmsg") : List.of();
    }

    @Override
    public List<NetfilterHook> netfilterHooks(String program) {
        // LOCAL_OUT first (the packet has just left TCP/UDP/ICMP) and LOCAL_IN last
        // (it is about to enter them), for IPv4 and IPv6.
        int hook, prio;
        switch (program) {
            // one step inside -n's programs, which hold the outermost priorities
            case "nw_pkt_out" -> { hook = NfInetHooks.NF_INET_LOCAL_OUT; prio = Integer.MIN_VALUE + 2; }
            case "nw_pkt_in" -> { hook = NfInetHooks.NF_INET_LOCAL_IN; prio = Integer.MAX_VALUE - 2; }
            default -> { return List.of(); }
        }
        return List.of(new NetfilterHook(NetfilterHook.PF_INET, hook, prio, false),
                new NetfilterHook(NetfilterHook.PF_INET6, hook, prio, false));
    }

    @Override
    public Map<String, Integer> counters() {
        Map<String, Integer> m = new LinkedHashMap<>();
        m.put("packets evicted before delivery (per-flow table full)", NwPacketCounter.NW_C_EVICTED);
        m.put("packets matched only in part (fewer layers)", NwPacketCounter.NW_C_UNMATCHED);
        m.put("packets that left LOCAL_OUT and were not seen at the driver", NwPacketCounter.NW_C_UNFINISHED);
        m.put("payload bytes of those packets", NwPacketCounter.NW_C_UNFINISHED_BYTES);
        m.put("datagrams read without a record (their sk_data_ready or read ran no BPF)", NwPacketCounter.NW_C_RX_UNSEEN);
        m.put("packets received without their device time (the device tracepoints ran no BPF)", NwPacketCounter.NW_C_RX_NO_DEVICE);
        if (snaplen > 0) m.put("frames not captured (ring buffer full)", NwPacketCounter.NW_C_CAPTURE_LOST);
        return m;
    }

    @Override
    public Map<String, Long> decoderCounters() {
        return snaplen > 0 ? Map.of("frames whose packet had no record (dropped later, or its record lost)", captures.orphans()) : Map.of();
    }

    @Override
    public String describe(String program) {
        return switch (program) {
            case "nw_pkt_app" -> "TCP send (tcp_sendmsg_locked)";
            case "nw_pkt_sent" -> "end of a send call (sock_send_length)";
            case "nw_pkt_usys" -> "UDP send system calls (syscalls/sys_enter_sendto, _sendmsg, _sendmmsg)";
            case "nw_pkt_usnd4" -> "UDP send (cgroup/sendmsg4)";
            case "nw_pkt_usnd6" -> "UDP send over IPv6 (cgroup/sendmsg6)";
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
            case "nw_pkt_sops" -> "TCP close, to count a connection's last packets if the driver's tracepoints missed them (sockops)";
            default -> program;
        };
    }

    @Override
    public Event decode(ByteBuffer b, int off, int len, DecodeContext ctx) {
        int type = Records.type(b, off);
        if (type == NW_EV_CAPTURE) {
            captures.put(b, off, len, ctx);
            return null;
        }
        if (type == NW_EV_ICMP) return decodeIcmp(b, off, ctx);
        boolean rx = PacketEventLayout.dir(b, off) == NwDir.NW_DIR_RX;
        int mask = PacketEventLayout.layerMask(b, off);
        int[] order = rx ? RX_ORDER : TX_ORDER;
        long[] ns = new long[order.length];
        int m = 0;
        for (int i = 0; i < order.length; i++) {
            if ((mask & (1 << order[i])) != 0) {
                ns[i] = PacketEventLayout.layerNs(b, off, order[i]);
                m |= 1 << i;
            }
        }
        int flags = PacketEventLayout.flags(b, off);
        return new PacketEvent(Records.header(b, off, ctx), Records.flow(b, off), rx ? "rx" : "tx",
                new Layers(rx ? Layers.RX : Layers.TX, ns, m), Integer.toUnsignedLong(PacketEventLayout.seq(b, off)),
                Integer.toUnsignedLong(PacketEventLayout.ack(b, off)), PacketEventLayout.len(b, off), PacketEventLayout.ifindex(b, off), PacketEventLayout.tcpFlags(b, off),
                (flags & NwPktFlag.NW_PKT_RETRANS) != 0, (flags & NwPktFlag.NW_PKT_GSO_SEG) != 0, PacketEventLayout.icmpType(b, off),
                snaplen > 0 ? captures.take(PacketEventLayout.capKey(b, off)) : null);
    }

    private static Event decodeIcmp(ByteBuffer b, int off, DecodeContext ctx) {
        long[] rx = new long[IcmpEventLayout.RX_NS_LEN], tx = new long[IcmpEventLayout.TX_NS_LEN];
        for (int i = 0; i < rx.length; i++) rx[i] = IcmpEventLayout.rxNs(b, off, i);
        for (int i = 0; i < tx.length; i++) tx[i] = IcmpEventLayout.txNs(b, off, i);
        return new IcmpEvent(Records.header(b, off, ctx), Records.flow(b, off), IcmpEventLayout.id(b, off), IcmpEventLayout.seq(b, off),
                new Layers(IcmpEvent.RX, rx, IcmpEventLayout.rxMask(b, off)), IcmpEventLayout.icmpNs(b, off),
                new Layers(IcmpEvent.TX, tx, IcmpEventLayout.txMask(b, off)), IcmpEventLayout.totalNs(b, off), IcmpEventLayout.ifindex(b, off));
    }

    @Override
    public int recordSize() {
        return PacketEventLayout.SIZE;
    }

    /** Index order of the kernel's maps: dir (tx, rx) x proto (NW_HIST_PROTOS) x enum nw_layer. */
    private static final String[] DIRS = new String[2], PROTOS = new String[NwHistProto.NW_HIST_PROTOS],
            LAYERS = new String[NW_L_COUNT];

    static {
        DIRS[NwDir.NW_DIR_TX] = "tx";
        DIRS[NwDir.NW_DIR_RX] = "rx";
        PROTOS[NwHistProto.NW_HP_TCP] = "tcp";
        PROTOS[NwHistProto.NW_HP_UDP] = "udp";
        PROTOS[NwHistProto.NW_HP_ICMP] = "icmp";
        LAYERS[NW_L_TRANSPORT] = "transport";
        LAYERS[NW_L_IP] = "ip";
        LAYERS[NW_L_QDISC] = "qdisc";
        LAYERS[NW_L_DRIVER] = "driver";
        LAYERS[NW_L_SOCKET] = "socket";
    }

    /** -t/-u: packets and bytes per flow so far (map flow_totals). */
    List<FlowTotal> flowTotals(BpfObject obj) {
        List<FlowTotal> out = new ArrayList<>();
        BpfMap m = obj.map("flow_totals");
        for (byte[] key : m.keys()) m.lookup(key).ifPresent(v -> out.add(FlowTotals.decode(key, v)));
        return out;
    }

    /** --metrics: the kernel's per-layer histograms (map layer_hists), empty ones left out; none without --metrics. */
    List<LayerHistogram> histograms(BpfObject obj) {
        if (aggregate == Aggregate.NONE) return List.of();
        BpfMap hists = obj.map("layer_hists");
        List<LayerHistogram> out = new ArrayList<>();
        for (int d = 0; d < DIRS.length; d++) {
            for (int p = 0; p < PROTOS.length; p++) {
                for (int l = 0; l < LAYERS.length; l++) {
                    long[] w = hists.sumPerCpuWords((d * PROTOS.length + p) * LAYERS.length + l);
                    long[] buckets = java.util.Arrays.copyOf(w, LayerHistLayout.BUCKETS_LEN);
                    LayerHistogram h = new LayerHistogram(DIRS[d], PROTOS[p], LAYERS[l], buckets,
                            w[LayerHistLayout.SUM_NS / 8]);
                    if (h.count() > 0) out.add(h);
                }
            }
        }
        return out;
    }

    /** --metrics: packets and bytes per direction and protocol (map packet_counts); none without --metrics. */
    List<PacketCount> counts(BpfObject obj) {
        if (aggregate == Aggregate.NONE) return List.of();
        BpfMap counts = obj.map("packet_counts");
        List<PacketCount> out = new ArrayList<>();
        for (int d = 0; d < DIRS.length; d++) {
            for (int p = 0; p < PROTOS.length; p++) {
                long[] w = counts.sumPerCpuWords(d * PROTOS.length + p);
                out.add(new PacketCount(DIRS[d], PROTOS[p], w[PacketCountLayout.PACKETS / 8], w[PacketCountLayout.BYTES / 8]));
            }
        }
        return out;
    }
}
