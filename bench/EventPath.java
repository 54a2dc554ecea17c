/*
 * The Java event path alone: decode packet_event records (the -t record, 144 bytes) from a
 * direct buffer laid out as the ring buffer holds them, and write each as JSON (or console
 * columns) to a byte-counting sink that discards. One thread, like the consumer.
 *   java --enable-native-access=ALL-UNNAMED -cp 'target/classes:target/lib/*' bench/EventPath.java [json|console|decode] [SECONDS]
 */
import dev.netwatcher.btf.Btf;
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
    static final int SIZE = 144, RECORDS = 4096;

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

        ByteBuffer b = ByteBuffer.allocateDirect(SIZE * RECORDS).order(ByteOrder.nativeOrder());
        for (int i = 0; i < RECORDS; i++) {
            int o = i * SIZE;
            b.putLong(o, 1_000_000_000L + i * 1000L);          // ts_ns
            b.putInt(o + 8, 5);                                  // NW_EV_PACKET
            b.putInt(o + 12, 4026531840L > 0 ? (int) 4026531840L : 0);
            b.putInt(o + 16, 1000 + i % 7);                      // pid
            b.putInt(o + 20, 1000 + i % 7);
            b.put(o + 24, (byte) 'i'); b.put(o + 25, (byte) 'p'); b.put(o + 26, (byte) 'e'); b.put(o + 27, (byte) 'r');
            int f = o + 40;                                      // flow
            b.put(f, (byte) 198); b.put(f + 1, (byte) 18); b.put(f + 2, (byte) 0); b.put(f + 3, (byte) 1);
            b.put(f + 16, (byte) 198); b.put(f + 17, (byte) 18); b.put(f + 18, (byte) 0); b.put(f + 19, (byte) 2);
            b.putShort(f + 32, (short) 40000); b.putShort(f + 34, (short) 5201);
            b.putShort(f + 36, (short) 2); b.put(f + 38, (byte) 6);
            int body = o + 80;
            for (int l = 0; l < 4; l++) b.putLong(body + 8 * l, 1000 + 37L * ((i + l) % 100));
            b.putInt(body + 40, i * 1448); b.putInt(body + 44, 1); b.putInt(body + 48, 1448); b.putInt(body + 52, 2);
            b.put(body + 56, (byte) (i & 1)); b.put(body + 57, (byte) 0x0f); b.put(body + 58, (byte) 0x10);
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
