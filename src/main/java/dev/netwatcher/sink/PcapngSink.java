package dev.netwatcher.sink;

import dev.netwatcher.event.Event;
import dev.netwatcher.event.EventHeader;
import dev.netwatcher.event.Frame;
import dev.netwatcher.event.Layers;
import dev.netwatcher.event.PacketEvent;
import dev.netwatcher.event.TcpFlags;

import java.nio.channels.WritableByteChannel;
import java.util.HashMap;
import java.util.Map;

/**
 * -w FILE: every followed packet that came with its bytes, as pcapng. One interface block per
 * (network namespace, device, link type); each packet's direction in epb_flags and, in its
 * comment, who owned it and how long it spent in each layer:
 * <pre>netwatcher: dir=tx pid=812 comm=curl cgroup=/user.slice/... transport_us=4.211 ip_us=1.020 qdisc_us=0.851 driver_us=3.377 total_us=9.459</pre>
 * docs/netwatcher.lua turns those into Wireshark fields (netwatcher.comm, netwatcher.qdisc_us, ...).
 */
public final class PcapngSink implements EventSink {
    /** The comment's first word: what docs/netwatcher.lua looks for. */
    public static final String TAG = "netwatcher:";

    private record Iface(long netns, int ifindex, String name, int link) {}

    private final PcapngWriter out;
    private final int snaplen;
    private final long ownNetns;
    private final Map<Iface, Integer> ifaces = new HashMap<>();
    private final StringBuilder sb = new StringBuilder(256);

    /** ownNetns: this process's network namespace inode (its devices keep their plain names). */
    public PcapngSink(WritableByteChannel file, int snaplen, long ownNetns, String os) {
        this.out = new PcapngWriter(file, os, "netwatcher 0.1.0");
        this.snaplen = snaplen;
        this.ownNetns = ownNetns;
    }

    @Override
    public void accept(Event event) {
        if (!(event instanceof PacketEvent p) || p.frame() == null) return;
        Frame f = p.frame();
        int id = ifaces.computeIfAbsent(new Iface(f.netns(), f.ifindex(), f.ifname(), f.link()), i -> out.addInterface(i.link(), snaplen,
                i.netns() == ownNetns || i.netns() == 0 ? i.name() : i.name() + "@" + i.netns(),
                "netns " + i.netns() + ", ifindex " + i.ifindex()));
        out.packet(id, f.tsNs(), f.data(), f.wireLen(), f.rx() ? PcapngWriter.INBOUND : PcapngWriter.OUTBOUND, comment(p));
    }

    /** The comment of a packet: space-separated key=value, a value with a space, quote, backslash or '=' in double quotes. */
    String comment(PacketEvent p) {
        sb.setLength(0);
        sb.append(TAG).append(" dir=").append(p.dir());
        EventHeader h = p.header();
        if (h.pid() != 0) sb.append(" pid=").append(h.pid()).append(" tid=").append(h.tid());
        if (h.comm() != null && !h.comm().isEmpty()) value("comm", h.comm());
        if (h.cgroup() != null) {
            value("cgroup", h.cgroup().path());
            if (h.cgroup().container() != null) value("container", h.cgroup().container());
            if (h.cgroup().podUid() != null) value("pod_uid", h.cgroup().podUid());
        }
        Layers l = p.layers();
        long total = 0;
        for (int i = 0; i < l.size(); i++) {
            if (!l.has(i)) continue;
            sb.append(' ').append(l.name(i)).append("_us=");
            micros(l.get(i));
            total += l.get(i);
        }
        if (l.mask() != 0) {
            sb.append(" total_us=");
            micros(total);
        }
        if (p.flow().proto() == 6) sb.append(" tcp_flags=").append(TcpFlags.format(p.tcpFlags()));
        if (p.retransmit()) sb.append(" retransmit=1");
        if (p.gsoSegment()) sb.append(" gso_segment=1");
        return sb.toString();
    }

    private void micros(long ns) {
        sb.append(ns / 1000).append('.');
        long frac = ns % 1000;
        if (frac < 100) sb.append('0');
        if (frac < 10) sb.append('0');
        sb.append(frac);
    }

    private void value(String key, String v) {
        sb.append(' ').append(key).append('=');
        boolean plain = !v.isEmpty();
        for (int i = 0; i < v.length() && plain; i++) {
            char c = v.charAt(i);
            plain = c > ' ' && c != '"' && c != '\\' && c != '=' && c != 0x7f;
        }
        if (plain) {
            sb.append(v);
            return;
        }
        sb.append('"');
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c == '"' || c == '\\') sb.append('\\');
            sb.append(c);
        }
        sb.append('"');
    }

    public long packets() {
        return out.packets();
    }

    @Override
    public void flush() {
        out.flush();
    }

    @Override
    public void close() {
        out.close();
    }
}
