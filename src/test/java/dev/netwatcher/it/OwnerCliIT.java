package dev.netwatcher.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.netwatcher.bpf.Cgroups;
import dev.netwatcher.lab.Lab;
import org.junit.jupiter.api.Test;

import java.io.StringWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * --cgroup, --comm and --pid through the command line, as a user types them: three UDP receivers in
 * namespace B that read nothing, their sockets open before netwatcher starts (so their owners come
 * from the seed walks), each get datagrams until their queue overflows (drops in softirq). One is in
 * a cgroup two levels below the one --cgroup names (the subtree), one has a 15-byte name (the most a
 * task name holds), one is chosen by --pid. Four netwatcher processes run side by side with -k
 * --json; each must report drops of its receiver only, naming it.
 */
class OwnerCliIT extends LabTest {
    @Test
    void cgroupCommAndPidKeepOnlyTheirReceiversDrops() throws Exception {
        Path root = Cgroups.v2Root();
        String top = "nwtest-cli-" + ProcessHandle.current().pid();
        Path nested = root.resolve(top).resolve("a").resolve("b");
        Files.createDirectories(nested);
        List<Process> procs = new ArrayList<>();
        List<Process> watchers = new ArrayList<>();
        try {
            Process inCgroup = lab.spawnReady(lab.b, owned("nwrecv1", "--wait", 8111));
            procs.add(inCgroup);
            Files.writeString(nested.resolve("cgroup.procs"), Long.toString(inCgroup.pid()));
            inCgroup.getOutputStream().write('\n');
            inCgroup.getOutputStream().flush();
            assertEquals("ready", Lab.readLine(inCgroup.getInputStream()));
            Process named = lab.spawnReady(lab.b, owned("nwrecv-15-bytes", null, 8112));
            procs.add(named);
            Process byPid = lab.spawnReady(lab.b, owned("nwrecv3", null, 8113));
            procs.add(byPid);
            assertEquals("nwrecv-15-bytes", Files.readString(Path.of("/proc/" + named.pid() + "/comm")).strip());

            String netns = Long.toString(lab.netns(lab.b));
            String[][] runs = {
                    {"--cgroup", "/" + top},                                   // a path as /proc/PID/cgroup shows it
                    {"--cgroup", root.resolve(top).resolve("a").toString()},   // the directory under the mount
                    {"--comm", "nwrecv-15-bytes"},
                    {"--pid", Long.toString(byPid.pid())}};
            List<List<String>> errs = new ArrayList<>();
            List<java.util.concurrent.Future<String>> outs = new ArrayList<>();
            java.util.concurrent.ExecutorService readers = java.util.concurrent.Executors.newCachedThreadPool();
            try {
                for (String[] filter : runs) {
                    List<String> args = new ArrayList<>(List.of("-k", "--json", "--no-logs", "--netns", netns, "--duration", "8s"));
                    args.addAll(List.of(filter));
                    List<String> err = new CopyOnWriteArrayList<>();
                    ProcessBuilder pb = CliIT.netwatcher(args.toArray(String[]::new));
                    Process w = CliIT.startAttached(pb, err);
                    watchers.add(w);
                    errs.add(err);
                    outs.add(readers.submit(() -> new String(w.getInputStream().readAllBytes(), StandardCharsets.UTF_8)));
                }
                // 1000 datagrams of 1400 bytes to each: the 212 KiB default receive buffer holds ~150
                for (int port : new int[] {8111, 8112, 8113}) {
                    lab.inNs(lab.a, Lab.python("udp_send.py", Lab.A4, 41100 + port - 8100, Lab.B4, port, 1000, 1400, 0.0));
                }
                long[][] expect = {{8111, inCgroup.pid()}, {8111, inCgroup.pid()}, {8112, named.pid()}, {8113, byPid.pid()}};
                String[] comms = {"nwrecv1", "nwrecv1", "nwrecv-15-bytes", "nwrecv3"};
                for (int i = 0; i < runs.length; i++) {
                    Process w = watchers.get(i);
                    assertTrue(w.waitFor(30, TimeUnit.SECONDS), "netwatcher " + String.join(" ", runs[i]) + " ends after --duration");
                    assertEquals(0, w.exitValue(), errs.get(i).toString());
                    List<JsonNode> drops = CliIT.jsonLines(outs.get(i).get(10, TimeUnit.SECONDS)).stream()
                            .filter(e -> e.get("type").asText().equals("drop")).toList();
                    String what = String.join(" ", runs[i]);
                    assertFalse(drops.isEmpty(), what + ": its receiver's drops");
                    for (JsonNode d : drops) {
                        assertEquals(expect[i][0], d.get("dport").asLong(), what + " keeps only its receiver: " + d);
                        assertEquals("SOCKET_RCVBUFF", d.get("reason").asText(), d.toString());
                        assertEquals(expect[i][1], d.get("pid").asLong(), what + ": the receiver's pid: " + d);
                        assertEquals(comms[i], d.get("comm").asText(), d.toString());
                        if (i < 2) assertEquals("/" + top + "/a/b", d.get("cgroup").asText(), d.toString());
                    }
                }
            } finally {
                readers.shutdownNow();
            }
            // a name longer than a task name can be: one line, exit 2, before anything attaches
            StringWriter err = new StringWriter();
            assertEquals(2, dev.netwatcher.cli.Main.run(new String[] {"-k", "--comm", "nwrecv-16-bytes!"},
                    new PrintWriter(new StringWriter()), new PrintWriter(err)));
            assertTrue(err.toString().contains("longer than a task name can be"), err.toString());
            assertEquals(1, err.toString().strip().lines().count(), err.toString());
        } finally {
            for (Process w : watchers) w.destroyForcibly().waitFor();
            for (Process p : procs) {
                p.destroyForcibly();
                p.waitFor();
            }
            for (Path dir : List.of(nested, nested.getParent(), root.resolve(top))) Lab.removeCgroup(dir);
        }
    }

    /** udp_stall_recv.py on B:port, named comm, waiting for a line first when wait is "--wait". */
    private static String[] owned(String comm, String wait, int port) {
        String[] py = Lab.python("udp_stall_recv.py", Lab.B4, port, 0, 1, 10);
        String[] wrap = wait != null ? Lab.python("as_owner.py", "-", comm, "--wait") : Lab.python("as_owner.py", "-", comm);
        String[] cmd = new String[wrap.length + py.length - 1];
        System.arraycopy(wrap, 0, cmd, 0, wrap.length);
        System.arraycopy(py, 1, cmd, wrap.length, py.length - 1);
        return cmd;
    }
}
