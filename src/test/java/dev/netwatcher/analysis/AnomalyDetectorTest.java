package dev.netwatcher.analysis;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The -L detector on synthetic series with known answers. */
class AnomalyDetectorTest {
    static final AnomalyDetector.Config CFG = AnomalyDetector.Config.DEFAULT;
    static final String LAYER = "packet/tx/tcp/qdisc";

    /** Log-normal noise around medianNs: the shape of real layer times (long right tail). */
    static long noisy(Random r, long medianNs, double sigma) {
        return (long) (medianNs * Math.exp(sigma * r.nextGaussian()));
    }

    @Test
    void stableNoiseNeverAlarms() {
        AnomalyDetector d = new AnomalyDetector(CFG);
        Random r = new Random(1);
        int alarms = 0;
        for (int i = 0; i < 100_000; i++) {
            if (d.observe(LAYER, "flow" + (i % 10), noisy(r, 80_000, 0.2)) != null) alarms++;
        }
        assertEquals(0, alarms, "log-normal noise (sigma 0.2) around 80 µs");
    }

    @Test
    void aRealStepAlarmsWithLayerBaselineAndFactor() {
        AnomalyDetector d = new AnomalyDetector(CFG);
        Random r = new Random(2);
        for (int i = 0; i < 1000; i++) assertNull(d.observe(LAYER, "f", noisy(r, 100_000, 0.1)));
        AnomalyDetector.Anomaly a = d.observe(LAYER, "f", 5_000_000);
        assertNotNull(a, "5 ms against a 100 µs baseline");
        assertEquals("flow", a.scope(), "the flow has enough samples for its own baseline");
        assertTrue(a.factor() > 40 && a.factor() < 60, "about 50x: " + a.factor());
        assertTrue(a.baselineNs() > 90_000 && a.baselineNs() < 110_000, "baseline " + a.baselineNs());
        assertTrue(a.thresholdNs() < 5_000_000);
    }

    @Test
    void aNewFlowIsJudgedByItsLayer() {
        AnomalyDetector d = new AnomalyDetector(CFG);
        for (int i = 0; i < 200; i++) d.observe(LAYER, "old" + (i % 4), 100_000 + (i % 7) * 1000);
        AnomalyDetector.Anomaly a = d.observe(LAYER, "new", 3_000_000);
        assertNotNull(a);
        assertEquals("layer", a.scope());
    }

    @Test
    void microsecondNoiseStaysUnderTheFloor() {
        AnomalyDetector d = new AnomalyDetector(CFG);
        Random r = new Random(3);
        int alarms = 0;
        for (int i = 0; i < 10_000; i++) {
            long ns = i % 100 == 0 ? 30_000 : noisy(r, 1_000, 0.1); // 30x spikes, but only 30 µs
            if (d.observe(LAYER, null, ns) != null) alarms++;
        }
        assertEquals(0, alarms, "spikes under the 50 µs floor are not anomalies");
    }

    @Test
    void nothingIsJudgedDuringWarmUp() {
        AnomalyDetector d = new AnomalyDetector(CFG);
        for (int i = 0; i < CFG.warmup() - 1; i++) d.observe(LAYER, "f", 100_000);
        assertNull(d.observe(LAYER, "f", 100_000_000), "sample 50: still warming up");
        assertNotNull(d.observe(LAYER, "f", 100_000_000), "sample 51: judged");
    }

    @Test
    void oneOutlierDoesNotRaiseTheBaselineButALastingShiftIsLearned() {
        AnomalyDetector d = new AnomalyDetector(CFG);
        for (int i = 0; i < 500; i++) d.observe(LAYER, null, 100_000);
        assertNotNull(d.observe(LAYER, null, 10_000_000));
        assertNotNull(d.observe(LAYER, null, 10_000_000), "the first outlier did not hide the second");
        int alarms = 0;
        for (int i = 0; i < 1000; i++) if (d.observe(LAYER, null, 1_000_000) != null) alarms++;
        assertTrue(alarms > 0 && alarms < 200, "a 10x shift alarms at first, then becomes the baseline: " + alarms);
        assertNull(d.observe(LAYER, null, 1_000_000));
    }

    @Test
    void absoluteThresholdFlagsEvenWithoutBaseline() {
        AnomalyDetector d = new AnomalyDetector(new AnomalyDetector.Config(0.05, 50, 6, 3, 50_000, 2_000_000, 16));
        AnomalyDetector.Anomaly a = d.observe(LAYER, null, 3_000_000);
        assertNotNull(a, "above the fixed 2 ms threshold on the first sample");
        assertEquals("absolute", a.scope());
        assertNull(d.observe(LAYER, null, 1_000_000));
    }

    @Test
    void perFlowBaselinesAreBounded() {
        AnomalyDetector d = new AnomalyDetector(new AnomalyDetector.Config(0.05, 50, 6, 3, 50_000, 0, 100));
        for (int i = 0; i < 10_000; i++) d.observe(LAYER, "flow" + i, 1000);
        assertEquals(100, d.trackedFlows());
    }
}
