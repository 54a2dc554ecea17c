package dev.netwatcher.protocol;

import dev.netwatcher.event.DnsEvent;
import dev.netwatcher.event.Event;
import dev.netwatcher.event.EventHeader;
import dev.netwatcher.event.Flow;
import dev.netwatcher.event.HttpEvent;
import dev.netwatcher.event.MysqlEvent;
import dev.netwatcher.event.RedisEvent;
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
    static final int MAX_REDIS_PENDING = 4096;
    private int redisPort = 6379;
    private long redisResyncs;
    private final Map<Object, ArrayDeque<Pending>> redis = bounded();
    private final Map<Object, RespStream[]> redisStreams = new LinkedHashMap<>(256, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Object, RespStream[]> eldest) {
            if (size() <= MAX_SOCKETS) return false;
            redisResyncs += eldest.getValue()[0].resyncs + eldest.getValue()[1].resyncs;
            return true;
        }
    };
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
            case REDIS -> redis(s).stream().findFirst();
        };
    }

    /** Every exchange this segment completes, in order (a Redis pipeline answers many in one segment). */
    public List<Event> acceptAll(Segment s) {
        return s.kind() == Segment.Kind.REDIS ? redis(s) : accept(s).map(List::of).orElse(List.of());
    }

    /** -R's server port: segments towards it carry commands, segments from it replies. */
    public Exchanges redisPort(int port) {
        this.redisPort = port;
        return this;
    }

    /** Times a Redis stream lost its place (a gap, bytes that are not RESP, a value too large to buffer). */
    public long redisResyncs() {
        return redisResyncs + redisStreams.values().stream().mapToLong(r -> r[0].resyncs + r[1].resyncs).sum();
    }

    /** The request waiting under key that s answers (it went the other way), taken out of the table; else null. */
    private static <K> Pending answered(Map<K, Pending> table, K key, Segment s) {
        Pending p = table.get(key);
        if (p == null || p.egress() == s.egress()) return null;
        table.remove(key);
        return p;
    }

    /** A retransmission of the message start last seen on this socket and direction (the same sequence number). */
    private boolean retransmitted(Object socket, Segment s) {
        Long last = lastStart.put(new Start(socket, s.egress()), s.seq());
        return last != null && last == s.seq();
    }

    private Object socket(Segment s) {
        if (s.cookie() != 0) return s.cookie();
        Flow f = s.flow(); // no socket (should not happen at the cgroup hooks): the unordered 4-tuple
        String a = Flow.endpoint(f.saddr(), f.sport()), b = Flow.endpoint(f.daddr(), f.dport());
        return a.compareTo(b) < 0 ? a + b : b + a;
    }

    private Optional<Event> http(Segment s) {
        byte[] d = s.data();
        if (retransmitted(socket(s), s)) return Optional.empty();
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
        Pending p = answered(dns, key, s);
        if (p == null) return Optional.empty();
        Dns.Message q = (Dns.Message) p.request();
        return Optional.of(new DnsEvent(header(p, s), p.flow(), p.egress() ? "client" : "server", msg.id(), q.name(),
                q.qtype(), msg.rcode(), msg.answers(), s.header().tsNs() - p.header().tsNs()));
    }

    /**
     * Redis: each direction of a connection is a RESP stream (RespStream); commands (towards the
     * server port) queue per socket, and each reply takes the oldest command: RESP answers in order,
     * pipelined or not. Push messages (RESP3 '>', pub/sub) answer no command. When a stream loses
     * its place, the commands waiting on that socket are forgotten (their order is no longer known).
     */
    private List<Event> redis(Segment s) {
        Object key = socket(s);
        boolean toServer = s.flow().dport() == redisPort;
        RespStream[] pair = redisStreams.computeIfAbsent(key, k -> new RespStream[] {new RespStream(), new RespStream()});
        RespStream stream = pair[toServer ? 0 : 1];
        long lostBefore = stream.resyncs;
        List<RespStream.Message> msgs = stream.feed(s);
        ArrayDeque<Pending> q = redis.computeIfAbsent(key, k -> new ArrayDeque<>());
        if (stream.resyncs != lostBefore && !q.isEmpty()) {
            forgotten += q.size();
            q.clear();
        }
        List<Event> out = new ArrayList<>();
        for (RespStream.Message m : msgs) {
            Resp.Value v = m.value();
            if (toServer) {
                if (v.words().isEmpty()) continue; // not a command
                if (q.size() >= MAX_REDIS_PENDING) {
                    q.pollFirst();
                    forgotten++;
                }
                q.addLast(new Pending(m.header(), m.flow(), s.egress(), s.seq(), v));
                continue;
            }
            if (v.type().equals("push")) continue;
            Pending p = q.peekFirst();
            if (p == null || p.egress() == s.egress()) continue;
            q.pollFirst();
            Resp.Value c = (Resp.Value) p.request();
            String name = c.words().get(0).toUpperCase(java.util.Locale.ROOT);
            String arg = c.words().size() > 1 ? c.words().get(1) : null;
            out.add(new RedisEvent(header(p, m.header()), p.flow(), p.egress() ? "client" : "server", name, arg,
                    m.header().tsNs() - p.header().tsNs(), v.type(), v.type().equals("error") ? v.text() : null));
        }
        if (q.isEmpty()) redis.remove(key);
        return out;
    }

    /**
     * A MySQL command waits for the first packet of its answer on the same socket (the protocol has
     * one command in flight per connection). Commands that get no answer (COM_QUIT,
     * COM_STMT_CLOSE) are not kept.
     */
    private Optional<Event> mysql(Segment s) {
        byte[] d = s.data();
        Object key = socket(s);
        if (retransmitted(key, s)) return Optional.empty();
        Optional<Mysql.Command> cmd = Mysql.command(d, d.length);
        if (cmd.isPresent()) {
            if (cmd.get().answered()) mysql.put(key, new Pending(s.header(), s.flow(), s.egress(), s.seq(), cmd.get()));
            return Optional.empty();
        }
        Optional<Mysql.Answer> answer = Mysql.answer(d, d.length);
        Pending p = answer.isEmpty() ? null : answered(mysql, key, s);
        if (p == null) return Optional.empty();
        Mysql.Command c = (Mysql.Command) p.request();
        Mysql.Answer a = answer.get();
        return Optional.of(new MysqlEvent(header(p, s), p.flow(), p.egress() ? "client" : "server", c.name(), c.query(),
                c.stmtId(), s.header().tsNs() - p.header().tsNs(), a.outcome(), a.errorCode(), a.error(), a.columns()));
    }

    /** A ClientHello waits for the ServerHello on the same socket, in the other direction. */
    private Optional<Event> tls(Segment s) {
        byte[] d = s.data();
        Object key = socket(s);
        if (retransmitted(key, s)) return Optional.empty();
        Optional<Tls.ClientHello> hello = Tls.clientHello(d, d.length);
        if (hello.isPresent()) {
            tls.put(key, new Pending(s.header(), s.flow(), s.egress(), s.seq(), hello.get()));
            return Optional.empty();
        }
        Optional<Tls.ServerHello> answer = Tls.serverHello(d, d.length);
        Pending p = answer.isEmpty() ? null : answered(tls, key, s);
        if (p == null) return Optional.empty();
        Tls.ClientHello c = (Tls.ClientHello) p.request();
        Tls.ServerHello sh = answer.get();
        return Optional.of(new TlsEvent(header(p, s), p.flow(), p.egress() ? "client" : "server", c.sni(), c.versions(),
                sh.version(), c.alpn(), sh.alpn(), sh.cipher(), s.header().tsNs() - p.header().tsNs()));
    }

    /** The answer's time and namespace, with the task of whichever side of the exchange this host sent from. */
    private static EventHeader header(Pending p, Segment s) {
        return header(p, s.header());
    }

    private static EventHeader header(Pending p, EventHeader answer) {
        EventHeader task = p.egress() ? p.header() : answer;
        return new EventHeader(answer.tsNs(), answer.netns(), task.pid(), task.tid(), task.comm(), task.cgroup());
    }
}
