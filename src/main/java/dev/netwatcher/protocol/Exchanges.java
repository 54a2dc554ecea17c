package dev.netwatcher.protocol;

import dev.netwatcher.event.DnsEvent;
import dev.netwatcher.event.Event;
import dev.netwatcher.event.EventHeader;
import dev.netwatcher.event.Flow;
import dev.netwatcher.event.HttpEvent;
import dev.netwatcher.event.MysqlEvent;
import dev.netwatcher.event.TlsEvent;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Pairs requests with responses on the same socket: a request sent and a response
 * received make a client-side exchange, a request received and a response sent a
 * server-side one. HTTP/1.x answers in order on a connection, so pending requests
 * are a queue per socket; DNS pairs by socket and message id; a TLS ClientHello by socket with
 * the ServerHello that answers it. The tables are
 * bounded: the oldest sockets are forgotten first, counted in {@link #forgotten()}.
 */
public final class Exchanges {
    static final int MAX_SOCKETS = 8192, MAX_PENDING = 64;
    /** A DNS query unanswered this long is reported with rcode TIMEOUT (resolv.conf's default timeout). */
    public static final long DNS_TIMEOUT_NS = 5_000_000_000L;

    private record Pending(EventHeader header, Flow flow, boolean egress, long seq, Object request) {}

    /** The last HTTP message start seen per socket and direction: a retransmitted segment repeats its sequence number. */
    private record Start(Object socket, boolean egress) {}

    private final Map<Start, Long> lastStart = new LinkedHashMap<>(256, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Start, Long> eldest) {
            return size() > MAX_SOCKETS * 2;
        }
    };

    private final boolean fullPaths;

    /** fullPaths: HTTP paths with their query values (see {@link Http#request(byte[], int, boolean)}). */
    public Exchanges(boolean fullPaths) {
        this.fullPaths = fullPaths;
    }

    public Exchanges() {
        this(false);
    }

    private final Map<Object, ArrayDeque<Pending>> http = bounded();
    private final Map<Object, Pending> dns = bounded();
    private final Map<Object, Pending> tls = bounded();
    private final Map<Object, Pending> mysql = bounded();
    private long forgotten;

    private <K, V> Map<K, V> bounded() {
        return new LinkedHashMap<>(256, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
                if (size() <= MAX_SOCKETS) return false;
                forgotten++;
                return true;
            }
        };
    }

    /** Requests or queries that were dropped from the tables before an answer came. */
    public long forgotten() {
        return forgotten;
    }

    /**
     * DNS queries sent (client side) that have waited DNS_TIMEOUT_NS by nowEpochNs: one
     * event each with rcode TIMEOUT and the wait as latency; they are then forgotten (a late
     * answer pairs with nothing). Queries received (server side) that this host never
     * answered are dropped silently after the same time.
     */
    public List<Event> expire(long nowEpochNs) {
        List<Event> out = new ArrayList<>();
        for (Iterator<Map.Entry<Object, Pending>> it = dns.entrySet().iterator(); it.hasNext(); ) {
            Pending p = it.next().getValue();
            long waited = nowEpochNs - p.header().tsNs();
            if (waited < DNS_TIMEOUT_NS) continue; // insertion order is not time order after a re-put: scan all
            it.remove();
            if (!p.egress()) continue;
            Dns.Message q = (Dns.Message) p.request();
            out.add(new DnsEvent(new EventHeader(nowEpochNs, p.header().netns(), p.header().pid(), p.header().tid(),
                    p.header().comm(), p.header().cgroup()), p.flow(), "client", q.id(), q.name(), q.qtype(), "TIMEOUT", List.of(), waited));
        }
        return out;
    }

    /** The exchange this segment completes, or empty (a request, or something unparsable). */
    public Optional<Event> accept(Segment s) {
        return switch (s.kind()) {
            case HTTP -> http(s);
            case DNS -> dns(s);
            case TLS -> tls(s);
            case MYSQL -> mysql(s);
        };
    }

    private Object socket(Segment s) {
        if (s.cookie() != 0) return s.cookie();
        Flow f = s.flow(); // no socket (should not happen at the cgroup hooks): the unordered 4-tuple
        String a = Flow.endpoint(f.saddr(), f.sport()), b = Flow.endpoint(f.daddr(), f.dport());
        return a.compareTo(b) < 0 ? a + b : b + a;
    }

    private Optional<Event> http(Segment s) {
        byte[] d = s.data();
        Start start = new Start(socket(s), s.egress());
        Long last = lastStart.put(start, s.seq());
        if (last != null && last == s.seq()) return Optional.empty(); // a retransmission of a message start already seen
        Optional<Http.Request> req = Http.request(d, d.length, fullPaths);
        Object key = socket(s);
        if (req.isPresent()) {
            ArrayDeque<Pending> q = http.computeIfAbsent(key, k -> new ArrayDeque<>());
            if (q.size() >= MAX_PENDING) {
                q.pollFirst();
                forgotten++;
            }
            q.addLast(new Pending(s.header(), s.flow(), s.egress(), s.seq(), req.get()));
            return Optional.empty();
        }
        Optional<Http.Status> status = Http.status(d, d.length);
        ArrayDeque<Pending> q = http.get(key);
        if (status.isEmpty() || q == null) return Optional.empty();
        Pending p = q.peekFirst();
        if (p == null || p.egress() == s.egress()) return Optional.empty();
        int code = status.get().code();
        if (code / 100 == 1 && code != 101) return Optional.empty(); // 100 Continue: the final answer follows
        q.pollFirst();
        if (q.isEmpty()) http.remove(key);
        Http.Request r = (Http.Request) p.request();
        Http.Status st = status.get();
        return Optional.of(new HttpEvent(header(p, s), p.flow(), p.egress() ? "client" : "server", r.method(), r.path(),
                r.host(), st.code(), st.reason(), s.header().tsNs() - p.header().tsNs()));
    }

    private Optional<Event> dns(Segment s) {
        byte[] d = s.data();
        int off = s.flow().proto() == 6 ? 2 : 0; // DNS over TCP: a 2-byte length first (RFC 1035 4.2.2)
        Optional<Dns.Message> m = Dns.parse(d, off, d.length - off);
        if (m.isEmpty()) return Optional.empty();
        Dns.Message msg = m.get();
        record Key(Object socket, int id) {}
        Key key = new Key(socket(s), msg.id());
        if (!msg.response()) {
            dns.put(key, new Pending(s.header(), s.flow(), s.egress(), s.seq(), msg));
            return Optional.empty();
        }
        Pending p = dns.get(key);
        if (p == null || p.egress() == s.egress()) return Optional.empty();
        dns.remove(key);
        Dns.Message q = (Dns.Message) p.request();
        return Optional.of(new DnsEvent(header(p, s), p.flow(), p.egress() ? "client" : "server", msg.id(), q.name(),
                q.qtype(), msg.rcode(), msg.answers(), s.header().tsNs() - p.header().tsNs()));
    }

    /**
     * A MySQL command waits for the first packet of its answer on the same socket (the protocol has
     * one command in flight per connection). Commands that get no answer (COM_QUIT,
     * COM_STMT_CLOSE) are not kept.
     */
    private Optional<Event> mysql(Segment s) {
        byte[] d = s.data();
        Object key = socket(s);
        Long last = lastStart.put(new Start(key, s.egress()), s.seq());
        if (last != null && last == s.seq()) return Optional.empty(); // a retransmission
        Optional<Mysql.Command> cmd = Mysql.command(d, d.length);
        if (cmd.isPresent()) {
            if (cmd.get().answered()) mysql.put(key, new Pending(s.header(), s.flow(), s.egress(), s.seq(), cmd.get()));
            return Optional.empty();
        }
        Optional<Mysql.Answer> answer = Mysql.answer(d, d.length);
        Pending p = mysql.get(key);
        if (answer.isEmpty() || p == null || p.egress() == s.egress()) return Optional.empty();
        mysql.remove(key);
        Mysql.Command c = (Mysql.Command) p.request();
        Mysql.Answer a = answer.get();
        return Optional.of(new MysqlEvent(header(p, s), p.flow(), p.egress() ? "client" : "server", c.name(), c.query(),
                c.stmtId(), s.header().tsNs() - p.header().tsNs(), a.outcome(), a.errorCode(), a.error(), a.columns()));
    }

    /** A ClientHello waits for the ServerHello on the same socket, in the other direction. */
    private Optional<Event> tls(Segment s) {
        byte[] d = s.data();
        Object key = socket(s);
        Long last = lastStart.put(new Start(key, s.egress()), s.seq());
        if (last != null && last == s.seq()) return Optional.empty(); // a retransmitted hello
        Optional<Tls.ClientHello> hello = Tls.clientHello(d, d.length);
        if (hello.isPresent()) {
            tls.put(key, new Pending(s.header(), s.flow(), s.egress(), s.seq(), hello.get()));
            return Optional.empty();
        }
        Optional<Tls.ServerHello> answer = Tls.serverHello(d, d.length);
        Pending p = tls.get(key);
        if (answer.isEmpty() || p == null || p.egress() == s.egress()) return Optional.empty();
        tls.remove(key);
        Tls.ClientHello c = (Tls.ClientHello) p.request();
        Tls.ServerHello sh = answer.get();
        return Optional.of(new TlsEvent(header(p, s), p.flow(), p.egress() ? "client" : "server", c.sni(), c.versions(),
                sh.version(), c.alpn(), sh.alpn(), sh.cipher(), s.header().tsNs() - p.header().tsNs()));
    }

    /** The answer's time and namespace, with the task of whichever side of the exchange this host sent from. */
    private static EventHeader header(Pending p, Segment s) {
        EventHeader task = p.egress() ? p.header() : s.header();
        return new EventHeader(s.header().tsNs(), s.header().netns(), task.pid(), task.tid(), task.comm(), task.cgroup());
    }
}
