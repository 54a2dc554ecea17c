/*
 * The Java event path alone: decode packet_event records (the -t record, 144 bytes) from a
 * direct buffer laid out as the ring buffer holds them, and write each as JSON (or console
 * columns) to a byte-counting sink that discards. One thread, like the consumer.
 *   java --enable-native-access=ALL-UNNAMED -cp 'target/classes:target/lib/*' bench/EventPath.java [json|console|decode] [SECONDS]
 */
import dev.netwatcher.btf.Btf;
import dev.netwatcher.contract.NwEventType;
import dev.netwatcher.contract.NwFlowLayout;
import dev.netwatcher.contract.NwHdrLayout;
import dev.netwatcher.contract.PacketEventLayout;
import dev.netwatcher.event.Event;
import dev.netwatcher.kernel.Clock;
import dev.netwatcher.kernel.KernelNames;
import dev.netwatcher.probe.DecodeContext;
import dev.netwatcher.probe.PacketProbe;
import dev.netwatcher.probe.Probes;
import dev.netwatcher.sink.ConsoleSink;
import dev.netwatcher.sink.EventSink;
import dev.netwatcher.sink.JsonSink;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

public class EventPath {
    static final int SIZE = PacketEventLayout.SIZE, RECORDS = 4096;

    public static void main(String[] args) throws Exception {
        String format = args.length > 0 ? args[0] : "json";
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 5;
        long[] bytes = {0};
        OutputStream devnull = new OutputStream() {
            @Override public void write(int b) { bytes[0]++; }
            @Override public void write(byte[] b, int off, int len) { bytes[0] += len; }
        };
        EventSink sink = switch (format) {
            case "console" -> new ConsoleSink(new PrintStream(devnull, false));
            case "decode" -> new EventSink() { // decode only: keep the event alive, write nothing
                public void accept(Event e) { bytes[0] += e.header().tsNs() & 1; }
                public void flush() {}
                public void close() {}
            };
            default -> new JsonSink(devnull);
        };
        PacketProbe probe = Probes.packets(PacketProbe.MODE_TCP);
        DecodeContext ctx = new DecodeContext(new Clock(), new KernelNames(Btf.kernel()), null);

        // records laid out by the generated contract (bpf/packet.h through dev.netwatcher.contract), not restated
        ByteBuffer b = ByteBuffer.allocateDirect(SIZE * RECORDS).order(ByteOrder.nativeOrder());
        for (int i = 0; i < RECORDS; i++) {
            int o = i * SIZE, h = o + PacketEventLayout.HDR, f = o + PacketEventLayout.FLOW;
            b.putLong(h + NwHdrLayout.TS_NS, 1_000_000_000L + i * 1000L);
            b.putInt(h + NwHdrLayout.TYPE, NwEventType.NW_EV_PACKET);
            b.putInt(h + NwHdrLayout.NETNS, (int) 4026531840L);
            b.putInt(h + NwHdrLayout.PID, 1000 + i % 7);
            b.putInt(h + NwHdrLayout.TID, 1000 + i % 7);
            b.put(h + NwHdrLayout.COMM, "iperf".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, 5);
            b.put(f + NwFlowLayout.SADDR, new byte[] {(byte) 198, 18, 0, 1});
            b.put(f + NwFlowLayout.DADDR, new byte[] {(byte) 198, 18, 0, 2});
            b.putShort(f + NwFlowLayout.SPORT, (short) 40000);
            b.putShort(f + NwFlowLayout.DPORT, (short) 5201);
            b.putShort(f + NwFlowLayout.FAMILY, (short) 2);
            b.put(f + NwFlowLayout.PROTO, (byte) 6);
            for (int l = 0; l < 4; l++) b.putLong(o + PacketEventLayout.LAYER_NS + 8 * l, 1000 + 37L * ((i + l) % 100));
            b.putInt(o + PacketEventLayout.SEQ, i * 1448);
            b.putInt(o + PacketEventLayout.ACK, 1);
            b.putInt(o + PacketEventLayout.LEN, 1448);
            b.putInt(o + PacketEventLayout.IFINDEX, 2);
            b.put(o + PacketEventLayout.DIR, (byte) (i & 1));
            b.put(o + PacketEventLayout.LAYER_MASK, (byte) 0x0f);
            b.put(o + PacketEventLayout.TCP_FLAGS, (byte) 0x10);
        }
        run(probe, ctx, sink, b, 2);                               // warm-up
        long n = run(probe, ctx, sink, b, seconds);
        System.out.printf("%s: %.0f events/s decoded and written on one thread (%.1f MB/s of output)%n",
                format, n / seconds, bytes[0] / 1e6 / (seconds + 2));
    }

    static long run(PacketProbe probe, DecodeContext ctx, EventSink sink, ByteBuffer b, double seconds) {
        long end = System.nanoTime() + (long) (seconds * 1e9), n = 0;
        while (System.nanoTime() < end) {
            for (int i = 0; i < RECORDS; i++) {
                Event e = probe.decode(b, i * SIZE, SIZE, ctx);
                sink.accept(e);
            }
            sink.flush();
            n += RECORDS;
        }
        return n;
    }
}
