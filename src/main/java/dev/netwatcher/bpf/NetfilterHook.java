package dev.netwatcher.bpf;

/**
 * Where a netfilter BPF program hooks in: protocol family (2 IPv4, 10 IPv6),
 * hook number (0 PRE_ROUTING, 1 LOCAL_IN, 2 FORWARD, 3 LOCAL_OUT, 4 POST_ROUTING)
 * and priority (not INT_MIN/INT_MAX, see nf_hook_entries_insert_raw()).
 */
public record NetfilterHook(int pf, int hooknum, int priority, boolean defrag) {
    public static final int PF_INET = 2;
    public static final int PF_INET6 = 10;
}
