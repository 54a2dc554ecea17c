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
            json.writeStringField("family", f.familyName());
            json.writeStringField("proto", f.protoName());
            json.writeStringField("saddr", Flow.address(f.saddr()));
            json.writeNumberField("sport", f.sport());
            json.writeStringField("daddr", Flow.address(f.daddr()));
            json.writeNumberField("dport", f.dport());
            json.writeNumberField("netns", h.netns());
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
