package dev.netwatcher.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Durations with units: every duration and interval option takes 500ms, 5s, 2m, 1h, and its plain unit. */
class DurationsTest {
    private static double seconds(String v) {
        return new Converters.DurationConverter().convert(v);
    }

    @Test
    void unitsConvertToTheOptionsOwnUnit() {
        assertEquals(5.0, seconds("5"));
        assertEquals(2.5, seconds("2.5"));
        assertEquals(5.0, seconds("5s"));
        assertEquals(0.5, seconds("500ms"));
        assertEquals(120.0, seconds("2m"));
        assertEquals(3600.0, seconds("1h"));
        assertEquals(0.00025, seconds("250us"), 1e-12);
        assertEquals(0.00025, seconds("250\u00b5s"), 1e-12);
        assertEquals(1.5, seconds(" 1.5 s "));
        assertEquals(250.0, new Converters.MillisConverter().convert("250"));
        assertEquals(1500.0, new Converters.MillisConverter().convert("1.5s"));
        assertEquals(50.0, new Converters.MicrosConverter().convert("50"));
        assertEquals(2000.0, new Converters.MicrosConverter().convert("2ms"));
    }

    @Test
    void whatIsNotADurationSaysWhatIs() {
        for (String bad : new String[] {"5x", "s", "ms", "five", "1e3", "Infinity", "NaN", "5 minutes", "--", "1.2.3s"}) {
            TypeConversionException e = assertThrows(TypeConversionException.class, () -> seconds(bad), bad);
            assertEquals("'" + bad + "' is not a duration: a number of seconds, or a number with a unit (500ms, 5s, 2m, 1h)",
                    e.getMessage());
        }
        for (String zero : new String[] {"0", "0ms", "-1s", "-3"}) {
            TypeConversionException e = assertThrows(TypeConversionException.class, () -> seconds(zero), zero);
            assertEquals("a duration must be more than 0, got " + zero, e.getMessage());
        }
    }

    @Test
    void theCommandLineTakesThem() {
        Netwatcher app = new Netwatcher();
        new picocli.CommandLine(app).parseArgs("-t", "-L", "--duration", "500ms", "--interval", "2m", "--latency-threshold-us", "1ms",
                "--anomaly-floor-us", "75", "--totals-every", "1h", "--mysql-slow-ms", "0.5s", "--conn-every", "90s");
        assertEquals(0.5, app.output.duration);
        assertEquals(120.0, app.timing.interval);
        assertEquals(1000.0, app.timing.thresholdUs);
        assertEquals(75.0, app.timing.anomalyFloorUs);
        assertEquals(3600.0, app.timing.totalsEvery);
        assertEquals(500.0, app.payload.mysqlSlowMs);
        assertEquals(90.0, app.watch.connEvery);
        StringWriter err = new StringWriter();
        assertEquals(2, Main.run(new String[] {"-S", "--duration", "5x"}, new PrintWriter(new StringWriter()), new PrintWriter(err)));
        assertTrue(err.toString().contains("'5x' is not a duration"), err.toString());
        assertEquals(1, err.toString().strip().lines().count(), err.toString());
    }
}
