package dev.netwatcher.sink;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;

/**
 * The pcapng format (IETF draft-ietf-opsawg-pcapng): one section header, interface
 * description blocks and enhanced packet blocks, in the machine's byte order (the section
 * header's byte-order magic tells readers which). Blocks are built whole in a buffer and
 * written whole by {@link #flush()}, so what reached the file is always a sequence of complete
 * blocks: after Ctrl-C, SIGTERM (the sink is closed) and, up to the last flush, SIGKILL.
 * Timestamps are nanoseconds since the epoch (if_tsresol 9).
 */
public final class PcapngWriter implements AutoCloseable {
    private static final int SHB = 0x0A0D0D0A, IDB = 1, EPB = 6;
    private static final int OPT_END = 0, OPT_COMMENT = 1;
    private static final int SHB_OS = 3, SHB_USERAPPL = 4;
    private static final int IF_NAME = 2, IF_DESCRIPTION = 3, IF_TSRESOL = 9;
    private static final int EPB_FLAGS = 2;
    /** epb_flags direction bits (0-1). */
    public static final int INBOUND = 1, OUTBOUND = 2;
    private static final int FLUSH_AT = 1 << 20;

    private final WritableByteChannel out;
    private ByteBuffer buf = ByteBuffer.allocate(FLUSH_AT + (1 << 16)).order(ByteOrder.nativeOrder());
    private int interfaces;
    private long packets;

    public PcapngWriter(WritableByteChannel out, String os, String application) {
        this.out = out;
        int start = begin(SHB);
        buf.putInt(0x1A2B3C4D).putShort((short) 1).putShort((short) 0).putLong(-1L);
        option(SHB_OS, os);
        option(SHB_USERAPPL, application);
        end(start, true);
        flush();
    }

    /** Adds an interface; returns its id for {@link #packet}. */
    public int addInterface(int linkType, int snaplen, String name, String description) {
        int start = begin(IDB);
        buf.putShort((short) linkType).putShort((short) 0).putInt(snaplen);
        option(IF_NAME, name);
        if (description != null) option(IF_DESCRIPTION, description);
        optionHeader(IF_TSRESOL, 1);
        buf.put((byte) 9).put(new byte[3]);
        end(start, true);
        return interfaces++;
    }

    /** One packet: its bytes (data.length &lt;= wireLen), direction (INBOUND, OUTBOUND, 0) and a comment (or null). */
    public void packet(int iface, long epochNs, byte[] data, int wireLen, int direction, String comment) {
        room(32 + data.length + 3 + (comment == null ? 0 : comment.length() * 3 + 8) + 16);
        int start = begin(EPB);
        buf.putInt(iface).putInt((int) (epochNs >>> 32)).putInt((int) epochNs).putInt(data.length).putInt(Math.max(wireLen, data.length));
        buf.put(data);
        pad(data.length);
        if (comment != null) option(OPT_COMMENT, comment);
        if (direction != 0) {
            optionHeader(EPB_FLAGS, 4);
            buf.putInt(direction);
        }
        end(start, comment != null || direction != 0);
        packets++;
        if (buf.position() >= FLUSH_AT) flush();
    }

    public long packets() {
        return packets;
    }

    /** Writes the complete blocks built so far. */
    public void flush() {
        buf.flip();
        try {
            while (buf.hasRemaining()) out.write(buf);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            buf.clear();
        }
    }

    @Override
    public void close() {
        try {
            flush();
        } finally {
            try {
                out.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private int begin(int type) {
        room(1 << 12);
        int start = buf.position();
        buf.putInt(type).putInt(0); // the length, set by end()
        return start;
    }

    private void end(int start, boolean options) {
        if (options) optionHeader(OPT_END, 0);
        int len = buf.position() - start + 4;
        buf.putInt(len);
        buf.putInt(start + 4, len);
    }

    private void option(int code, String value) {
        byte[] v = value.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(v.length, 0xFFFF - 3);
        room(n + 8);
        optionHeader(code, n);
        buf.put(v, 0, n);
        pad(n);
    }

    private void optionHeader(int code, int len) {
        buf.putShort((short) code).putShort((short) len);
    }

    private void pad(int n) {
        for (int i = n; (i & 3) != 0; i++) buf.put((byte) 0);
    }

    /** Makes room for n more bytes without splitting a block: a bigger buffer, never a partial write. */
    private void room(int n) {
        if (buf.remaining() >= n) return;
        ByteBuffer bigger = ByteBuffer.allocate(Math.max(buf.capacity() * 2, buf.position() + n)).order(ByteOrder.nativeOrder());
        buf.flip();
        bigger.put(buf);
        buf = bigger;
    }
}
