package dev.netwatcher.analysis;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** NoiseLevel's buckets and its 99.9th percentile, against values whose answer is known. */
class NoiseLevelTest {
    @Property
    void aValueLiesInItsBucketWithin19Percent(@ForAll @LongRange(min = 0, max = 1L << 50) long ns) {
        int b = NoiseLevel.bucket(ns);
        assertTrue(ns <= NoiseLevel.upper(b), ns + " above its bucket's bound " + NoiseLevel.upper(b));
        assertTrue(b == 0 || ns > NoiseLevel.upper(b - 1), ns + " belongs below bucket " + b);
        assertTrue(NoiseLevel.upper(b) <= ns * 1.25 + 3, "bucket " + b + " of " + ns + " is " + NoiseLevel.upper(b));
    }

    @Test
    void theLevelIsTheThirdLargestBelow3000SamplesThenThe999thPercentile() {
        NoiseLevel n = new NoiseLevel();
        assertEquals(0, n.level());
        n.add(7_000_000);
        assertTrue(n.level() >= 7_000_000 && n.level() < 7_000_000 * 1.2, "the only one: " + n.level());
        n = new NoiseLevel();
        for (int i = 1; i <= 150; i++) n.add(i * 1000L);
        n.add(900_000_000);
        n.add(800_000_000);
        assertTrue(n.level() >= 150_000 && n.level() < 150_000 * 1.2, "two outliers do not set it: " + n.level());
        for (int i = 151; i <= 999; i++) n.add(i * 1000L);
        assertTrue(n.level() >= 997_000 && n.level() < 997_000 * 1.2, "the 3rd largest of 999: " + n.level());
        n = new NoiseLevel();
        for (int i = 1; i <= 10_000; i++) n.add(i);
        // 10,000 samples 1..10,000: the 10th largest is 9,991
        assertTrue(n.level() >= 9_991 && n.level() < 9_991 * 1.2, "p99.9: " + n.level());
    }

    @Test
    void theOlderHalfIsForgotten() {
        NoiseLevel n = new NoiseLevel();
        for (int i = 0; i < 5_000; i++) n.add(1_000_000);
        for (int i = 0; i < 10_000; i++) n.add(1_000);
        assertTrue(n.level() < 1_300, "10,000 samples later the 1 ms ones are gone: " + n.level());
    }
}
