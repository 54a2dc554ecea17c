package dev.netwatcher.cli;

import java.util.LinkedHashMap;
import java.util.Map;

/** --help drawn in sections, one per option group (the Netwatcher mixins), each under its heading. */
final class HelpSections {
    private HelpSections() {}

    /** The --help section headings of the option groups, by mixin (field) name, in order. */
    static final Map<String, String> SECTIONS = sections();

    private static Map<String, String> sections() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("watch", "What to watch (the original's options, and more):");
        m.put("payload", "Application protocols:");
        m.put("filters", "Filters (applied in the kernel):");
        m.put("timing", "Packet timing and -L:");
        m.put("output", "Output, metrics and the run:");
        return m;
    }

    /** --help's option list: the other options (help, version: picocli's own mixin), then a section per group. */
    static String optionSections(picocli.CommandLine.Help help) {
        picocli.CommandLine.Model.CommandSpec spec = help.commandSpec();
        java.util.Set<picocli.CommandLine.Model.OptionSpec> grouped = new java.util.HashSet<>();
        for (String group : SECTIONS.keySet()) grouped.addAll(spec.mixins().get(group).options());
        StringBuilder sb = new StringBuilder();
        picocli.CommandLine.Help.Layout own = help.createDefaultLayout();
        own.addOptions(spec.options().stream().filter(o -> !grouped.contains(o)).toList(), help.parameterLabelRenderer());
        sb.append(own);
        for (Map.Entry<String, String> s : SECTIONS.entrySet()) {
            picocli.CommandLine.Help.Layout l = help.createDefaultLayout();
            l.addOptions(spec.mixins().get(s.getKey()).options(), help.parameterLabelRenderer());
            sb.append(System.lineSeparator()).append(s.getValue()).append(System.lineSeparator()).append(l);
        }
        return sb.toString();
    }
}
