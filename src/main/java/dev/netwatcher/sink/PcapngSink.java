package dev.netwatcher.sink;

import dev.netwatcher.event.DropEvent;
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
 * -w FILE: every followed packet (-t -u -I) and every drop (-k) that came with its bytes, as pcapng.
 * One interface block per (network namespace, device, link type); each packet's direction in
 * epb_flags and, in its comment, who owned it and how long it spent in each layer, or why and where
 * the kernel dropped it:
 * <pre>netwatcher: dir=tx pid=812 comm=curl cgroup=/user.slice/... transport_us=4.211 ip_us=1.020 qdisc_us=0.851 driver_us=3.377 total_us=9.459
 * netwatcher: dir=drop drop_reason=NO_SOCKET drop_location=__udp4_lib_rcv+0x4bc</pre>
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
        Frame f;
        String comment;
        if (event instanceof PacketEvent p && p.frame() != null) {
            f = p.frame();
            comment = comment(p);
        } else if (event instanceof DropEvent d && d.frame() != null) {
            f = d.frame();
            comment = comment(d);
        } else {
            return;
        }
        int id = ifaces.computeIfAbsent(new Iface(f.netns(), f.ifindex(), f.ifname(), f.link()), i -> out.addInterface(i.link(), snaplen,
                name(i), "netns " + i.netns() + ", ifindex " + i.ifindex()));
        int direction = switch (f.dir()) {
            case "rx" -> PcapngWriter.INBOUND;
            case "tx" -> PcapngWriter.OUTBOUND;
            default -> 0; // a drop: on its way in or out, the record's reason and location say
        };
        out.packet(id, f.tsNs(), f.data(), f.wireLen(), direction, comment);
    }

    /** "lo" in netwatcher's own namespace, "veth0@4026532417" in another; "(no device)" for a drop before one was set. */
    private String name(Iface i) {
        String n = i.name().isEmpty() ? "(no device)" : i.name();
        return i.netns() == ownNetns || i.netns() == 0 ? n : n + "@" + i.netns();
    }

    /** The comment of a packet: space-separated key=value, a value with a space, quote, backslash or '=' in double quotes. */
    String comment(PacketEvent p) {
        owner(p.dir(), p.header());
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

    /** The comment of a drop: its owner, reason and location. */
    String comment(DropEvent d) {
        owner("drop", d.header());
        value("drop_reason", d.reason());
        value("drop_location", d.location());
        if (d.flow().proto() == 6) sb.append(" tcp_flags=").append(TcpFlags.format(d.tcpFlags()));
        return sb.toString();
    }

    private void owner(String dir, EventHeader h) {
        sb.setLength(0);
        sb.append(TAG).append(" dir=").append(dir);
        if (h.pid() != 0) sb.append(" pid=").append(h.pid()).append(" tid=").append(h.tid());
        if (h.comm() != null && !h.comm().isEmpty()) value("comm", h.comm());
        if (h.cgroup() != null) {
            value("cgroup", h.cgroup().path());
            if (h.cgroup().container() != null) value("container", h.cgroup().container());
            if (h.cgroup().podUid() != null) value("pod_uid", h.cgroup().podUid());
        }
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
