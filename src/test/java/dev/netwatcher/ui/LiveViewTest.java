package dev.netwatcher.ui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.netwatcher.event.EventHeader;
import dev.netwatcher.event.Flow;
import dev.netwatcher.event.Layers;
import dev.netwatcher.event.PacketEvent;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;

class LiveViewTest {
    private static PacketEvent tx(long qdiscNs, int len) throws Exception {
        Flow f = new Flow(Flow.AF_INET, 6, InetAddress.getByName("198.18.0.1"), 41000, InetAddress.getByName("198.18.0.2"), 8401);
        return new PacketEvent(new EventHeader(1, 7, 42, 42, "sender"), f, "tx",
                new Layers(Layers.TX, new long[] {2_000, 1_000, qdiscNs, 3_000}, 0b1111), 1, 1, len, 2, 0x10, false, false, 0);
    }

    @Test
    void nothingIsKeptWhileNoBrowserWatches() throws Exception {
        LiveView v = new LiveView();
        v.accept(tx(5_000_000, 100));
        JsonNode s = new ObjectMapper().readTree(v.snapshot(1));
        assertEquals(0, s.get("layers").get("tx").get("packets").asLong());
        assertEquals(0, s.get("busiest").size());
    }

    @Test
    void aWindowGivesTheDominantLayerAndTheFlows() throws Exception {
        LiveView v = new LiveView();
        v.watching(true);
        for (int i = 0; i < 100; i++) v.accept(tx(5_000_000 + i, 100));
        JsonNode s = new ObjectMapper().readTree(v.snapshot(1));
        JsonNode tx = s.get("layers").get("tx");
        assertEquals("qdisc", tx.get("dominant").asText());
        assertEquals(100, tx.get("packets").asLong());
        assertEquals(5_000_000, tx.get("stack").get(2).get("p50_ns").asLong(), 5_000_000 / 100.0); // HdrHistogram: 2 digits
        JsonNode flow = s.get("busiest").get(0);
        assertEquals("198.18.0.2:8401", flow.get("remote").asText());
        assertEquals(10_000, flow.get("bytes").asLong());
        assertEquals("42 sender", flow.get("owner").asText());
        assertEquals(1, s.get("heat").size());
        v.watching(false);
        assertEquals(0, new ObjectMapper().readTree(v.snapshot(2)).get("busiest").size(), "the last browser left: forgotten");
    }
}
