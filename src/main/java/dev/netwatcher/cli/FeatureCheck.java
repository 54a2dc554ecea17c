package dev.netwatcher.cli;

import dev.netwatcher.bpf.Privileges;
import dev.netwatcher.probe.ConnProbe;
import dev.netwatcher.probe.Filter;
import dev.netwatcher.probe.PacketProbe;
import dev.netwatcher.probe.PayloadProbe;
import dev.netwatcher.probe.Probe;
import dev.netwatcher.probe.Probes;
import dev.netwatcher.probe.Session;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * --check: what this kernel serves of every feature, the way bpftool feature probe answers for
 * the kernel. Every probe is loaded and attached as a run would (the requested ones with the
 * user's settings, the others in full), then detached: one row per feature with ok, note or
 * unavailable and the reason, stand-in programs in use included. Exit 0 when every requested
 * feature works, 1 when one does not.
 */
final class FeatureCheck {
    private static final String OWNERS = "socket owners";

    /** A row: the feature, whether the user asked for it, its state and why. */
    record Row(String feature, boolean requested, String state, String detail) {}

    private FeatureCheck() {}

    /** Loads, attaches and detaches every probe; prints the rows; returns the exit code. */
    static int run(List<Probe> requested, Filter filter, PrintWriter out) {
        List<String> missing = Privileges.missingForTracing();
        if (!missing.isEmpty()) {
            out.println("netwatcher: kernel features not checked: loading programs needs root, or " + String.join(" and ", missing));
            return 0;
        }
        List<Probe> probes = new ArrayList<>(requested);
        for (Probe full : everyFeature()) {
            if (probes.stream().noneMatch(p -> p.getClass() == full.getClass())) probes.add(full);
        }
        List<String> unavailable, notes, fallbacks, running;
        try (Session s = Session.open(new Session.Config(probes, filter, false), e -> {})) {
            unavailable = s.unavailable();
            notes = s.notes();
            fallbacks = s.fallbacks();
            running = s.running();
        } catch (RuntimeException e) {
            out.println("netwatcher: no feature could start: " + e.getMessage());
            return 1;
        }
        List<Row> rows = rows(probes, requested, running, unavailable, notes, fallbacks);
        print(rows, out);
        long broken = rows.stream().filter(r -> r.requested() && r.state().equals("unavailable")).count();
        out.println(broken == 0 ? "netwatcher: every requested feature works on this kernel"
                : "netwatcher: " + broken + " requested feature" + (broken == 1 ? "" : "s") + " unavailable on this kernel");
        return broken == 0 ? 0 : 1;
    }

    /** Every probe in full: all modes, drop stacks, every payload protocol. */
    static List<Probe> everyFeature() {
        return List.of(Probes.TCP_STATE, Probes.RETRANS, Probes.drops(true), Probes.TCP_ERROR,
                Probes.packets(PacketProbe.MODE_TCP | PacketProbe.MODE_UDP | PacketProbe.MODE_ICMP), Probes.NETFILTER,
                Probes.connections(ConnProbe.EXTRA | ConnProbe.ALL | ConnProbe.RTT),
                Probes.payload(PayloadProbe.HTTP | PayloadProbe.DNS | PayloadProbe.TLS | PayloadProbe.MYSQL | PayloadProbe.REDIS),
                Probes.PROTO);
    }

    /** The rows of one check: a row per probe, then one per sub-feature lost, noted or served by a stand-in. */
    static List<Row> rows(List<Probe> probes, List<Probe> requested, List<String> running, List<String> unavailable,
                          List<String> notes, List<String> fallbacks) {
        List<String> options = new ArrayList<>(probes.stream().map(Probe::option).toList());
        options.add(OWNERS);
        options.sort(Comparator.comparingInt(String::length).reversed()); // the longest prefix names a line's probe
        boolean ownersWanted = requested.stream().anyMatch(Probe::needsOwners);
        List<Row> rows = new ArrayList<>();
        for (String option : probesThenOwners(probes)) {
            boolean asked = option.equals(OWNERS) ? ownersWanted : requested.stream().anyMatch(p -> p.option().equals(option));
            String whole = null;
            for (String u : unavailable) if (owner(u, options).equals(option) && u.startsWith(option + ": ")) whole = u.substring(option.length() + 2);
            boolean runs = option.equals(OWNERS) ? whole == null : running.contains(option);
            rows.add(new Row(option, asked, runs ? "ok" : "unavailable", runs ? "" : whole == null ? "did not start" : whole));
            addParts(rows, option, asked, options, unavailable, "unavailable", "");
            addParts(rows, option, asked, options, notes, "note", "");
            addParts(rows, option, asked, options, fallbacks, "ok", "stand-in: ");
        }
        return rows;
    }

    private static List<String> probesThenOwners(List<Probe> probes) {
        List<String> out = new ArrayList<>(probes.stream().map(Probe::option).toList());
        out.add(OWNERS);
        return out;
    }

    private static void addParts(List<Row> rows, String option, boolean asked, List<String> options, List<String> lines,
                                 String state, String prefix) {
        for (String line : lines) {
            if (!owner(line, options).equals(option)) continue;
            if (state.equals("unavailable") && line.startsWith(option + ": ")) continue; // the probe's own row says it
            int colon = line.indexOf(": ");
            String feature = colon < 0 ? line : line.substring(0, colon);
            rows.add(new Row("  " + feature, asked, state, prefix + (colon < 0 ? "" : line.substring(colon + 2))));
        }
    }

    /** The option (or "socket owners") a session line is about: the longest one it starts with, else "". */
    private static String owner(String line, List<String> optionsLongestFirst) {
        for (String o : optionsLongestFirst) {
            if (line.startsWith(o + ":") || line.startsWith(o + " ")) return o;
        }
        return "";
    }

    private static void print(List<Row> rows, PrintWriter out) {
        int w = Math.max(8, rows.stream().mapToInt(r -> r.feature().length()).max().orElse(8));
        w = Math.min(w, 64);
        String fmt = "%-" + w + "s  %-9s  %-11s  %s%n";
        out.printf(fmt, "FEATURE", "REQUESTED", "STATE", "DETAIL");
        for (Row r : rows) {
            String f = r.feature().length() > w ? r.feature().substring(0, w - 1) + "\u2026" : r.feature();
            out.printf(fmt, f, r.requested() ? "yes" : "-", r.state(), r.detail()).flush();
        }
    }
}
