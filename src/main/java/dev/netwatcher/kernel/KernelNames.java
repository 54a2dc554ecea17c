package dev.netwatcher.kernel;

import dev.netwatcher.btf.Btf;

import java.util.Map;

/**
 * Names of kernel enum values read from the running kernel's BTF, so every reason
 * the kernel knows has its own name (no table tied to one kernel version).
 */
public final class KernelNames {
    /** Drop reasons above this carry a subsystem id in the upper 16 bits (SKB_DROP_REASON_SUBSYS_SHIFT). */
    private static final int SUBSYS_SHIFT = 16;

    private final Map<Long, String> dropReasons;
    private final Map<Long, String> rstReasons;

    public KernelNames(Btf kernel) {
        this.dropReasons = stripped(kernel, "skb_drop_reason", "SKB_DROP_REASON_");
        this.rstReasons = stripped(kernel, "sk_rst_reason", "SK_RST_REASON_");
    }

    private static Map<Long, String> stripped(Btf btf, String enumName, String prefix) {
        if (btf.find(enumName, Btf.ENUM).isEmpty()) return Map.of();
        Map<Long, String> m = new java.util.HashMap<>();
        btf.enumValues(enumName).forEach((v, n) -> m.put(v, n.startsWith(prefix) ? n.substring(prefix.length()) : n));
        return Map.copyOf(m);
    }

    public int dropReasonCount() {
        return dropReasons.size();
    }

    /** e.g. "NO_SOCKET"; unknown codes as "SUBSYS_2_5" or "REASON_140". */
    public String dropReason(long code) {
        String n = dropReasons.get(code);
        if (n != null) return n;
        long subsys = code >>> SUBSYS_SHIFT;
        return subsys != 0 ? "SUBSYS_" + subsys + "_" + (code & 0xffff) : "REASON_" + code;
    }

    public String rstReason(long code) {
        String n = rstReasons.get(code);
        return n != null ? n : "RST_REASON_" + code;
    }
}
