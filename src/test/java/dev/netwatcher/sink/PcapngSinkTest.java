package dev.netwatcher.sink;

import dev.netwatcher.event.Cgroup;
import dev.netwatcher.event.EventHeader;
import dev.netwatcher.event.Flow;
import dev.netwatcher.event.Frame;
import dev.netwatcher.event.Layers;
import dev.netwatcher.event.PacketEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PcapngSink and PcapngWriter read back by tshark with docs/netwatcher.lua, without the kernel: a frame
 * cut short (captured &lt; on the wire), two namespaces' interfaces, a comm with a space, a quote, a
 * backslash and '=' (the comment's quoting and the Lua parser agree), exact layer times, the time stamp
 * to the nanosecond, the direction flags. The block a SIGKILL can cut is the last one: a file with a
 * partial block at its end still yields every complete one (tshark says the file was cut short).
 */
class PcapngSinkTest {
    @TempDir
    Path tmp;

    static final long OWN = 4026531840L, OTHER = 4026532417L;

    static PacketEvent packet(String dir, long ts, long netns, String comm, byte[] bytes, int wire) throws Exception {
        Flow f = new Flow(Flow.AF_INET, 17, InetAddress.getByName("198.18.0.1"), 7401, InetAddress.getByName("198.18.0.2"), 7402);
        EventHeader h = new EventHeader(ts, netns, 4242, 4243, comm, new Cgroup("/system.slice/x.service"));
        Layers l = dir.equals("tx") ? new Layers(Layers.TX, new long[] {1_500, 2_001, 0, 30_999}, 0b1011)
                : new Layers(Layers.RX, new long[] {4_000, 1_000, 500, 123_456_789}, 0b1111);
        Frame fr = new Frame(ts, netns, 3, "veth0", dir, 101, wire, bytes);
        return new PacketEvent(h, f, dir, l, 0, 0, bytes.length - 28, 3, 0, false, false, 0, fr);
    }

    @Test
    void tsharkReadsWhatTheSinkWrote() throws Exception {
        Path file = tmp.resolve("t.pcapng");
        byte[] ip = HexFormat.of().parseHex("4500002c000040004011000ac6120001c612000200000000000000000102030405060708090a0b0c0d0e0f10");
        String comm = "a \"b\" c=d\\e";
        long ts = 1_765_000_000_123_456_789L;
        try (PcapngSink sink = new PcapngSink(FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), 262144, OWN, "Linux test")) {
            sink.accept(packet("tx", ts, OWN, comm, ip, ip.length));
            sink.accept(packet("rx", ts + 1, OTHER, "python3", java.util.Arrays.copyOf(ip, 30), 1500));
            assertEquals(2, sink.packets());
        }
        List<String> rows = tshark(file, "frame.interface_name", "frame.time_epoch", "frame.len", "frame.cap_len", "frame.p2p_dir",
                "frame.comment", "netwatcher.comm", "netwatcher.dir", "netwatcher.pid", "netwatcher.ip_us", "netwatcher.driver_us",
                "netwatcher.socket_us", "netwatcher.total_us", "frame.interface_description");
        assertEquals(2, rows.size(), rows.toString());
        String[] tx = rows.get(0).split("\\|", -1), rx = rows.get(1).split("\\|", -1);
        assertEquals("veth0", tx[0]);
        assertEquals("1765000000.123456789", tx[1], "nanoseconds: if_tsresol 9");
        assertEquals("44", tx[2]);
        assertEquals("44", tx[3]);
        assertEquals(comm, tx[6], "the comm back through the quoting and the Lua parser");
        assertEquals("tx", tx[7]);
        assertEquals("4242", tx[8]);
        assertEquals("2.001", tx[9]);
        assertEquals("30.999", tx[10]);
        assertEquals("", tx[11], "no socket layer on the send side");
        assertEquals("34.5", tx[12]);
        assertEquals("veth0@" + OTHER, rx[0]);
        assertEquals("1500", rx[2], "the length on the wire");
        assertEquals("30", rx[3], "what was captured");
        assertEquals("123456.789", rx[11]);
        assertEquals("netns " + OTHER + ", ifindex 3", rx[13]);
        assertTrue(tx[5].startsWith("netwatcher: dir=tx pid=4242 tid=4243 comm=\"a \\\"b\\\" c=d\\\\e\" cgroup=/system.slice/x.service"), tx[5]);
        // the direction flags: outbound, inbound
        assertEquals(List.of("0x00000002", "0x00000001"), tshark(file, "frame.packet_flags_direction"));
        // a SIGKILL in the middle of a write leaves a partial last block: the blocks before it still read
        byte[] all = java.nio.file.Files.readAllBytes(file);
        Path cut = tmp.resolve("cut.pcapng");
        java.nio.file.Files.write(cut, java.util.Arrays.copyOf(all, all.length - 10));
        Process p = new ProcessBuilder("tshark", "-n", "-r", cut.toString(), "-T", "fields", "-e", "frame.number").start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals("1", out.strip(), "the complete block: " + err);
        assertTrue(err.contains("cut short"), err);
    }

    private static List<String> tshark(Path file, String... fields) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("tshark", "-n", "-X", "lua_script:" + Path.of("docs/netwatcher.lua").toAbsolutePath(),
                "-r", file.toString(), "-T", "fields", "-E", "separator=|"));
        for (String f : fields) cmd.addAll(List.of("-e", f));
        Process p = new ProcessBuilder(cmd).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), err);
        assertEquals("", err.lines().filter(l -> !l.startsWith("Running as user")).reduce("", String::concat), err);
        return out.lines().filter(l -> !l.isEmpty()).toList();
    }
}
