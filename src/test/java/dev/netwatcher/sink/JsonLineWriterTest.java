package dev.netwatcher.sink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The event path's JSON encoder, read back by Jackson's parser: every string and number survives. */
class JsonLineWriterTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    @Provide
    Arbitrary<String> anyText() {
        // every char, lone surrogates and controls included, and the characters JSON escapes, often
        return Arbitraries.oneOf(Arbitraries.strings().all().ofMaxLength(40),
                Arbitraries.strings().withChars("\"\\\n\r\t\b\f\u0000\u001f\u007f\u00e9\u20ac\ud83d\ude00/").ofMaxLength(20),
                Arbitraries.strings().ascii().ofMaxLength(100_000));
    }

    @Provide
    Arbitrary<String> keyText() { // Jackson's parser refuses names over 50,000 chars
        return Arbitraries.oneOf(Arbitraries.strings().all().ofMaxLength(40),
                Arbitraries.strings().withChars("\"\\\n\u0000\u00e9\ud83d\ude00").ofMaxLength(20));
    }

    /** What Jackson's parser reads for a Java string written as UTF-8 (a lone surrogate becomes U+FFFD). */
    private static String expected(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                b.append(c).append(s.charAt(++i));
            } else {
                b.append(Character.isSurrogate(c) ? '\ufffd' : c);
            }
        }
        return b.toString();
    }

    @Property(tries = 300)
    void stringsAndNumbersReadBackAsWritten(@ForAll("keyText") String key, @ForAll("anyText") String value,
                                            @ForAll long n, @ForAll long ts, @ForAll("anyText") String element) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        JsonLineWriter w = new JsonLineWriter(out);
        for (int line = 0; line < 2; line++) { // twice: the second line comes from the caches
            w.startObject();
            w.key("k");
            w.string(value);
            w.key("r");
            w.recurringString(value);
            w.freshKey(key);
            w.number(n);
            w.key("ts");
            w.timestamp(Math.abs(ts == Long.MIN_VALUE ? 0 : ts));
            w.key("ns");
            w.recurringNumber(n, 0);
            w.key("nested");
            w.startObject();
            w.key("a");
            w.nul();
            w.key("b");
            w.startArray();
            w.string(element);
            w.number(n);
            w.startObject();
            w.endObject();
            w.endArray();
            w.endObject();
            w.key("after");
            w.number(line);
            w.endObject();
            w.endLine();
        }
        w.flush();
        String[] lines = out.toString(StandardCharsets.UTF_8).split("\n", -1);
        assertEquals(3, lines.length, "two lines and nothing after the last newline");
        for (int line = 0; line < 2; line++) {
            JsonNode o = MAPPER.readTree(lines[line]);
            assertEquals(expected(value), o.get("k").asText());
            assertEquals(expected(value), o.get("r").asText());
            assertEquals(n, o.get(expected(key)).asLong(), lines[line]);
            assertEquals(Math.abs(ts == Long.MIN_VALUE ? 0 : ts), o.get("ts").asLong());
            assertEquals(n, o.get("ns").asLong());
            assertTrue(o.get("nested").get("a").isNull());
            JsonNode b = o.get("nested").get("b");
            assertEquals(List.of(expected(element), n), List.of(b.get(0).asText(), b.get(1).asLong()));
            assertTrue(b.get(2).isObject() && b.get(2).isEmpty());
            assertEquals(line, o.get("after").asInt());
        }
    }

    @Test
    void numbersAtTheEdgesOfEachDigitCount() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        JsonLineWriter w = new JsonLineWriter(out);
        w.startArray();
        StringBuilder expected = new StringBuilder("[");
        for (long p = 1; p > 0 && p <= Long.MAX_VALUE / 10 * 10; p *= 10) {
            for (long v : new long[] {p - 1, p, p + 1, -p, -(p - 1)}) {
                w.number(v);
                expected.append(v).append(',');
            }
            if (p > Long.MAX_VALUE / 10) break;
        }
        for (long v : new long[] {Long.MAX_VALUE, Long.MIN_VALUE, 0, 999_999_999, 1_000_000_000, 1_000_000_000_000_000_000L}) {
            w.number(v);
            expected.append(v).append(',');
        }
        w.timestamp(1_796_645_793_000_000_007L);
        w.timestamp(1_796_645_793_120_000_000L);
        w.timestamp(1_796_645_794_000_000_000L);
        w.timestamp(5);
        expected.append("1796645793000000007,1796645793120000000,1796645794000000000,5]");
        w.endArray();
        w.endLine();
        w.flush();
        assertEquals(expected + "\n", out.toString(StandardCharsets.US_ASCII));
    }

    @Test
    void linesLongerThanTheBufferAreWrittenWhole() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        JsonLineWriter w = new JsonLineWriter(out);
        String big = "x".repeat(200_000);
        for (int i = 0; i < 3; i++) {
            w.startObject();
            w.key("big");
            w.recurringString(big);
            w.key("i");
            w.number(i);
            w.endObject();
            w.endLine();
        }
        w.flush();
        String[] lines = out.toString(StandardCharsets.US_ASCII).split("\n");
        assertEquals(3, lines.length);
        for (int i = 0; i < 3; i++) {
            JsonNode o = MAPPER.readTree(lines[i]);
            assertEquals(big, o.get("big").asText());
            assertEquals(i, o.get("i").asInt());
        }
    }
}
