package dev.netwatcher.probe;

import dev.netwatcher.bpf.BpfException;
import dev.netwatcher.bpf.BpfLink;
import dev.netwatcher.bpf.BpfObject;
import dev.netwatcher.bpf.NetNamespaces;
import dev.netwatcher.bpf.NetfilterHook;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Links netfilter programs to their hooks in every watched network namespace: all of the host's
 * (ours, /run/netns, those of running processes), or only the one --netns names. rescan() follows
 * the host as it changes: a namespace that appears later (a container, `ip netns add`) gets every
 * program's hooks, and one that is gone loses its links, because a netfilter link holds a reference
 * on its namespace (bpf_nf_link_attach() takes it with get_net_track(), 6.18 here): a deleted namespace,
 * its veths and routes would otherwise live on until netwatcher exits.
 * Probes start on several threads: methods are synchronized where they share state, and a
 * namespace is entered (setns) on the calling thread only.
 */
final class NetfilterLinks {
    private static final int EBUSY = 16, PRIORITY_TRIES = 32, EPERM = 1, EACCES = 13;

    /** One program to link to hooks in every namespace. */
    private record Wanted(BpfObject obj, String prog, List<NetfilterHook> hooks) {}

    /** A link and the object that made it. */
    private record Made(BpfObject obj, BpfLink link) {}

    private final Filter filter;
    private List<NetNamespaces.Namespace> initial;
    private final List<Wanted> wanted = new ArrayList<>();
    /** Links per namespace inode, for every namespace that carries our programs. */
    private final Map<Long, List<Made>> hooked = new LinkedHashMap<>();
    /** Namespaces netwatcher may not enter (EPERM, EACCES): not tried again while they live. */
    private final Set<Long> refused = new HashSet<>();
    private final Set<String> reported = new HashSet<>();
    private boolean closed;

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
                link(ns, new Wanted(obj, prog, hooks));
                ok++;
            } catch (BpfException e) {
                if (first == null) first = e;
                if (refusal(e)) refused(ns.inode());
            }
        }
        if (ok == 0 && first != null) throw first;
        synchronized (this) {
            wanted.add(new Wanted(obj, prog, hooks));
        }
        if (first != null && report(prog)) {
            note.accept("netfilter hooks of " + prog + " in " + (spaces.size() - ok) + " of " + spaces.size()
                    + " network namespaces: " + first.getMessage());
        }
    }

    /**
     * Hooks namespaces that appeared since the last look and unhooks those that are gone (see the
     * class comment). A namespace that vanishes while it is being entered is simply tried again at
     * the next look if it is still there; a refusal is said once per program through note.
     */
    synchronized void rescan(Consumer<String> note) {
        if (closed || wanted.isEmpty()) return;
        Map<Long, NetNamespaces.Namespace> now = new LinkedHashMap<>();
        for (NetNamespaces.Namespace ns : NetNamespaces.discover()) {
            if (filter.netns() == 0 || ns.inode() == filter.netns()) now.put(ns.inode(), ns);
        }
        for (var it = hooked.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (now.containsKey(e.getKey())) continue;
            for (Made m : e.getValue()) m.obj().detach(m.link());
            it.remove();
        }
        refused.retainAll(now.keySet());
        for (NetNamespaces.Namespace ns : now.values()) {
            if (hooked.containsKey(ns.inode()) || refused.contains(ns.inode())) continue;
            for (Wanted w : wanted) {
                try {
                    link(ns, w);
                } catch (BpfException e) {
                    if (!refusal(e)) break; // gone while we entered it: the next look decides
                    refused.add(ns.inode());
                    if (report(w.prog())) note.accept("netfilter hooks of " + w.prog() + " in network namespace " + ns.inode() + ": " + e.getMessage());
                    break;
                }
            }
        }
    }

    /** Links w's hooks in ns and files the links under ns. */
    private void link(NetNamespaces.Namespace ns, Wanted w) {
        List<Made> made = new ArrayList<>();
        try {
            NetNamespaces.inNamespace(ns.path(), () -> {
                for (NetfilterHook h : w.hooks()) made.add(new Made(w.obj(), attachNearest(w.obj(), w.prog(), h)));
                return null;
            });
        } finally {
            synchronized (this) {
                hooked.computeIfAbsent(ns.inode(), k -> new ArrayList<>()).addAll(made);
            }
        }
    }

    private static boolean refusal(BpfException e) {
        return e.errno() == EPERM || e.errno() == EACCES;
    }

    private synchronized void refused(long inode) {
        refused.add(inode);
    }

    private synchronized boolean report(String prog) {
        return reported.add(prog);
    }

    /** The namespaces netfilter programs are linked in at start-up, found once. */
    private synchronized List<NetNamespaces.Namespace> namespaces() {
        if (initial == null) {
            List<NetNamespaces.Namespace> found = NetNamespaces.discover();
            if (filter.netns() != 0) {
                found = found.stream().filter(n -> n.inode() == filter.netns()).toList();
                if (found.isEmpty()) {
                    throw new BpfException("network namespace " + filter.netns() + " not found (no process or /run/netns entry uses it)");
                }
            }
            initial = found;
        }
        return initial;
    }

    /**
     * The kernel refuses a second BPF program at the same hook and priority (EBUSY, nf_register_net_hook()):
     * another probe of ours or another netwatcher holds it. Step toward the middle of the priority range
     * until a free one is found.
     */
    private static BpfLink attachNearest(BpfObject obj, String prog, NetfilterHook h) {
        for (int i = 0; ; i++) {
            int step = h.priority() < 0 ? i : -i;
            try {
                return obj.attachNetfilter(prog, new NetfilterHook(h.pf(), h.hooknum(), h.priority() + step, h.defrag()));
            } catch (BpfException e) {
                if (e.errno() != EBUSY || i == PRIORITY_TRIES) throw e;
            }
        }
    }

    /** Stops rescan(); the objects detach the links when they close. */
    synchronized void close() {
        closed = true;
    }

    /** Network namespaces whose hooks carry our programs now (0 when no probe needed them). */
    synchronized int namespaceCount() {
        int n = 0;
        for (List<Made> links : hooked.values()) if (!links.isEmpty()) n++;
        return n;
    }

    synchronized int links() {
        int n = 0;
        for (List<Made> links : hooked.values()) n += links.size();
        return n;
    }
}
