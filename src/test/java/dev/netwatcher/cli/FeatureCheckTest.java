package dev.netwatcher.cli;

import dev.netwatcher.probe.Probe;
import dev.netwatcher.probe.Probes;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --check: the rows of a check, from what a session said (as on Debian's 6.1), and a real check of this kernel. */
class FeatureCheckTest {
    @Test
    void rowsSayWhatWorksWhatIsLostAndWhatStandsIn() {
        List<Probe> probes = List.of(Probes.TCP_STATE, Probes.DROP, Probes.NETFILTER);
        List<FeatureCheck.Row> rows = FeatureCheck.rows(probes, List.of(Probes.TCP_STATE, Probes.DROP), List.of("-S", "-k"),
                List.of("-n: this kernel has no netfilter BPF programs (Linux 6.4 and later)",
                        "-k drops with the receiving socket: tracepoint kfree_skb missing"),
                List.of("-k: records from netfilter and cgroup hooks name no task"),
                List.of("-S owners of sockets that send: fentry/sock_sendmsg instead of tp_btf/sock_send_length (tracepoint sock_send_length missing)"));
        assertEquals(List.of(
                new FeatureCheck.Row("-S", true, "ok", ""),
                new FeatureCheck.Row("  -S owners of sockets that send", true, "ok",
                        "stand-in: fentry/sock_sendmsg instead of tp_btf/sock_send_length (tracepoint sock_send_length missing)"),
                new FeatureCheck.Row("-k", true, "ok", ""),
                new FeatureCheck.Row("  -k drops with the receiving socket", true, "unavailable", "tracepoint kfree_skb missing"),
                new FeatureCheck.Row("  -k", true, "note", "records from netfilter and cgroup hooks name no task"),
                new FeatureCheck.Row("-n", false, "unavailable", "this kernel has no netfilter BPF programs (Linux 6.4 and later)"),
                new FeatureCheck.Row("socket owners", true, "ok", "")), rows);
    }

    @Test
    void aCheckOfThisKernelLoadsEveryFeatureAndExitsZero() {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int rc = Main.run(new String[] {"-S", "-k", "--stack", "--check"}, new PrintWriter(out), new PrintWriter(err));
        String text = out.toString();
        assertEquals(0, rc, text + err);
        List<String> lines = text.lines().toList();
        assertEquals("netwatcher: options ok; would attach -S -k --stack", lines.get(0));
        assertTrue(lines.get(1).matches("FEATURE +REQUESTED +STATE +DETAIL"), lines.get(1));
        for (String f : new String[] {"-S", "-k --stack", "-r", "-e", "-t -u -I", "-n", "-x -a --rtt", "-i --dns --tls -M -R", "-p", "socket owners"}) {
            assertTrue(lines.stream().anyMatch(l -> l.matches(java.util.regex.Pattern.quote(f) + " +(yes|-) +ok +")), f + " ok in:\n" + text);
        }
        assertTrue(lines.stream().anyMatch(l -> l.matches("-S +yes +ok +")), text);
        assertTrue(lines.stream().anyMatch(l -> l.matches("-r +- +ok +")), "a feature not asked for: " + text);
        assertEquals("netwatcher: every requested feature works on this kernel", lines.getLast());
    }
}
