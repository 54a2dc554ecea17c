package dev.netwatcher.probe;

import dev.netwatcher.btf.Btf;
import dev.netwatcher.contract.DropEventLayout;
import dev.netwatcher.contract.NwFlowLayout;
import dev.netwatcher.contract.NwHdrLayout;
import dev.netwatcher.contract.NwTcpErrorKind;
import dev.netwatcher.contract.RetransEventLayout;
import dev.netwatcher.contract.TcpErrorEventLayout;
import dev.netwatcher.contract.TcpStateEventLayout;
import dev.netwatcher.event.DropEvent;
import dev.netwatcher.event.RetransEvent;
import dev.netwatcher.event.TcpErrorEvent;
import dev.netwatcher.event.TcpStateEvent;
import dev.netwatcher.kernel.Clock;
import dev.netwatcher.kernel.Kallsyms;
import dev.netwatcher.kernel.KernelNames;
import org.junit.jupiter.api.Test;

import java.io.StringReader;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DecoderTest {
    static final int OFF = 24; // records do not start at 0 in the ring

    static DecodeContext ctx() throws Exception {
        return new DecodeContext(new Clock(), new KernelNames(Btf.kernel()),
                Kallsyms.parse(new StringReader("ffffffff81000300 T tcp_v4_rcv\n")));
    }

    static ByteBuffer record(int type, int size, int pid, String comm, byte[] saddr, byte[] daddr, int sport, int dport, int family) {
        ByteBuffer b = ByteBuffer.allocate(OFF + size + 8).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(OFF + NwHdrLayout.TS_NS, 123_000_000L).putInt(OFF + NwHdrLayout.TYPE, type)
                .putInt(OFF + NwHdrLayout.NETNS, 0xF0000001).putInt(OFF + NwHdrLayout.PID, pid).putInt(OFF + NwHdrLayout.TID, pid);
        b.put(OFF + NwHdrLayout.COMM, comm.getBytes());
        int fl = OFF + NwHdrLayout.SIZE;
        b.put(fl + NwFlowLayout.SADDR, saddr).put(fl + NwFlowLayout.DADDR, daddr).putShort(fl + NwFlowLayout.SPORT, (short) sport)
                .putShort(fl + NwFlowLayout.DPORT, (short) dport).putShort(fl + NwFlowLayout.FAMILY, (short) family)
                .put(fl + NwFlowLayout.PROTO, (byte) 6);
        return b;
    }

    @Test
    void decodesTcpStateV6WithTask() throws Exception {
        byte[] s = InetAddress.getByName("fd00:198::1").getAddress(), d = InetAddress.getByName("fd00:198::2").getAddress();
        ByteBuffer b = record(1, TcpStateEventLayout.SIZE, 4242, "curl", s, d, 40001, 80, 10);
        b.putLong(OFF + TcpStateEventLayout.SKADDR, 0xffff888012345678L).putLong(OFF + TcpStateEventLayout.OLD_STATE_NS, 1500)
                .putInt(OFF + TcpStateEventLayout.OLDSTATE, 2).putInt(OFF + TcpStateEventLayout.NEWSTATE, 1);
        TcpStateEvent e = (TcpStateEvent) Probes.TCP_STATE.decode(b, OFF, TcpStateEventLayout.SIZE, ctx());
        assertEquals("SYN_SENT", e.oldState());
        assertEquals("ESTABLISHED", e.newState());
        assertEquals(1500, e.oldStateNs());
        assertEquals(InetAddress.getByName("fd00:198::2"), e.flow().daddr());
        assertEquals(40001, e.flow().sport());
        assertEquals(80, e.flow().dport());
        assertEquals("ipv6", e.flow().familyName());
        assertEquals(0xF0000001L, e.header().netns(), "netns is unsigned");
        assertEquals(4242, e.header().pid());
        assertEquals("curl", e.header().comm());
    }

    @Test
    void decodesDropWithSymbolAndNoTask() throws Exception {
        byte[] s = {(byte) 198, 18, 0, 1}, d = {(byte) 198, 18, 0, 2};
        ByteBuffer b = record(3, DropEventLayout.SIZE, 0, "", pad16(s), pad16(d), 65535, 22, 2);
        long noSocket = Btf.kernel().enumValues("skb_drop_reason").entrySet().stream()
                .filter(x -> x.getValue().equals("SKB_DROP_REASON_NO_SOCKET")).findFirst().orElseThrow().getKey();
        b.putLong(OFF + DropEventLayout.LOCATION, 0xffffffff81000391L).putInt(OFF + DropEventLayout.REASON, (int) noSocket)
                .putInt(OFF + DropEventLayout.LEN, 60).putInt(OFF + DropEventLayout.SEQ, 0xfffffff0).put(OFF + DropEventLayout.TCP_FLAGS, (byte) 0x02);
        DropEvent e = (DropEvent) Probes.DROP.decode(b, OFF, DropEventLayout.SIZE, ctx());
        assertEquals("NO_SOCKET", e.reason());
        assertEquals("tcp_v4_rcv+0x91", e.location());
        assertEquals(65535, e.flow().sport(), "ports are unsigned");
        assertEquals(0xfffffff0L, e.seq());
        assertEquals(InetAddress.getByName("198.18.0.2"), e.flow().daddr());
        assertFalse(e.header().hasTask());
        assertNull(e.header().comm());
    }

    @Test
    void decodesRetransAndErrors() throws Exception {
        byte[] s = pad16(new byte[] {10, 0, 0, 1}), d = pad16(new byte[] {10, 0, 0, 2});
        ByteBuffer b = record(2, RetransEventLayout.SIZE, 0, "", s, d, 1, 2, 2);
        b.putInt(OFF + RetransEventLayout.SEQ, 1000).putInt(OFF + RetransEventLayout.END_SEQ, 1100).putInt(OFF + RetransEventLayout.ERR, -105)
                .putInt(OFF + RetransEventLayout.TOTAL_RETRANS, 3).put(OFF + RetransEventLayout.STATE, (byte) 1).put(OFF + RetransEventLayout.CA_STATE, (byte) 4);
        RetransEvent r = (RetransEvent) Probes.RETRANS.decode(b, OFF, RetransEventLayout.SIZE, ctx());
        assertEquals(100, r.len());
        assertEquals("Loss", r.caState());
        assertEquals(-105, r.err());
        assertEquals("ESTABLISHED", r.state());

        ByteBuffer e = record(4, TcpErrorEventLayout.SIZE, 0, "", s, d, 1, 2, 2);
        e.putInt(OFF + TcpErrorEventLayout.KIND, NwTcpErrorKind.NW_ERR_SOCK_ERROR).putInt(OFF + TcpErrorEventLayout.REASON, 111);
        TcpErrorEvent err = (TcpErrorEvent) Probes.TCP_ERROR.decode(e, OFF, TcpErrorEventLayout.SIZE, ctx());
        assertEquals("sock_error", err.kind());
        assertEquals("ECONNREFUSED", err.reason());
        assertNull(err.state());
        e.putInt(OFF + TcpErrorEventLayout.KIND, NwTcpErrorKind.NW_ERR_RST_SENT).putInt(OFF + TcpErrorEventLayout.REASON, 1);
        assertEquals("NO_SOCKET", ((TcpErrorEvent) Probes.TCP_ERROR.decode(e, OFF, TcpErrorEventLayout.SIZE, ctx())).reason());
    }

    @Test
    void unparsedFlowHasNoAddresses() throws Exception {
        ByteBuffer b = record(3, DropEventLayout.SIZE, 0, "", new byte[16], new byte[16], 0, 0, 0);
        b.put(OFF + NwHdrLayout.SIZE + NwFlowLayout.PROTO, (byte) 0);
        DropEvent e = (DropEvent) Probes.DROP.decode(b, OFF, DropEventLayout.SIZE, ctx());
        assertNull(e.flow().saddr());
        assertTrue(e.location().startsWith("0x"), "no symbol below the first one: " + e.location());
    }

    static byte[] pad16(byte[] v4) {
        byte[] a = new byte[16];
        System.arraycopy(v4, 0, a, 0, 4);
        return a;
    }
}
