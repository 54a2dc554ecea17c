package dev.netwatcher.sink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.netwatcher.analysis.TimeLoad;
import dev.netwatcher.event.Flow;
import dev.netwatcher.event.FlowTotal;
import dev.netwatcher.event.FlowTotalsReport;
import dev.netwatcher.event.RttHistogram;
import dev.netwatcher.event.RttReport;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every report goes through the same two sink methods: a JSON line per row, a console table per report. */
class ReportSinkTest {
    private static final long TS = 1_700_000_000_123_456_789L;

    private static String json(dev.netwatcher.event.Report r) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonSink s = new JsonSink(out)) {
            s.report(r);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static List<String> console(dev.netwatcher.event.Report r) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ConsoleSink s = new ConsoleSink(new PrintStream(out, true, StandardCharsets.UTF_8))) {
            s.report(r);
        }
        return out.toString(StandardCharsets.UTF_8).lines().toList();
    }

    @Test
    void flowTotalsAsJsonLinesAndATable() throws Exception {
        Flow f = new Flow(Flow.AF_INET, 6, InetAddress.getByName("198.18.0.1"), 41000, InetAddress.getByName("198.18.0.2"), 80);
        FlowTotalsReport r = new FlowTotalsReport(TS, List.of(new FlowTotal(4026531840L, f, 3, 300, 2, 20)));
        JsonNode n = new ObjectMapper().readTree(json(r));
        assertEquals("flow_totals", n.get("type").asText());
        assertEquals(TS, n.get("ts_ns").asLong());
        assertEquals("198.18.0.1", n.get("saddr").asText());
        assertEquals(41000, n.get("sport").asInt());
        assertEquals(4026531840L, n.get("netns").asLong());
        assertEquals(300, n.get("tx_bytes").asLong());
        assertEquals(20, n.get("rx_bytes").asLong());
        List<String> lines = console(r);
        assertEquals(4, lines.size(), String.join("\n", lines));
        assertTrue(lines.get(0).startsWith("--- flow totals, ") && lines.get(0).endsWith(" ---"), lines.get(0));
        assertEquals(lines.get(1).indexOf("TX_BYTES") + "TX_BYTES".length(), lines.get(2).indexOf(" 300 ") + 4, "right-aligned under its column");
        assertEquals("---", lines.get(3));
    }

    @Test
    void timeLoadAndRttRowsCarryTheirReportsKeys() throws Exception {
        TimeLoad.Report t = new TimeLoad.Report(TS, 1_000_000_000L,
                List.of(new TimeLoad.Row("packet", "tx", "tcp", "qdisc", 10, 5_000, 400, 900, 1_000)));
        JsonNode n = new ObjectMapper().readTree(json(t));
        assertEquals("time_load", n.get("type").asText());
        assertEquals(1_000_000_000L, n.get("interval_ns").asLong());
        assertEquals("qdisc", n.get("layer").asText());
        assertEquals(900, n.get("p99_ns").asLong());
        assertTrue(console(t).get(0).contains("last 1.0 s"));

        long[] counts = new long[24];
        counts[6] = 2;
        RttReport r = new RttReport(TS, List.of(new RttHistogram(1, Flow.AF_INET6, InetAddress.getByName("fd00:198::2"), counts, 2,
                150, 70, 80)));
        JsonNode h = new ObjectMapper().readTree(json(r));
        assertEquals("rtt_histogram", h.get("type").asText());
        assertEquals("ipv6", h.get("family").asText());
        assertEquals(2, h.get("buckets_us").get("64").asLong());
        assertTrue(console(r).get(2).endsWith("[64,128):2"), console(r).get(2));
    }

    @Test
    void anEmptyReportPrintsNothing() {
        assertEquals(List.of(), console(new FlowTotalsReport(TS, List.of())));
        assertEquals("", json(new FlowTotalsReport(TS, List.of())));
    }
}
