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
 *
 * <p>A program named {@code <name>_p<n>} is preferred to {@code <name>} (and its stand-ins) where
 * the kernel can run every {@code <name>_p<n>}: a cheaper hook that only some kernels have (the UDP
 * send mark: fentry/udp_sendmsg there, the send system calls' tracepoints, which slow every system
 * call of every process, elsewhere).
 */
final class Fallbacks {
    private static final Pattern FB = Pattern.compile("(.+)_[fp]\\d+");
    private static final Pattern PREFERRED = Pattern.compile(".+_p\\d+");
    private final Set<String> replaced, preferred;

    private Fallbacks(Set<String> replaced, Set<String> preferred) {
        this.replaced = replaced;
        this.preferred = preferred;
    }

    /** missing: program name -> why this kernel cannot run it, or null when it can. */
    static Fallbacks of(List<String> programs, Map<String, String> missing) {
        Set<String> replaced = new HashSet<>(), preferred = new HashSet<>();
        for (String prog : programs) {
            String primary = primaryOf(prog);
            if (prog.equals(primary) || !programs.contains(primary)) continue;
            if (PREFERRED.matcher(prog).matches()) {
                if (others(programs, primary, true).stream().allMatch(q -> missing.get(q) == null)) preferred.add(primary);
            } else if (missing.get(primary) != null
                    && others(programs, primary, false).stream().allMatch(q -> missing.get(q) == null)) {
                replaced.add(primary);
            }
        }
        replaced.removeAll(preferred);
        return new Fallbacks(replaced, preferred);
    }

    /** The preferred programs (or the stand-ins) of primary. */
    private static List<String> others(List<String> programs, String primary, boolean preferredOnes) {
        List<String> out = new ArrayList<>();
        for (String q : programs) {
            if (!q.equals(primary) && primaryOf(q).equals(primary) && PREFERRED.matcher(q).matches() == preferredOnes) out.add(q);
        }
        return out;
    }

    /** True when this kernel gets program: a preferred one that can run, else the primary, else its stand-ins. */
    boolean loads(String program) {
        String primary = primaryOf(program);
        if (program.equals(primary)) return !preferred.contains(primary) && !replaced.contains(primary);
        if (PREFERRED.matcher(program).matches()) return preferred.contains(primary);
        return replaced.contains(primary);
    }

    /** The program this one stands in for, or the program itself. */
    static String primaryOf(String program) {
        Matcher m = FB.matcher(program);
        return m.matches() ? m.group(1) : program;
    }

    /** True when every preferred program of primary can run here: they are loaded instead of it. */
    boolean prefers(String primary) {
        return preferred.contains(primary);
    }

    /** The programs loaded instead of primary (its preferred ones or its stand-ins), empty if none. */
    List<String> insteadOf(String primary, List<String> programs) {
        if (preferred.contains(primary)) return others(programs, primary, true);
        if (replaced.contains(primary)) return others(programs, primary, false);
        return List.of();
    }

    /** True when primary cannot run here and its stand-ins can: they are loaded instead. */
    boolean standsIn(String primary) {
        return replaced.contains(primary);
    }
}
