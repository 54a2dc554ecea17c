package dev.netwatcher.probe;

import dev.netwatcher.bpf.BpfObject;
import dev.netwatcher.btf.Btf;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FallbacksTest {
    static final List<String> PROGRAMS = List.of("nw_pkt_out", "nw_pkt_out_f4", "nw_pkt_out_f6", "nw_pkt_queue",
            "nw_pkt_sent", "nw_pkt_sent_f1", "nw_pkt_sent_f2", "nw_pkt_usnd4", "nw_pkt_usnd4_p1", "nw_pkt_usnd6",
            "nw_pkt_usnd6_p1", "nw_pkt_usys", "nw_pkt_usys_f1");

    static Map<String, String> missing(String... programs) {
        Map<String, String> m = new HashMap<>();
        for (String p : PROGRAMS) m.put(p, null);
        for (String p : programs) m.put(p, "missing here");
        return m;
    }

    @Test
    void aStandInIsNamedAfterItsPrimary() {
        assertEquals("nw_pkt_out", Fallbacks.primaryOf("nw_pkt_out_f4"));
        assertEquals("nw_pkt_sent", Fallbacks.primaryOf("nw_pkt_sent_f12"));
        assertEquals("nw_pkt_out", Fallbacks.primaryOf("nw_pkt_out"));
        assertEquals("nw_fx", Fallbacks.primaryOf("nw_fx"));
        assertEquals("nw_pkt_out_f", Fallbacks.primaryOf("nw_pkt_out_f"));
        assertEquals("nw_pkt_usnd6", Fallbacks.primaryOf("nw_pkt_usnd6_p1"));
    }

    @Test
    void thePreferredProgramsLoadWhereTheyAllCan() {
        // 6.1 and 6.12: fentry runs, so fentry/udp_sendmsg is the send mark, not the cgroup hook
        Fallbacks f = Fallbacks.of(PROGRAMS, missing());
        assertTrue(f.prefers("nw_pkt_usnd4") && f.prefers("nw_pkt_usnd6"));
        assertTrue(f.loads("nw_pkt_usnd4_p1") && f.loads("nw_pkt_usnd6_p1"));
        assertFalse(f.loads("nw_pkt_usnd4") || f.loads("nw_pkt_usnd6"));
        assertEquals(List.of("nw_pkt_usnd4_p1"), f.insteadOf("nw_pkt_usnd4", PROGRAMS));
        // 6.18 here: fentry refused, so the cgroup hooks
        Fallbacks g = Fallbacks.of(PROGRAMS, missing("nw_pkt_usnd4_p1", "nw_pkt_usnd6_p1"));
        assertFalse(g.prefers("nw_pkt_usnd4"));
        assertTrue(g.loads("nw_pkt_usnd4") && g.loads("nw_pkt_usnd6"));
        assertFalse(g.loads("nw_pkt_usnd4_p1") || g.loads("nw_pkt_usnd6_p1"));
        // --udp-send-syscalls without tracefs: the raw tracepoint stands in for the syscall tracepoints
        Fallbacks h = Fallbacks.of(PROGRAMS, missing("nw_pkt_usys"));
        assertTrue(h.loads("nw_pkt_usys_f1"));
        assertFalse(h.loads("nw_pkt_usys"));
        assertEquals(List.of("nw_pkt_usys_f1"), h.insteadOf("nw_pkt_usys", PROGRAMS));
        assertTrue(f.loads("nw_pkt_usys") && !f.loads("nw_pkt_usys_f1"));
    }

    @Test
    void theStandInsLoadOnlyWhereThePrimaryCannot() {
        // 6.18 here: tracepoints and netfilter links, fentry refused (BTF has the functions)
        assertFalse(Fallbacks.of(PROGRAMS, missing()).standsIn("nw_pkt_out"));
        // 6.1: no netfilter programs, no sock_send_length; fentry targets present
        Fallbacks f = Fallbacks.of(PROGRAMS, missing("nw_pkt_out", "nw_pkt_sent"));
        assertTrue(f.standsIn("nw_pkt_out"));
        assertTrue(f.standsIn("nw_pkt_sent"));
        assertFalse(f.standsIn("nw_pkt_queue"));
        assertTrue(f.loads("nw_pkt_out_f4") && f.loads("nw_pkt_out_f6") && !f.loads("nw_pkt_out"));
        assertTrue(f.loads("nw_pkt_queue"));
    }

    @Test
    void allStandInsOrNone() {
        // one of two stand-ins missing: the primary stays unavailable rather than half-observed
        assertFalse(Fallbacks.of(PROGRAMS, missing("nw_pkt_out", "nw_pkt_out_f6")).standsIn("nw_pkt_out"));
        // a primary without stand-ins stays missing
        assertFalse(Fallbacks.of(PROGRAMS, missing("nw_pkt_queue")).standsIn("nw_pkt_queue"));
    }

    /**
     * Every stand-in in the shipped objects attaches to a function this kernel's BTF has (a
     * misspelt target would only show on the kernel that needs it), and its primary exists.
     */
    @Test
    void everyStandInNamesARealFunctionAndPrimary() throws Exception {
        Btf kernel = Btf.kernel();
        int standIns = 0;
        for (Probe p : Probes.everyObject()) {
            try (BpfObject obj = BpfObject.open(p.name(), ProbeLoader.objectBytes(p))) {
                List<String> programs = obj.programNames();
                for (String prog : programs) {
                    String fn = ProbeLoader.functionOf(obj.sectionName(prog));
                    if (fn == null) continue;
                    String primary = Fallbacks.primaryOf(prog);
                    assertTrue(!primary.equals(prog) && programs.contains(primary), prog + " stands in for (or is preferred to) a program of " + p.name());
                    assertTrue(kernel.hasFunction(fn), prog + ": no function " + fn + " in this kernel's BTF");
                    standIns++;
                }
            }
        }
        assertTrue(standIns >= 10, "stand-ins found: " + standIns);
    }
}
