package dev.netwatcher.probe;

import java.util.List;

/** Every probe netwatcher has, in the order they are loaded. */
public final class Probes {
    public static final TcpStateProbe TCP_STATE = new TcpStateProbe();
    public static final RetransProbe RETRANS = new RetransProbe();
    public static final DropProbe DROP = new DropProbe();

    /** -k, with the kernel stack of each drop when stacks (--stack). */
    public static DropProbe drops(boolean stacks) {
        return stacks ? new DropProbe(true) : DROP;
    }
    public static final TcpErrorProbe TCP_ERROR = new TcpErrorProbe();
    public static final NetfilterProbe NETFILTER = new NetfilterProbe();
    public static final ProtoProbe PROTO = new ProtoProbe();

    private Probes() {}

    /** -t -u -I share one object; modes is a PacketProbe.MODE_* mask. */
    public static PacketProbe packets(int modes) {
        return new PacketProbe(modes, PacketProbe.Aggregate.NONE, 1);
    }

    /** The same with kernel histograms for --metrics (ALSO) or only them (ONLY: no per-packet records). */
    public static PacketProbe packets(int modes, PacketProbe.Aggregate aggregate) {
        return new PacketProbe(modes, aggregate, 1);
    }

    /** The same following 1 packet in sample (--sample). */
    public static PacketProbe packets(int modes, PacketProbe.Aggregate aggregate, int sample) {
        return new PacketProbe(modes, aggregate, sample);
    }

    /** -x -a --rtt share one object; modes is a ConnProbe mask. */
    public static ConnProbe connections(int modes) {
        return new ConnProbe(modes);
    }

    /** -i --dns share one object; modes is a PayloadProbe mask. A new instance per run: it pairs requests with answers. */
    public static PayloadProbe payload(int modes) {
        return new PayloadProbe(modes);
    }

    /** The same, with HTTP query values shown when fullPaths. */
    public static PayloadProbe payload(int modes, boolean fullPaths) {
        return new PayloadProbe(modes, fullPaths);
    }

    /** owner.bpf.c (socket owners): Session loads it before any other; it has no option of its own. */
    public static final Probe OWNERS = new OwnerProbe();

    /** Every object the jar ships: all() and OWNERS. */
    public static List<Probe> everyObject() {
        List<Probe> every = new java.util.ArrayList<>(all());
        every.add(OWNERS);
        return every;
    }

    public static List<Probe> all() {
        return List.of(TCP_STATE, RETRANS, DROP, TCP_ERROR,
                packets(PacketProbe.MODE_TCP | PacketProbe.MODE_UDP | PacketProbe.MODE_ICMP), NETFILTER,
                connections(ConnProbe.EXTRA | ConnProbe.ALL | ConnProbe.RTT), payload(PayloadProbe.HTTP | PayloadProbe.DNS), PROTO);
    }
}
