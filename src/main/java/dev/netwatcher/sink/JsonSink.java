package dev.netwatcher.sink;

import dev.netwatcher.event.Event;
import dev.netwatcher.event.Cgroup;
import dev.netwatcher.event.EventHeader;
import dev.netwatcher.event.FieldWriter;
import dev.netwatcher.event.Flow;
import dev.netwatcher.event.Layers;
import dev.netwatcher.event.Report;
import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SerializedString;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/** JSON Lines: one object per event, common keys first (see README "JSON keys"). */
public final class JsonSink implements EventSink, FieldWriter {
    private final JsonGenerator json;
    /** Keys and the few repeated values (type, family, proto) encoded once: JSON writing is the event path's cost. */
    private final IdentityHashMap<String, SerializedString> encoded = new IdentityHashMap<>();
    private static final int RECENT = 128;
    private final String[] recentKeys = new String[RECENT];
    private final SerializedString[] recentText = new SerializedString[RECENT];
    /** Address text, pre-encoded, direct-mapped by address (a busy run repeats a few addresses). */
    private final InetAddress[] addrKeys = new InetAddress[1024];
    private final SerializedString[] addrText = new SerializedString[1024];
    private static final SerializedString TYPE = new SerializedString("type"), TS_NS = new SerializedString("ts_ns"),
            FAMILY = new SerializedString("family"), PROTO = new SerializedString("proto"),
            SADDR = new SerializedString("saddr"), SPORT = new SerializedString("sport"),
            DADDR = new SerializedString("daddr"), DPORT = new SerializedString("dport"),
            NETNS = new SerializedString("netns"), PID = new SerializedString("pid"), COMM = new SerializedString("comm"),
            CGROUP = new SerializedString("cgroup"), CONTAINER = new SerializedString("container"), POD_UID = new SerializedString("pod_uid");

    public JsonSink(OutputStream out) {
        try {
            json = new JsonFactory().createGenerator(out, JsonEncoding.UTF8);
            json.setRootValueSeparator(new SerializedString(""));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void accept(Event e) {
        try {
            EventHeader h = e.header();
            Flow f = e.flow();
            json.writeStartObject();
            json.writeFieldName(TYPE);
            json.writeString(encode(e.type()));
            json.writeFieldName(TS_NS);
            json.writeNumber(h.tsNs());
            writeFlow(f, h.netns());
            json.writeFieldName(PID);
            if (h.hasTask()) json.writeNumber(h.pid());
            else json.writeNull();
            json.writeFieldName(COMM);
            if (h.hasTask()) json.writeString(h.comm());
            else json.writeNull();
            Cgroup cg = h.cgroup();
            json.writeFieldName(CGROUP);
            if (cg != null) json.writeString(cg.path());
            else json.writeNull();
            if (cg != null && cg.container() != null) {
                json.writeFieldName(CONTAINER);
                json.writeString(cg.container());
            }
            if (cg != null && cg.podUid() != null) {
                json.writeFieldName(POD_UID);
                json.writeString(cg.podUid());
            }
            e.writeFields(this);
            json.writeEndObject();
            json.writeRaw('\n');
        } catch (IOException x) {
            throw new UncheckedIOException(x);
        }
    }

    @Override
    public void report(Report r) {
        try {
            for (Report.Row row : r.rows()) {
                json.writeStartObject();
                json.writeFieldName(TYPE);
                json.writeString(encode(r.type()));
                json.writeFieldName(TS_NS);
                json.writeNumber(r.tsNs());
                r.writeFields(this);
                row.writeFields(this);
                json.writeEndObject();
                json.writeRaw('\n');
            }
        } catch (IOException x) {
            throw new UncheckedIOException(x);
        }
    }

    @Override
    public void flow(Flow f, long netns) {
        try {
            writeFlow(f, netns);
        } catch (IOException x) {
            throw new UncheckedIOException(x);
        }
    }

    /** The flow keys every event line and flow_totals row share. */
    private void writeFlow(Flow f, long netns) throws IOException {
        json.writeFieldName(FAMILY);
        writeEncoded(f.familyName());
        json.writeFieldName(PROTO);
        writeEncoded(f.protoName());
        json.writeFieldName(SADDR);
        writeAddress(f.saddr());
        json.writeFieldName(SPORT);
        json.writeNumber(f.sport());
        json.writeFieldName(DADDR);
        writeAddress(f.daddr());
        json.writeFieldName(DPORT);
        json.writeNumber(f.dport());
        json.writeFieldName(NETNS);
        json.writeNumber(netns);
    }

    private void writeAddress(InetAddress a) throws IOException {
        if (a == null) {
            json.writeNull();
            return;
        }
        int i = a.hashCode() & (addrKeys.length - 1);
        if (!a.equals(addrKeys[i])) {
            addrKeys[i] = a;
            addrText[i] = new SerializedString(Flow.address(a));
        }
        json.writeString(addrText[i]);
    }

    /**
     * For keys and values from fixed sets of String objects (literals, Flow's protocol
     * names): cached by identity, so the cache stays as small as those sets.
     */
    private SerializedString encode(String s) {
        // direct-mapped by the key's (cached) hash in front of the map: every field name of every record
        // comes here (bench/profile.sh "-t -u --json": IdentityHashMap.get 11 % of the consumer's samples)
        int i = s.hashCode() & (RECENT - 1);
        if (recentKeys[i] == s) return recentText[i];
        SerializedString t = encoded.computeIfAbsent(s, SerializedString::new);
        recentKeys[i] = s;
        recentText[i] = t;
        return t;
    }

    private void writeEncoded(String value) throws IOException {
        if (value == null) json.writeNull();
        else json.writeString(encode(value));
    }

    @Override
    public void string(String key, String value) {
        try {
            json.writeFieldName(encode(key));
            json.writeString(value);
        } catch (IOException x) {
            throw new UncheckedIOException(x);
        }
    }

    @Override
    public void number(String key, long value) {
        try {
            json.writeFieldName(encode(key));
            json.writeNumber(value);
        } catch (IOException x) {
            throw new UncheckedIOException(x);
        }
    }

    @Override
    public void decimal(String key, double value) {
        try {
            json.writeFieldName(encode(key));
            json.writeNumber(java.math.BigDecimal.valueOf(value).setScale(2, java.math.RoundingMode.HALF_UP));
        } catch (IOException x) {
            throw new UncheckedIOException(x);
        }
    }

    @Override
    public void strings(String key, List<String> values) {
        try {
            json.writeFieldName(encode(key));
            json.writeStartArray();
            for (String v : values) json.writeString(v);
            json.writeEndArray();
        } catch (IOException x) {
            throw new UncheckedIOException(x);
        }
    }

    @Override
    public void numbers(String key, Map<String, Long> values) {
        try {
            json.writeObjectFieldStart(key);
            for (Map.Entry<String, Long> e : values.entrySet()) json.writeNumberField(e.getKey(), e.getValue());
            json.writeEndObject();
        } catch (IOException x) {
            throw new UncheckedIOException(x);
        }
    }

    @Override
    public void layers(String key, Layers l) {
        try {
            json.writeFieldName(encode(key));
            json.writeStartObject();
            for (int i = 0; i < l.size(); i++) {
                if (!l.has(i)) continue;
                json.writeFieldName(encode(l.name(i)));
                json.writeNumber(l.get(i));
            }
            json.writeEndObject();
        } catch (IOException x) {
            throw new UncheckedIOException(x);
        }
    }

    @Override
    public void flush() {
        try {
            json.flush();
        } catch (IOException x) {
            throw new UncheckedIOException(x);
        }
    }

    @Override
    public void close() {
        flush();
    }
}
