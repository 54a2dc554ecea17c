package dev.netwatcher.probe;

import dev.netwatcher.bpf.BpfException;
import dev.netwatcher.bpf.BpfObject;
import dev.netwatcher.bpf.NetNamespaces;
import dev.netwatcher.bpf.NetfilterHook;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Links netfilter programs to their hooks in every watched network namespace: all of the host's
 * at start-up (ours, /run/netns, those of running processes), or only the one --netns names.
 * Namespaces created later are not hooked. Probes start on several threads: methods are synchronized
 * where they share state, and a namespace is entered (setns) on the calling thread only.
 */
final class NetfilterLinks {
    private static final int EBUSY = 16, PRIORITY_TRIES = 32;

    private final Filter filter;
    private List<NetNamespaces.Namespace> namespaces;
    private int links;
    private final Set<String> reported = new HashSet<>();

    NetfilterLinks(Filter filter) {
        this.filter = filter;
    }

    /**
     * Links prog to hooks in each namespace. Throws when no namespace could take it; when only some
     * could not (e.g. in a container without CAP_SYS_ADMIN, setns() into pod namespaces is refused),
     * says so once per program through note.
     */
    void attach(BpfObject obj, String prog, List<NetfilterHook> hooks, Consumer<String> note) {
        List<NetNamespaces.Namespace> spaces = namespaces();
        int ok = 0;
        BpfException first = null;
        for (NetNamespaces.Namespace ns : spaces) {
            try {
                NetNamespaces.inNamespace(ns.path(), () -> {
                    for (NetfilterHook h : hooks) attachNearest(obj, prog, h);
                    return null;
                });
                ok++;
                synchronized (this) {
                    links += hooks.size();
                }
            } catch (BpfException e) {
                if (first == null) first = e;
            }
        }
        if (ok == 0 && first != null) throw first;
        boolean report;
        synchronized (this) {
            report = first != null && reported.add(prog);
        }
        if (report) {
            note.accept("netfilter hooks of " + prog + " in " + (spaces.size() - ok) + " of " + spaces.size()
                    + " network namespaces: " + first.getMessage());
        }
    }

    /** The namespaces netfilter programs are linked in, found once. */
    private synchronized List<NetNamespaces.Namespace> namespaces() {
        if (namespaces == null) {
            List<NetNamespaces.Namespace> found = NetNamespaces.discover();
            if (filter.netns() != 0) {
                found = found.stream().filter(n -> n.inode() == filter.netns()).toList();
                if (found.isEmpty()) {
                    throw new BpfException("network namespace " + filter.netns() + " not found (no process or /run/netns entry uses it)");
                }
            }
            namespaces = found;
        }
        return namespaces;
    }

    /**
     * The kernel refuses a second BPF program at the same hook and priority (EBUSY, nf_register_net_hook()):
     * another probe of ours or another netwatcher holds it. Step toward the middle of the priority range
     * until a free one is found.
     */
    private static void attachNearest(BpfObject obj, String prog, NetfilterHook h) {
        for (int i = 0; ; i++) {
            int step = h.priority() < 0 ? i : -i;
            try {
                obj.attachNetfilter(prog, new NetfilterHook(h.pf(), h.hooknum(), h.priority() + step, h.defrag()));
                return;
            } catch (BpfException e) {
                if (e.errno() != EBUSY || i == PRIORITY_TRIES) throw e;
            }
        }
    }

    /** Network namespaces whose hooks carry our programs (0 when no probe needed them). */
    synchronized int namespaceCount() {
        return namespaces == null ? 0 : namespaces.size();
    }

    synchronized int links() {
        return links;
    }
}
