package dev.netwatcher.protocol;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Packets as the protocol documentation lays them out; random and cut bytes never throw. */
class MysqlTest {
    private static byte[] packet(int seq, byte[] payload) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.write(payload.length & 0xff);
        o.write(payload.length >> 8 & 0xff);
        o.write(payload.length >> 16 & 0xff);
        o.write(seq);
        o.writeBytes(payload);
        return o.toByteArray();
    }

    private static byte[] cat(int first, byte[] rest) {
        byte[] b = new byte[rest.length + 1];
        b[0] = (byte) first;
        System.arraycopy(rest, 0, b, 1, rest.length);
        return b;
    }

    @Test
    void commands() {
        byte[] q = packet(0, cat(0x03, "SELECT 1\n".getBytes(StandardCharsets.UTF_8)));
        Mysql.Command c = Mysql.command(q, q.length).orElseThrow();
        assertEquals("query", c.name());
        assertEquals("SELECT 1 ", c.query(), "a control character becomes a space");
        assertTrue(c.answered());
        byte[] exec = packet(0, new byte[] {0x17, 7, 1, 0, 0, 0, 1, 0, 0, 0});
        assertEquals(263, Mysql.command(exec, exec.length).orElseThrow().stmtId());
        byte[] quit = packet(0, new byte[] {0x01});
        assertFalse(Mysql.command(quit, quit.length).orElseThrow().answered(), "COM_QUIT gets no answer");
        byte[] answerShaped = packet(1, new byte[] {0x03, 'x'});
        assertTrue(Mysql.command(answerShaped, answerShaped.length).isEmpty(), "sequence 1 is an answer");
    }

    @Test
    void aLongQueryIsCut() {
        String long1 = "SELECT '" + "x".repeat(1000) + "'";
        byte[] q = packet(0, cat(0x03, long1.getBytes(StandardCharsets.UTF_8)));
        String got = Mysql.command(q, 300).orElseThrow().query();
        assertTrue(got.endsWith("…") && got.length() <= Mysql.QUERY_MAX + 1, got);
    }

    @Test
    void answers() {
        byte[] ok = packet(1, new byte[] {0, 0, 0, 2, 0, 0, 0});
        assertEquals("ok", Mysql.answer(ok, ok.length).orElseThrow().outcome());
        byte[] err = packet(1, cat(0xff, cat(0x7a, cat(0x04, "#42S02Table 'mysql.nosuch' doesn't exist".getBytes(StandardCharsets.UTF_8)))));
        Mysql.Answer e = Mysql.answer(err, err.length).orElseThrow();
        assertEquals("error", e.outcome());
        assertEquals(1146, e.errorCode());
        assertEquals("Table 'mysql.nosuch' doesn't exist", e.error());
        byte[] rs = packet(1, new byte[] {3});
        assertEquals(3, Mysql.answer(rs, rs.length).orElseThrow().columns());
        byte[] wide = packet(1, new byte[] {(byte) 0xfc, 0x2c, 0x01});
        assertEquals(300, Mysql.answer(wide, wide.length).orElseThrow().columns());
        byte[] eof = packet(1, new byte[] {(byte) 0xfe, 0, 0, 2, 0});
        assertEquals("eof", Mysql.answer(eof, eof.length).orElseThrow().outcome());
    }

    @Property(tries = 3000)
    void randomBytesNeverThrow(@ForAll @Size(max = 600) byte[] d) {
        for (int n = 0; n <= d.length; n += 7) {
            Mysql.command(d, n);
            Mysql.answer(d, n);
        }
        if (d.length > 4) {
            d[3] = (byte) (d.length % 2);
            Mysql.command(d, d.length);
            Mysql.answer(d, d.length);
        }
    }
}
