package dev.netwatcher.probe;

import dev.netwatcher.contract.ConnEventLayout;
import dev.netwatcher.contract.IcmpEventLayout;
import dev.netwatcher.contract.NwConnReason;
import dev.netwatcher.contract.NwFlowLayout;
import dev.netwatcher.contract.NwHdrLayout;
import dev.netwatcher.contract.PayloadEventLayout;
import dev.netwatcher.btf.Btf;
import dev.netwatcher.event.Event;
import dev.netwatcher.kernel.Clock;
import dev.netwatcher.kernel.KernelNames;
import dev.netwatcher.sink.ConsoleSink;
import dev.netwatcher.sink.JsonSink;
import dev.netwatcher.sink.LogFileSink;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.netwatcher.contract.NwEventType.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The user-side parsers against hostile input (jqwik): any bytes in a record of any of
 * our event types decode into an event that every sink can render, without an exception;
 * any text given as a CIDR is either a prefix or an IllegalArgumentException.
 */
class DecoderFuzzTest {
    private static final DecodeContext CTX;
    private static final Probe DROP_WITH_STACKS = Probes.drops(true);
    private static final Probe CONN = Probes.connections(ConnProbe.EXTRA | ConnProbe.ALL);
    private static final Path LOGS;

    static {
        try {
            CTX = new DecodeContext(new Clock(), new KernelNames(Btf.kernel()), null);
            LOGS = Files.createTempDirectory("nw-fuzz");
            LOGS.toFile().deleteOnExit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Property(tries = 3000)
    void anyRecordDecodesAndRenders(@ForAll("records") byte[] record) {
        ByteBuffer b = ByteBuffer.allocate(record.length + 16).order(ByteOrder.nativeOrder());
        b.put(8, record);
        int type = NwHdrLayout.type(b, 8);
        Probe p = probeOf(type);
        Event e = p.decode(b, 8, record.length, CTX);
        assertNotNull(e);
        // enum nw_event_type (nw_common.h) -> the event's type; a conn record by its reason (enum nw_conn_reason)
        String want = switch (type) {
            case NW_EV_TCP_STATE -> "tcp_state";
            case NW_EV_RETRANS -> "retrans";
            case NW_EV_DROP -> "drop";
            case NW_EV_TCP_ERROR -> "tcp_error";
            case NW_EV_PACKET -> "packet";
            case NW_EV_ICMP -> "icmp";
            case NW_EV_NETFILTER -> "netfilter";
            case NW_EV_CONN -> ConnEventLayout.reason(b, 8) == NwConnReason.NW_CONN_CLOSED ? "tcp_close" : "tcp_conn";
            default -> throw new AssertionError("type " + type);
        };
        assertEquals(want, e.type());
        ByteArrayOutputStream jsonOut = new ByteArrayOutputStream(), consoleOut = new ByteArrayOutputStream();
        try (JsonSink json = new JsonSink(jsonOut);
             ConsoleSink console = new ConsoleSink(new PrintStream(consoleOut, false, java.nio.charset.StandardCharsets.UTF_8))) {
            json.accept(e);
            console.accept(e);
        }
        // one JSON object on one line, whatever the bytes (a comm or a name with a newline must not break the line)
        String j = jsonOut.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(1, j.lines().count(), j);
        try {
            com.fasterxml.jackson.databind.JsonNode n = new com.fasterxml.jackson.databind.ObjectMapper().readTree(j);
            assertEquals(e.type(), n.get("type").asText(), j);
            assertEquals(e.header().tsNs(), n.get("ts_ns").asLong(), j);
        } catch (IOException x) {
            throw new AssertionError("not JSON: " + j, x);
        }
        // the console: the header line, then the event on exactly one line, its type in the second column
        List<String> lines = consoleOut.toString(java.nio.charset.StandardCharsets.UTF_8).lines().toList();
        assertEquals(2, lines.size(), String.join("\n", lines));
        assertEquals(e.type(), lines.get(1).split(" +")[1], lines.get(1));
    }

    @Property(tries = 200)
    void logFilesTakeAnyRecord(@ForAll("records") byte[] record) {
        ByteBuffer b = ByteBuffer.wrap(record).order(ByteOrder.nativeOrder());
        Event e = probeOf(NwHdrLayout.type(b, 0)).decode(b, 0, record.length, CTX);
        long before = logLines();
        try (LogFileSink logs = new LogFileSink(LOGS)) {
            logs.accept(e);
        }
        // exactly one more line, in the original's type{key="value",...} form
        assertEquals(before + 1, logLines(), "one line per event");
        try (var files = Files.list(LOGS)) {
            assertTrue(files.anyMatch(f -> {
                try {
                    List<String> all = Files.readAllLines(f);
                    return !all.isEmpty() && all.getLast().startsWith(e.type() + "{") && all.getLast().endsWith("}");
                } catch (IOException x) {
                    throw new UncheckedIOException(x);
                }
            }), "a log line of type " + e.type());
        } catch (IOException x) {
            throw new UncheckedIOException(x);
        }
    }

    private static long logLines() {
        try (var files = Files.list(LOGS)) {
            return files.mapToLong(f -> {
                try {
                    return Files.readAllLines(f).size();
                } catch (IOException x) {
                    throw new UncheckedIOException(x);
                }
            }).sum();
        } catch (IOException x) {
            throw new UncheckedIOException(x);
        }
    }

    /** Payload records (type 9) feed the HTTP/DNS pairing: any bytes, in any order, never throw; what pairs renders. */
    @Property(tries = 1000)
    void anyPayloadSequenceIsSafe(@ForAll("payloads") List<byte[]> records) {
        Probe p = Probes.payload(PayloadProbe.HTTP | PayloadProbe.DNS);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonSink json = new JsonSink(out); ConsoleSink console = new ConsoleSink(new PrintStream(out, false))) {
            for (byte[] r : records) {
                Event e = p.decode(ByteBuffer.wrap(r).order(ByteOrder.nativeOrder()), 0, r.length, CTX);
                if (e == null) continue;
                json.accept(e);
                console.accept(e);
            }
        }
    }

    @Provide
    Arbitrary<List<byte[]>> payloads() {
        int size = PayloadEventLayout.SIZE;
        String[] starts = {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "POST /a HTTP/1.0\r\n", "HTTP/1.1 200 OK\r\n",
                "HTTP/1.1 100 Continue\r\n", "HTTP/1.0 9", "GET ", "HTTP/1.", ""};
        Arbitrary<byte[]> one = net.jqwik.api.Combinators.combine(Arbitraries.of(starts),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(600), Arbitraries.integers().between(0, 600),
                Arbitraries.of(1, 2), Arbitraries.of(0, 1), Arbitraries.longs().between(0, 3)).as((start, bytes, captured, kind, egress, cookie) -> {
            ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.nativeOrder());
            b.put(0, bytes, 0, Math.min(bytes.length, size));
            b.putInt(NwHdrLayout.TYPE, NW_EV_PAYLOAD);
            b.putShort(PayloadEventLayout.FLOW + NwFlowLayout.FAMILY, (short) 2);
            b.put(PayloadEventLayout.FLOW + NwFlowLayout.PROTO, (byte) (kind == 2 && egress == 1 ? 6 : 17));
            b.putLong(PayloadEventLayout.COOKIE, cookie);
            b.putShort(PayloadEventLayout.CAPTURED, (short) (int) captured);
            b.put(PayloadEventLayout.EGRESS, (byte) (int) egress);
            b.put(PayloadEventLayout.KIND, (byte) (int) kind);
            byte[] s = start.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
            if (kind == 1) b.put(PayloadEventLayout.DATA, s, 0, Math.min(s.length, PayloadEventLayout.DATA_LEN));
            return b.array();
        });
        return one.list().ofMinSize(1).ofMaxSize(12);
    }

    @Property(tries = 2000)
    void anyCidrTextParsesOrIsRefused(@ForAll("cidrs") String text) {
        try {
            Cidr c = Cidr.parse(text);
            assertTrue(c.prefix() >= 0 && c.prefix() <= (c.family() == 2 ? 32 : 128), text);
        } catch (IllegalArgumentException refused) {
            assertNotNull(refused.getMessage());
        }
    }

    @Provide
    Arbitrary<byte[]> records() {
        // a type our probes produce, then a record of its struct's size (or longer) of random bytes
        return Arbitraries.of(NW_EV_TCP_STATE, NW_EV_RETRANS, NW_EV_DROP, NW_EV_TCP_ERROR, NW_EV_PACKET, NW_EV_ICMP,
                NW_EV_NETFILTER, NW_EV_CONN).flatMap(type -> {
            int size = sizeOf(type);
            return Arbitraries.bytes().array(byte[].class).ofMinSize(size).ofMaxSize(size + 64).map(bytes -> {
                ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder()).putInt(NwHdrLayout.TYPE, type);
                return bytes;
            });
        });
    }

    @Provide
    Arbitrary<String> cidrs() {
        Arbitrary<String> noise = Arbitraries.strings().withChars("0123456789abcdef.:/[]%-x ").ofMaxLength(50);
        Arbitrary<String> v4 = Arbitraries.integers().between(-5, 300).list().ofSize(4)
                .map(l -> String.join(".", l.stream().map(String::valueOf).toList()));
        Arbitrary<String> prefixed = net.jqwik.api.Combinators.combine(v4, Arbitraries.integers().between(-3, 140))
                .as((a, p) -> a + "/" + p);
        return Arbitraries.oneOf(noise, v4, prefixed, Arbitraries.strings().ofMaxLength(30));
    }

    private static Probe probeOf(int type) {
        return switch (type) {
            case NW_EV_TCP_STATE -> Probes.TCP_STATE;
            case NW_EV_RETRANS -> Probes.RETRANS;
            case NW_EV_DROP -> DROP_WITH_STACKS; // decodes both shapes: a drop_event and a drop_stack_event
            case NW_EV_TCP_ERROR -> Probes.TCP_ERROR;
            case NW_EV_PACKET, NW_EV_ICMP -> Probes.packets(PacketProbe.MODE_TCP | PacketProbe.MODE_UDP | PacketProbe.MODE_ICMP);
            case NW_EV_NETFILTER -> Probes.NETFILTER;
            case NW_EV_CONN -> CONN;
            default -> throw new IllegalArgumentException("type " + type);
        };
    }

    private static int sizeOf(int type) {
        return type == NW_EV_ICMP ? IcmpEventLayout.SIZE : probeOf(type).recordSize();
    }
}
