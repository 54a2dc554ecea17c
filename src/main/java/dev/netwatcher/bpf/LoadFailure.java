package dev.netwatcher.bpf;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * bpf_object__load() failed. libbpf loads an object's programs in order and stops at the first
 * one the kernel refuses (bpf_object_load_prog(), tools/lib/bpf/libbpf.c), naming it in its
 * warnings: {@link #program()} is that program when the warnings name one, so the object can be
 * loaded again without it; {@link #reason()} is the verifier's last word (the line before its
 * "processed N insns" summary), {@link #log()} the whole of what libbpf said.
 */
public final class LoadFailure extends BpfException {
    private static final Pattern PROG = Pattern.compile("prog '([^']+)': ");
    private static final Pattern LOG = Pattern.compile("-- BEGIN PROG LOAD LOG --\\n(.*?)-- END PROG LOAD LOG --", Pattern.DOTALL);

    private final String program;
    private final String reason;
    private final String log;

    private LoadFailure(String message, int errno, String program, String reason, String log) {
        super(message, errno);
        this.program = program;
        this.reason = reason;
        this.log = log;
    }

    /** From libbpf's warnings during the load of object (empty when libbpf said nothing). */
    public static LoadFailure of(String object, int errno, String warnings) {
        String program = null;
        Matcher m = PROG.matcher(warnings);
        if (m.find()) program = m.group(1);
        String reason = null;
        Matcher l = LOG.matcher(warnings);
        if (l.find()) reason = lastWord(l.group(1));
        if (reason == null && program != null) reason = lastWord(warnings.substring(m.start()));
        String message = "loading BPF object '" + object + "' failed: " + Native.strerror(errno)
                + (program != null ? " (program " + program + (reason != null ? ": " + reason : "") + ")" : "")
                + " (--debug shows the verifier log)";
        return new LoadFailure(message, errno, program, reason, warnings);
    }

    /** The verifier's (or libbpf's) reason: the last line that is not a summary. */
    static String lastWord(String text) {
        String[] lines = text.split("\\n");
        for (int i = lines.length - 1; i >= 0; i--) {
            String s = lines[i].strip();
            if (s.startsWith("libbpf: ")) s = s.substring(8).strip();
            if (s.isEmpty() || s.startsWith("processed ") || s.startsWith("verification time")
                    || s.startsWith("stack depth") || s.contains("-- END PROG LOAD LOG --")
                    || s.startsWith("failed to load object") || s.matches("prog '[^']+': failed to load: -?\\d+")) continue;
            return s.length() > 300 ? s.substring(0, 300) + "..." : s;
        }
        return null;
    }

    /** The program the kernel refused, or null when libbpf named none (the object as a whole failed). */
    public String program() {
        return program;
    }

    /** One line: why, or null. */
    public String reason() {
        return reason;
    }

    /** Everything libbpf warned about during the load (the verifier log included). */
    public String log() {
        return log;
    }
}
