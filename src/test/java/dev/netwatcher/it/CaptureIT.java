package dev.netwatcher.it;

import dev.netwatcher.lab.Lab;
import dev.netwatcher.lab.NwProcess;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * -w FILE (issue 32): read back by the real reader, tshark, with docs/netwatcher.lua. The datagrams the
 * test sends from A to B are in the file once as A sent them and once as B received them, with the
 * bytes sent, the sender's and the reader's pid, and layer times Wireshark can filter on; the file
 * is complete after SIGTERM in the middle of a TCP transfer; an existing file is refused without
 * --overwrite, a symbolic link always.
 */
class CaptureIT extends LabTest {
    private static final Path LUA = Path.of("docs/netwatcher.lua").toAbsolutePath();
    private static final Pattern UNFINISHED = Pattern.compile("(\\d+) packets that left LOCAL_OUT and were not seen at the driver");

    @Test
    void everyDatagramIsInTheFileWithItsBytesOwnersAndLayerTimes() throws Exception {
        Path file = tmp.resolve("udp.pcapng");
        int sent = 6, size = 100;
        Process receiver = lab.spawnReady(lab.b, Lab.python("udp_recv.py", Lab.B4, 7402, sent));
        try (NwProcess nw = NwProcess.start(tmp, "-u", "-w", file.toString(), "udp port 7402")) {
            Process sender = lab.spawn(lab.a, Lab.python("udp_send.py", Lab.A4, 7401, Lab.B4, 7402, sent, size, 0.02));
            assertTrue(sender.waitFor(15, TimeUnit.SECONDS));
            assertTrue(receiver.waitFor(15, TimeUnit.SECONDS));
            assertEquals(Integer.toString(sent), Lab.readLine(receiver.getInputStream()), "B got every datagram");
            Thread.sleep(300);
            nw.stop();
            assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS));
            assertTrue(nw.stderr().stream().anyMatch(l -> l.matches("netwatcher: \\d+ packets written to " + Pattern.quote(file.toString()))),
                    nw.stderr().toString());

            List<String[]> rows = tshark(file, null, "frame.interface_name", "netwatcher.dir", "netwatcher.pid", "netwatcher.comm",
                    "udp.payload", "netwatcher.ip_us", "netwatcher.driver_us", "netwatcher.socket_us", "frame.len", "frame.cap_len");
            List<String[]> tx = rows.stream().filter(r -> r[1].equals("tx")).toList(), rx = rows.stream().filter(r -> r[1].equals("rx")).toList();
            long unfinished = counted(nw);
            // each datagram left A (or was counted as not seen at the driver) and reached B's reader
            assertEquals(sent, tx.size() + unfinished, "tx frames: " + show(rows));
            assertEquals(sent, rx.size(), "rx frames: " + show(rows));
            assertEquals(rows.size(), tx.size() + rx.size(), show(rows));
            String ifA = "veth0@" + lab.netns(lab.a), ifB = "veth0@" + lab.netns(lab.b);
            List<String> payloads = new ArrayList<>();
            for (int i = 0; i < sent; i++) payloads.add(HexFormat.of().formatHex(bytes(i, size)));
            for (String[] r : tx) {
                assertEquals(ifA, r[0], "sent on A's veth0: " + String.join("|", r));
                assertEquals(Long.toString(sender.pid()), r[2], "the sender's pid: " + String.join("|", r));
                assertEquals("python3", r[3]);
                assertTrue(Double.parseDouble(r[5]) > 0 && Double.parseDouble(r[6]) > 0, "ip and driver times: " + String.join("|", r));
                assertEquals(Integer.toString(14 + 20 + 8 + size), r[8], "an Ethernet frame: " + String.join("|", r));
                assertEquals(r[8], r[9], "whole: " + String.join("|", r));
            }
            for (String[] r : rx) {
                assertEquals(ifB, r[0], "received on B's veth0: " + String.join("|", r));
                assertEquals(Long.toString(receiver.pid()), r[2], "the reader's pid: " + String.join("|", r));
                assertTrue(Double.parseDouble(r[7]) > 0, "time in the socket queue: " + String.join("|", r));
                assertEquals(r[8], r[9], "whole: " + String.join("|", r));
            }
            assertEquals(payloads, rx.stream().map(r -> r[4]).toList(), "the bytes sent, in order");
            assertTrue(payloads.containsAll(tx.stream().map(r -> r[4]).toList()), "the bytes sent: " + show(tx));
            // the Lua fields filter: a layer time, a comm
            assertEquals(rx.size(), tshark(file, "netwatcher.socket_us > 0", "frame.number").size());
            assertEquals(tx.size(), tshark(file, "netwatcher.comm == \"python3\" && netwatcher.dir == \"tx\" && netwatcher.driver_us > 0",
                    "frame.number").size());
            assertEquals(0, tshark(file, "netwatcher.comm == \"curl\"", "frame.number").size());
        } finally {
            receiver.destroyForcibly();
        }
    }

    /**
     * -k -w: datagrams to a port of B where nothing listens are dropped there (NO_SOCKET); each drop is in
     * the file from its IP header, with its bytes, the reason and where the kernel dropped it (or counted
     * as missed: the kernel ran no program for that hit).
     */
    @Test
    void dropsAreInTheFileWithTheirReason() throws Exception {
        Path file = tmp.resolve("drops.pcapng");
        int sent = 5, size = 60;
        try (NwProcess nw = NwProcess.start(tmp, "-k", "-T", "-w", file.toString(), "--netns", Long.toString(lab.netns(lab.b)),
                "udp dst port 7405")) {
            lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 7406, Lab.B4, 7405, sent, size, 0.02));
            Thread.sleep(300);
            nw.stop();
            Matcher m = Pattern.compile("detached; \\d+ events, \\d+ lost \\(ring buffer full\\), (\\d+) missed").matcher(nw.summary());
            assertTrue(m.find(), nw.summary());
            long missed = Long.parseLong(m.group(1));
            List<String[]> rows = tshark(file, null, "frame.interface_name", "netwatcher.dir", "netwatcher.drop_reason",
                    "netwatcher.drop_location", "udp.payload", "frame.len", "frame.cap_len", "frame.protocols");
            assertEquals(sent, rows.size() + missed, "drops in the file, or missed: " + show(rows));
            assertTrue(rows.size() > 0, show(rows));
            List<String> payloads = new ArrayList<>();
            for (int i = 0; i < sent; i++) payloads.add(HexFormat.of().formatHex(bytes(i, size)));
            for (String[] r : rows) {
                assertEquals("veth0@" + lab.netns(lab.b), r[0], String.join("|", r));
                assertEquals("drop", r[1], String.join("|", r));
                assertEquals("NO_SOCKET", r[2], String.join("|", r));
                assertFalse(r[3].isEmpty() || r[3].startsWith("0x"), "a function with -T: " + String.join("|", r));
                assertTrue(payloads.contains(r[4]), "the bytes sent: " + String.join("|", r));
                assertEquals(Integer.toString(20 + 8 + size), r[5], "from the IP header: " + String.join("|", r));
                assertEquals(r[5], r[6], String.join("|", r));
                assertTrue(r[7].startsWith("raw:ip:udp"), "LINKTYPE_RAW: " + String.join("|", r));
            }
            assertEquals(rows.size(), tshark(file, "netwatcher.drop_reason == \"NO_SOCKET\"", "frame.number").size());
        }
    }

    @Test
    void theFileIsCompleteAfterSigtermMidTransferAndIsNeverOverwrittenUnasked() throws Exception {
        Path file = tmp.resolve("tcp.pcapng");
        Process server = lab.spawn(lab.b, "python3", "-c", "import socket\n"
                + "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('" + Lab.B4 + "', 7403)); s.listen(1)\n"
                + "c, _ = s.accept()\nwhile c.recv(65536): pass\n");
        Process sender = null;
        try (NwProcess nw = NwProcess.start(tmp, "-t", "-w", file.toString(), "--netns", Long.toString(lab.netns(lab.a)))) {
            lab.awaitListening(lab.b, "t", 7403);
            sender = lab.spawn(lab.a, Lab.python("tcp_send.py", 7404, Lab.B4, 7403, 2000, 300, 0.002));
            Thread.sleep(1500);
            assertTrue(sender.isAlive(), "still sending when netwatcher is stopped");
            nw.stop();
            // tshark reads every block: no "cut short", exit 0
            List<String[]> rows = tshark(file, "tcp.port == 7403", "tcp.len", "frame.cap_len", "netwatcher.dir", "netwatcher.comm");
            assertTrue(rows.size() > 50, "frames of the transfer: " + rows.size());
            assertTrue(rows.stream().anyMatch(r -> r[0].equals("300") && r[2].equals("tx") && r[3].equals("python3")), show(rows));
        } finally {
            if (sender != null) sender.destroyForcibly();
            server.destroyForcibly();
        }
        long before = Files.size(file);
        // an existing file: refused before anything attaches, exit 2, the file untouched
        Process p = NwProcess.command("-t", "-w", file.toString(), "--duration", "1").redirectErrorStream(true).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertEquals(2, p.exitValue(), out);
        assertTrue(out.contains(file + " exists: add --overwrite"), out);
        assertEquals(before, Files.size(file));
        // --overwrite replaces it; a symbolic link is refused even so
        try (NwProcess nw = NwProcess.start(tmp, "-t", "-w", file.toString(), "--overwrite", "--netns", Long.toString(lab.netns(lab.a)))) {
            nw.stop();
        }
        assertTrue(Files.size(file) < before, "replaced: " + Files.size(file) + " bytes");
        Path target = tmp.resolve("target"), link = tmp.resolve("link.pcapng");
        Files.writeString(target, "keep");
        Files.createSymbolicLink(link, target);
        Process q = NwProcess.command("-t", "-w", link.toString(), "--overwrite", "--duration", "1").redirectErrorStream(true).start();
        assertTrue(q.waitFor(30, TimeUnit.SECONDS));
        String qout = new String(q.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertFalse(q.exitValue() == 0, qout);
        assertTrue(qout.contains("symbolic link"), qout);
        assertEquals("keep", Files.readString(target));
    }

    private static byte[] bytes(int i, int size) {
        byte[] b = new byte[size];
        java.util.Arrays.fill(b, (byte) i);
        return b;
    }

    /** tshark's fields of the file's frames (those matching filter, if any), with docs/netwatcher.lua; fails on any complaint. */
    private static List<String[]> tshark(Path file, String filter, String... fields) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("tshark", "-n", "-X", "lua_script:" + LUA, "-r", file.toString(), "-T", "fields", "-E", "separator=|"));
        if (filter != null) cmd.addAll(List.of("-Y", filter));
        for (String f : fields) cmd.addAll(List.of("-e", f));
        Process p = new ProcessBuilder(cmd).start();
        byte[] out = p.getInputStream().readAllBytes();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), "tshark: " + err);
        // tshark's only word as root is that running as root is dangerous; anything else (a cut block, a Lua error) fails
        String complaints = err.lines().filter(l -> !l.startsWith("Running as user \"root\"")).reduce("", (x, y) -> x + y + "\n");
        assertEquals("", complaints, "tshark complained");
        List<String[]> rows = new ArrayList<>();
        for (String l : new String(out, StandardCharsets.UTF_8).split("\n")) if (!l.isEmpty()) rows.add(l.split("\\|", -1));
        return rows;
    }

    private static String show(List<String[]> rows) {
        return rows.stream().map(r -> String.join("|", r)).reduce("", (x, y) -> x + "\n" + y);
    }

    private static long counted(NwProcess nw) {
        Matcher m = UNFINISHED.matcher(nw.summary());
        assertTrue(m.find(), nw.summary());
        return Long.parseLong(m.group(1));
    }
}
