package dev.netwatcher.sink;

import dev.netwatcher.event.Event;
import dev.netwatcher.event.Cgroup;
import dev.netwatcher.event.EventHeader;
import dev.netwatcher.event.FieldWriter;
import dev.netwatcher.event.Flow;
import dev.netwatcher.event.Layers;
import dev.netwatcher.event.Report;

import java.io.OutputStream;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;

/**
 * JSON Lines: one object per event, common keys first (see README "JSON keys"). Written by
 * {@link JsonLineWriter}, not Jackson's generator: the encoder is the event path's main cost (see there).
 */
public final class JsonSink implements EventSink, FieldWriter {
    private final JsonLineWriter json;
    /** Address text, direct-mapped by address (a busy run repeats a few addresses); the same String object
     *  each time, so the writer's cache keeps its encoded bytes. */
    private final InetAddress[] addrKeys = new InetAddress[1024];
    private final String[] addrText = new String[1024];

    /** The keys every line has, encoded once. */
    private static final byte[] TYPE = JsonLineWriter.encodeKey("type"), TS_NS = JsonLineWriter.encodeKey("ts_ns"),
            FAMILY = JsonLineWriter.encodeKey("family"), PROTO = JsonLineWriter.encodeKey("proto"),
            SADDR = JsonLineWriter.encodeKey("saddr"), SPORT = JsonLineWriter.encodeKey("sport"),
            DADDR = JsonLineWriter.encodeKey("daddr"), DPORT = JsonLineWriter.encodeKey("dport"),
            NETNS = JsonLineWriter.encodeKey("netns"), PID = JsonLineWriter.encodeKey("pid"),
            COMM = JsonLineWriter.encodeKey("comm"), CGROUP = JsonLineWriter.encodeKey("cgroup"),
            CONTAINER = JsonLineWriter.encodeKey("container"), POD_UID = JsonLineWriter.encodeKey("pod_uid");
    private static final byte[][] TX_LAYERS = keys(Layers.TX), RX_LAYERS = keys(Layers.RX);

    private static byte[][] keys(String[] names) {
        byte[][] k = new byte[names.length][];
        for (int i = 0; i < names.length; i++) k[i] = JsonLineWriter.encodeKey(names[i]);
        return k;
    }

    public JsonSink(OutputStream out) {
        json = new JsonLineWriter(out);
    }

    @Override
    public void accept(Event e) {
        EventHeader h = e.header();
        Flow f = e.flow();
        json.startObject();
        json.key(TYPE);
        json.recurringString(e.type());
        json.key(TS_NS);
        json.timestamp(h.tsNs());
        writeFlow(f, h.netns());
        json.key(PID);
        if (h.hasTask()) json.number(h.pid());
        else json.nul();
        json.key(COMM);
        if (h.hasTask()) json.recurringString(h.comm());
        else json.nul();
        Cgroup cg = h.cgroup();
        json.key(CGROUP);
        if (cg != null) json.recurringString(cg.path());
        else json.nul();
        if (cg != null && cg.container() != null) {
            json.key(CONTAINER);
            json.recurringString(cg.container());
        }
        if (cg != null && cg.podUid() != null) {
            json.key(POD_UID);
            json.recurringString(cg.podUid());
        }
        e.writeFields(this);
        json.endObject();
        json.endLine();
    }

    @Override
    public void report(Report r) {
        for (Report.Row row : r.rows()) {
            json.startObject();
            json.key(TYPE);
            json.recurringString(r.type());
            json.key(TS_NS);
            json.number(r.tsNs());
            r.writeFields(this);
            row.writeFields(this);
            json.endObject();
            json.endLine();
        }
    }

    @Override
    public void flow(Flow f, long netns) {
        writeFlow(f, netns);
    }

    /** The flow keys every event line and flow_totals row share. */
    private void writeFlow(Flow f, long netns) {
        json.key(FAMILY);
        json.recurringString(f.familyName());
        json.key(PROTO);
        json.recurringString(f.protoName());
        json.key(SADDR);
        writeAddress(f.saddr());
        json.key(SPORT);
        json.number(f.sport());
        json.key(DADDR);
        writeAddress(f.daddr());
        json.key(DPORT);
        json.number(f.dport());
        json.key(NETNS);
        json.recurringNumber(netns, 0);
    }

    private void writeAddress(InetAddress a) {
        if (a == null) {
            json.nul();
            return;
        }
        int i = a.hashCode() & (addrKeys.length - 1);
        if (!a.equals(addrKeys[i])) {
            addrKeys[i] = a;
            addrText[i] = Flow.address(a);
        }
        json.recurringString(addrText[i]);
    }

    @Override
    public void string(String key, String value) {
        json.key(key);
        json.string(value);
    }

    @Override
    public void number(String key, long value) {
        json.key(key);
        json.number(value);
    }

    @Override
    public void decimal(String key, double value) {
        json.key(key);
        json.rawNumber(java.math.BigDecimal.valueOf(value).setScale(2, java.math.RoundingMode.HALF_UP).toString());
    }

    @Override
    public void strings(String key, List<String> values) {
        json.key(key);
        json.startArray();
        for (String v : values) json.string(v);
        json.endArray();
    }

    @Override
    public void numbers(String key, Map<String, Long> values) {
        json.key(key);
        json.startObject();
        for (Map.Entry<String, Long> e : values.entrySet()) {
            json.freshKey(e.getKey());
            json.number(e.getValue());
        }
        json.endObject();
    }

    @Override
    public void layers(String key, Layers l) {
        json.key(key);
        json.startObject();
        byte[][] names = l.names() == Layers.TX ? TX_LAYERS : l.names() == Layers.RX ? RX_LAYERS : null;
        for (int i = 0; i < l.size(); i++) {
            if (!l.has(i)) continue;
            if (names != null) json.key(names[i]);
            else json.key(l.name(i));
            json.number(l.get(i));
        }
        json.endObject();
    }

    @Override
    public void flush() {
        json.flush();
    }

    @Override
    public void close() {
        flush();
    }
}
