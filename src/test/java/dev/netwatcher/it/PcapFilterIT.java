package dev.netwatcher.it;

import dev.netwatcher.bpf.BpfObject;
import dev.netwatcher.bpf.PcapFilter;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel's interpreter of compiled pcap-filter expressions (bpf/include/nw_pcap_filter.h)
 * decides as libpcap does: for each expression of the corpus, each packet of the corpus goes
 * through the interpreter in the kernel (src/test/bpf/pcapfilter.bpf.c, BPF_PROG_TEST_RUN) and
 * through libpcap's pcap_offline_filter(), and the decisions must be equal. The packets are IPv4
 * and IPv6, TCP (flags, payload), UDP, ICMP and ICMPv6, fragments (first and later), IPv4 options
 * and an IPv6 extension header.
 */
class PcapFilterIT {
    static final List<String> EXPRESSIONS = List.of(
            "tcp", "udp", "icmp", "icmp6", "ip", "ip6",
            "tcp port 443", "udp port 53", "port 53", "not port 53", "udp and not port 53",
            "host 198.18.0.1", "src host 198.18.0.1", "dst host 198.18.0.2", "net 198.18.0.0/15", "net 10.0.0.0/8",
            "tcp port 443 and net 10.0.0.0/8", "portrange 1000-2000", "tcp portrange 440-450", "src port 40000", "dst port 80",
            "tcp[tcpflags] & tcp-syn != 0", "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn", "tcp[13] == 0x18",
            "icmp[icmptype] == icmp-echo", "icmp6 and ip6[40] == 128",
            "len > 100", "len <= 60", "greater 200", "less 64",
            "ip[6:2] & 0x1fff != 0", "ip[6] & 0x20 != 0", "ip[0] & 0xf > 5", "ip[8] == 64", "ip6[7] == 255",
            "ip6 and tcp", "ip6 host fd00:198::1", "ip6 net fd00:198::/64", "ip6 and udp port 53", "ip6 proto 0",
            "proto 17", "ip proto 1", "tcp and (port 80 or port 443)", "host 198.18.0.1 and (tcp or icmp)",
            "ip multicast", "udp[8:4] == 0x12340100",
            "tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420", // "GET " at the start of the TCP payload
            "ip and (tcp[2:2] > 1000 or udp[2:2] > 1000)", "(ip[2:2] - ((ip[0]&0xf)<<2)) > 100",
            "host 198.18.0.1 or host fd00:198::1", "dst net 198.18.0.0 mask 255.254.0.0",
            // loads beyond the first 128 bytes (nw_pcap_filter.h's NW_PCAP_HDR): read from the packet itself
            "ip[200] == 0", "ip6[300:2] == 0 and udp");

    static byte[] objectElf;
    static final Map<String, byte[]> PACKETS = packets();

    @BeforeAll
    static void elf() throws Exception {
        assertEquals("root", System.getProperty("user.name"), "kernel tests need root (CI runs them as root)");
        try (InputStream in = PcapFilterIT.class.getResourceAsStream("/bpf/pcapfilter.bpf.o")) {
            objectElf = in.readAllBytes();
        }
    }

    /** The kernel's decision: the test object loaded with insns, run on the packet behind an Ethernet header. */
    static boolean kernel(BpfObject o, byte[] ip) {
        return kernel(o, "nw_pcap_test", ip);
    }

    static boolean kernel(BpfObject o, String program, byte[] ip) {
        byte[] frame = new byte[14 + ip.length];
        frame[12] = (byte) ((ip[0] >> 4) == 6 ? 0x86 : 0x08);
        frame[13] = (byte) ((ip[0] >> 4) == 6 ? 0xdd : 0x00);
        frame[0] = 2; // a unicast locally administered destination
        frame[6] = 2;
        System.arraycopy(ip, 0, frame, 14, ip.length);
        int r = o.runOnPacket(program, frame);
        assertTrue(r == 0 || r == 1, "the test program returns 0 or 1, not " + r);
        return r == 1;
    }

    static BpfObject load(byte[] insns) {
        BpfObject o = BpfObject.open("pcapfilter", objectElf);
        o.setRodata("nw_pcap_len", ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(0, insns.length / 8).array());
        byte[] all = new byte[1024 * PcapFilter.INSN_SIZE];
        System.arraycopy(insns, 0, all, 0, insns.length);
        o.setRodata("nw_pcap_insns", all);
        o.load();
        return o;
    }

    @Test
    void theKernelDecidesAsLibpcapDoes() throws Exception {
        int both = 0;
        List<String> wrong = new ArrayList<>();
        for (String expr : EXPRESSIONS) {
            byte[] insns = PcapFilter.compile(expr, 262144);
            int matched = 0;
            try (BpfObject o = load(insns)) {
                for (Map.Entry<String, byte[]> p : PACKETS.entrySet()) {
                    boolean pcap = PcapFilter.offlineMatch(insns, p.getValue());
                    boolean bpf = kernel(o, p.getValue());
                    if (pcap != bpf) wrong.add("'" + expr + "' on " + p.getKey() + ": libpcap " + pcap + ", kernel " + bpf);
                    // the payload options' programs see the first 128 bytes from the IP header: libpcap on those
                    boolean pcap128 = PcapFilter.offlineMatch(insns, p.getValue(), 128);
                    boolean ctx = kernel(o, "nw_pcap_test_ctx", p.getValue());
                    if (pcap128 != ctx) wrong.add("'" + expr + "' on " + p.getKey() + " (cgroup_skb): libpcap on 128 bytes " + pcap128 + ", kernel " + ctx);
                    if (pcap) matched++;
                }
            }
            if (matched > 0 && matched < PACKETS.size()) both++;
        }
        assertEquals(List.of(), wrong);
        // the corpus tells the expressions apart: nearly every one matches some packets and not others
        assertTrue(both >= EXPRESSIONS.size() - 3, both + " of " + EXPRESSIONS.size() + " expressions both match and miss");
    }

    @Test
    void noExpressionMatchesEverything() throws Exception {
        try (BpfObject o = load(new byte[0])) {
            for (byte[] p : PACKETS.values()) assertTrue(kernel(o, p) && kernel(o, "nw_pcap_test_ctx", p));
        }
    }

    @Test
    void aBadExpressionIsLibpcapsOwnMessage() {
        PcapFilter.Invalid e = assertThrows(PcapFilter.Invalid.class, () -> PcapFilter.compile("tcp prot 80", 262144));
        assertTrue(e.getMessage().contains("syntax error"), e.getMessage());
        e = assertThrows(PcapFilter.Invalid.class, () -> PcapFilter.compile("ether host 02:00:00:00:00:01", 262144));
        assertTrue(e.getMessage().contains("ethernet addresses supported only on"), e.getMessage());
        e = assertThrows(PcapFilter.Invalid.class, () -> PcapFilter.compile("port 70000", 262144));
        assertTrue(!e.getMessage().isBlank() && !e.getMessage().contains("\n"), e.getMessage());
    }

    // ------------------------------------------------------------------ the corpus

    static Map<String, byte[]> packets() {
        Map<String, byte[]> m = new LinkedHashMap<>();
        byte[] get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes();
        m.put("v4 tcp syn 198.18.0.1:40000 > 198.18.0.2:443", v4(6, "198.18.0.1", "198.18.0.2", 64, 0, 0, null, tcp(40000, 443, 0x02, new byte[0])));
        m.put("v4 tcp psh-ack GET 198.18.0.2:40001 > 10.1.2.3:80", v4(6, "198.18.0.2", "10.1.2.3", 64, 0, 0, null, tcp(40001, 80, 0x18, get)));
        m.put("v4 tcp ack 10.0.0.5:443 > 198.18.0.1:40000 (1400 B)", v4(6, "10.0.0.5", "198.18.0.1", 63, 0, 0, null, tcp(443, 40000, 0x10, new byte[1400])));
        m.put("v4 tcp syn-ack 10.9.9.9:1500 > 198.19.255.1:2000", v4(6, "10.9.9.9", "198.19.255.1", 64, 0, 0, null, tcp(1500, 2000, 0x12, new byte[0])));
        m.put("v4 udp 198.18.0.1:5353 > 198.18.0.2:53 dns", v4(17, "198.18.0.1", "198.18.0.2", 64, 0, 0, null,
                udp(5353, 53, new byte[] {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0})));
        m.put("v4 udp 198.18.0.2:40000 > 198.18.0.1:9999 (300 B)", v4(17, "198.18.0.2", "198.18.0.1", 64, 0, 0, null, udp(40000, 9999, new byte[300])));
        m.put("v4 udp 198.18.0.3:1000 > 224.0.0.251:5353", v4(17, "198.18.0.3", "224.0.0.251", 255, 0, 0, null, udp(1000, 5353, new byte[20])));
        m.put("v4 icmp echo 198.18.0.1 > 198.18.0.2", v4(1, "198.18.0.1", "198.18.0.2", 64, 0, 0, null, icmp(8, 56)));
        m.put("v4 icmp echo-reply 198.18.0.2 > 198.18.0.1", v4(1, "198.18.0.2", "198.18.0.1", 64, 0, 0, null, icmp(0, 56)));
        m.put("v4 icmp unreachable 10.0.0.1 > 198.18.0.1", v4(1, "10.0.0.1", "198.18.0.1", 64, 0, 0, null, icmp(3, 28)));
        m.put("v4 udp first fragment (MF) 198.18.0.1:7000 > 198.18.0.2:53", v4(17, "198.18.0.1", "198.18.0.2", 64, 0x2000, 0, null, udp(7000, 53, new byte[200])));
        m.put("v4 udp later fragment (offset 1480) 198.18.0.1 > 198.18.0.2", v4(17, "198.18.0.1", "198.18.0.2", 64, 185, 0, null, new byte[120]));
        m.put("v4 tcp with options (router alert) 198.18.0.1:443 > 198.18.0.2:40000", v4(6, "198.18.0.1", "198.18.0.2", 64, 0, 0,
                new byte[] {(byte) 0x94, 4, 0, 0}, tcp(443, 40000, 0x18, new byte[10])));
        m.put("v6 tcp syn [fd00:198::1]:40000 > [fd00:198::2]:443", v6(6, "fd00:198::1", "fd00:198::2", 64, tcp(40000, 443, 0x02, new byte[0])));
        m.put("v6 tcp GET [fd00:198::2]:40002 > [fd00:198::1]:80", v6(6, "fd00:198::2", "fd00:198::1", 64, tcp(40002, 80, 0x18, get)));
        m.put("v6 udp [fd00:198::1]:5353 > [fd00:198::2]:53", v6(17, "fd00:198::1", "fd00:198::2", 255, udp(5353, 53, new byte[30])));
        m.put("v6 udp [fd00:199::7]:1200 > [fd00:198::2]:1300 (500 B)", v6(17, "fd00:199::7", "fd00:198::2", 64, udp(1200, 1300, new byte[500])));
        m.put("v6 icmp6 echo [fd00:198::1] > [fd00:198::2]", v6(58, "fd00:198::1", "fd00:198::2", 64, icmp(128, 56)));
        m.put("v6 icmp6 echo-reply [fd00:198::2] > [fd00:198::1]", v6(58, "fd00:198::2", "fd00:198::1", 64, icmp(129, 56)));
        byte[] hbh = new byte[8 + 20];
        hbh[0] = 6; // next header TCP, hop-by-hop header of 8 bytes (PadN)
        hbh[2] = 1;
        hbh[3] = 4;
        System.arraycopy(tcp(40000, 443, 0x02, new byte[0]), 0, hbh, 8, 20);
        m.put("v6 hop-by-hop then tcp syn [fd00:198::1]:40000 > [fd00:198::2]:443", v6(0, "fd00:198::1", "fd00:198::2", 64, hbh));
        byte[] frag = new byte[8 + 8 + 100];
        frag[0] = 17; // fragment header: next UDP, offset 0, M set
        frag[3] = 1;
        System.arraycopy(udp(6000, 53, new byte[100]), 0, frag, 8, 108);
        m.put("v6 fragment header then udp [fd00:198::1]:6000 > [fd00:198::2]:53", v6(44, "fd00:198::1", "fd00:198::2", 64, frag));
        m.put("v4 tcp ack, truncated to its IP header", java.util.Arrays.copyOf(
                v4(6, "198.18.0.1", "198.18.0.2", 64, 0, 0, null, tcp(40000, 443, 0x10, new byte[0])), 20));
        return m;
    }

    static byte[] v4(int proto, String src, String dst, int ttl, int frag, int id, byte[] options, byte[] payload) {
        int hl = 20 + (options == null ? 0 : options.length);
        ByteBuffer b = ByteBuffer.allocate(hl + payload.length);
        b.put((byte) (0x40 | hl / 4)).put((byte) 0).putShort((short) (hl + payload.length)).putShort((short) id)
                .putShort((short) frag).put((byte) ttl).put((byte) proto).putShort((short) 0)
                .put(addr(src)).put(addr(dst));
        if (options != null) b.put(options);
        return b.put(payload).array();
    }

    static byte[] v6(int next, String src, String dst, int hops, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(40 + payload.length);
        b.putInt(0x60000000).putShort((short) payload.length).put((byte) next).put((byte) hops).put(addr(src)).put(addr(dst));
        return b.put(payload).array();
    }

    static byte[] tcp(int sport, int dport, int flags, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(20 + payload.length);
        b.putShort((short) sport).putShort((short) dport).putInt(1000).putInt(flags == 0x02 ? 0 : 2000)
                .put((byte) 0x50).put((byte) flags).putShort((short) 64240).putShort((short) 0).putShort((short) 0);
        return b.put(payload).array();
    }

    static byte[] udp(int sport, int dport, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(8 + payload.length);
        b.putShort((short) sport).putShort((short) dport).putShort((short) (8 + payload.length)).putShort((short) 0);
        return b.put(payload).array();
    }

    static byte[] icmp(int type, int payload) {
        ByteBuffer b = ByteBuffer.allocate(8 + payload);
        b.put((byte) type).put((byte) 0).putShort((short) 0).putShort((short) 7).putShort((short) 1);
        return b.array();
    }

    static byte[] addr(String a) {
        try {
            return InetAddress.getByName(a).getAddress();
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
