package dev.netwatcher.analysis;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TimeLoadTest {
    @Test
    void rowsSumTheIntervalAndReset() {
        TimeLoad t = new TimeLoad();
        for (int i = 1; i <= 100; i++) t.record("packet", "tx", "tcp", "qdisc", i * 1000L);
        t.record("packet", "rx", "udp", "socket", 5_000_000);
        TimeLoad.Report r = t.drain(0, 1_000_000_000L);
        assertEquals(2, r.rows().size());
        TimeLoad.Row q = r.rows().stream().filter(x -> x.layer().equals("qdisc")).findFirst().orElseThrow();
        assertEquals(100, q.packets());
        assertEquals(5_050_000, q.totalNs());
        assertTrue(Math.abs(q.p50Ns() - 50_000) <= 1000, "p50 " + q.p50Ns());
        assertTrue(Math.abs(q.p99Ns() - 99_000) <= 1000, "p99 " + q.p99Ns());
        assertEquals(List.of(), t.drain(0, 1).rows(), "a new interval starts empty");
    }
}
