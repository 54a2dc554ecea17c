package dev.netwatcher.probe;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * What the decoder learns about each TCP socket over time: since when it is known and whether
 * this machine's side connected (client) or accepted (server). The kernel keeps neither in the
 * socket. A connection seen opening (a state change out of or into SYN_SENT / SYN_RECV) has
 * an exact birth and role. A socket first met in a walk was open before: its age is a lower
 * bound (from that walk), and its role is "server" when a socket listens on its local port in
 * the same network namespace (listeners come first in each walk), else "client".
 */
final class ConnRoles {
    /** sinceNs: epoch ns it was first known; atLeast: it existed before that. */
    record Seen(long sinceNs, boolean atLeast, String role, long lastNs) {}

    /** A socket not met for this long (no walk saw it, no close was seen) is forgotten. */
    static final long FORGET_NS = 60_000_000_000L;

    private final Map<Long, Seen> sockets = new HashMap<>();
    private final Map<Long, Set<Integer>> listening = new HashMap<>();
    private long lastPrune;

    void walkStart(long netns, long nowNs) {
        listening.put(netns, new HashSet<>());
        if (nowNs - lastPrune > FORGET_NS) {
            lastPrune = nowNs;
            for (Iterator<Seen> it = sockets.values().iterator(); it.hasNext(); ) {
                if (nowNs - it.next().lastNs() > FORGET_NS) it.remove();
            }
        }
    }

    /** A state-change record; null after CLOSE (the socket is forgotten). */
    Seen stateChange(long sk, long tsNs, String oldState, String newState) {
        if ("CLOSE".equals(newState)) {
            Seen s = sockets.remove(sk);
            return s;
        }
        String role = "SYN_SENT".equals(oldState) || "SYN_SENT".equals(newState) ? "client"
                : "SYN_RECV".equals(oldState) || "SYN_RECV".equals(newState) ? "server"
                : "LISTEN".equals(newState) ? "listener" : null;
        Seen s = sockets.get(sk);
        if (s == null) {
            // CLOSE -> SYN_SENT or -> LISTEN starts a socket's life; SYN_RECV -> ESTABLISHED is the first change of an
            // accepted one (inet_csk_clone_lock() sets SYN_RECV without the tracepoint)
            s = new Seen(tsNs, role == null, role, tsNs);
        } else {
            s = new Seen(s.sinceNs(), s.atLeast(), s.role() != null ? s.role() : role, tsNs);
        }
        sockets.put(sk, s);
        return s;
    }

    /** A socket in a walk of namespace netns. */
    Seen snapshot(long sk, long netns, int localPort, long tsNs, boolean listener) {
        Set<Integer> ports = listening.computeIfAbsent(netns, n -> new HashSet<>());
        if (listener) ports.add(localPort);
        Seen s = sockets.get(sk);
        String role = listener ? "listener" : s != null && s.role() != null ? s.role()
                : ports.contains(localPort) ? "server" : "client";
        s = s == null ? new Seen(tsNs, true, role, tsNs) : new Seen(s.sinceNs(), s.atLeast(), role, tsNs);
        sockets.put(sk, s);
        return s;
    }
}
