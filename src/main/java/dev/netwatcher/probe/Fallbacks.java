package dev.netwatcher.probe;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Stand-in programs for kernels that lack a hook. A program named {@code <name>_f<n>}
 * (fentry/fexit, in the same object) stands in for program {@code <name>} where the
 * kernel cannot run {@code <name>} (a tracepoint it does not have, no netfilter BPF
 * programs) and can run every {@code <name>_f<n>}: Debian 12's 6.1 has fentry but
 * neither the newer tracepoints nor netfilter links; 6.18 here has those but refuses
 * fentry. Where the primary can run, its stand-ins are not loaded.
 */
final class Fallbacks {
    private static final Pattern FB = Pattern.compile("(.+)_f\\d+");
    private final Set<String> replaced;

    private Fallbacks(Set<String> replaced) {
        this.replaced = replaced;
    }

    /** missing: program name -> why this kernel cannot run it, or null when it can. */
    static Fallbacks of(List<String> programs, Map<String, String> missing) {
        Set<String> replaced = new HashSet<>();
        for (String prog : programs) {
            String primary = primaryOf(prog);
            if (prog.equals(primary) || !programs.contains(primary) || missing.get(primary) == null) continue;
            List<String> standIns = new ArrayList<>();
            for (String q : programs) if (!q.equals(primary) && primaryOf(q).equals(primary)) standIns.add(q);
            if (standIns.stream().allMatch(q -> missing.get(q) == null)) replaced.add(primary);
        }
        return new Fallbacks(replaced);
    }

    /** The program this one stands in for, or the program itself. */
    static String primaryOf(String program) {
        Matcher m = FB.matcher(program);
        return m.matches() ? m.group(1) : program;
    }

    /** True when primary cannot run here and its stand-ins can: they are loaded instead. */
    boolean standsIn(String primary) {
        return replaced.contains(primary);
    }
}
