package dev.netwatcher.sink;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SerializedString;
import dev.netwatcher.event.Event;
import dev.netwatcher.event.EventHeader;
import dev.netwatcher.event.FieldWriter;
import dev.netwatcher.event.Flow;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;

/** JSON Lines: one object per event, common keys first (see README "JSON keys"). */
public final class JsonSink implements EventSink, FieldWriter {
    private final JsonGenerator json;

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
            json.writeStringField("type", e.type());
            json.writeNumberField("ts_ns", h.tsNs());
            writeFlow(f, h.netns());
            if (h.hasTask()) {
                json.writeNumberField("pid", h.pid());
                json.writeStringField("comm", h.comm());
            } else {
                json.writeNullField("pid");
                json.writeNullField("comm");
            }
            e.writeFields(this);
            json.writeEndObject();
            json.writeRaw('\n');
        } catch (IOException x) {
            throw new UncheckedIOException(x);
        }
    }

    @Override
    public void timeLoad(dev.netwatcher.analysis.TimeLoad.Report r) {
        try {
            for (dev.netwatcher.analysis.TimeLoad.Row row : r.rows()) {
                json.writeStartObject();
                json.writeStringField("type", "time_load");
                json.writeNumberField("ts_ns", r.endEpochNs());
                json.writeNumberField("interval_ns", r.intervalNs());
                json.writeStringField("source", row.source());
                json.writeStringField("dir", row.dir());
                json.writeStringField("proto", row.proto());
                json.writeStringField("layer", row.layer());
                json.writeNumberField("packets", row.packets());
                json.writeNumberField("total_ns", row.totalNs());
                json.writeNumberField("p50_ns", row.p50Ns());
                json.writeNumberField("p99_ns", row.p99Ns());
                json.writeNumberField("max_ns", row.maxNs());
                json.writeEndObject();
                json.writeRaw('\n');
            }
        } catch (IOException x) {
            throw new UncheckedIOException(x);
        }
    }

    @Override
    public void flowTotals(long epochNs, java.util.List<dev.netwatcher.event.FlowTotal> totals) {
        try {
            for (dev.netwatcher.event.FlowTotal t : totals) {
                Flow f = t.flow();
                json.writeStartObject();
                json.writeStringField("type", "flow_totals");
                json.writeNumberField("ts_ns", epochNs);
                writeFlow(f, t.netns());
                json.writeNumberField("tx_packets", t.txPackets());
                json.writeNumberField("tx_bytes", t.txBytes());
                json.writeNumberField("rx_packets", t.rxPackets());
                json.writeNumberField("rx_bytes", t.rxBytes());
                json.writeEndObject();
                json.writeRaw('\n');
            }
        } catch (IOException x) {
            throw new UncheckedIOException(x);
        }
    }

    /** The flow keys every event line and flow_totals line share. */
    private void writeFlow(Flow f, long netns) throws IOException {
        json.writeStringField("family", f.familyName());
        json.writeStringField("proto", f.protoName());
        json.writeStringField("saddr", Flow.address(f.saddr()));
        json.writeNumberField("sport", f.sport());
        json.writeStringField("daddr", Flow.address(f.daddr()));
        json.writeNumberField("dport", f.dport());
        json.writeNumberField("netns", netns);
    }

    @Override
    public void string(String key, String value) {
        try {
            json.writeStringField(key, value);
        } catch (IOException x) {
            throw new UncheckedIOException(x);
        }
    }

    @Override
    public void number(String key, long value) {
        try {
            json.writeNumberField(key, value);
        } catch (IOException x) {
            throw new UncheckedIOException(x);
        }
    }

    @Override
    public void numbers(String key, java.util.Map<String, Long> values) {
        try {
            json.writeObjectFieldStart(key);
            for (java.util.Map.Entry<String, Long> e : values.entrySet()) json.writeNumberField(e.getKey(), e.getValue());
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
