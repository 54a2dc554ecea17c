package dev.netwatcher.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The option groups (mixins): defaults whether or not a group's options are given, and --help's sections. */
class OptionGroupsTest {
    private static Netwatcher parse(String... args) {
        Netwatcher app = new Netwatcher();
        new CommandLine(app).parseArgs(args);
        return app;
    }

    @Test
    void defaultsHoldInGroupsGivenAndNotGiven() {
        for (Netwatcher app : new Netwatcher[] {parse(), parse("-M", "-R", "--redis-port", "7000", "-t", "--sample", "4",
                "--json", "-d", "443")}) {
            assertEquals(3306, app.payload.mysqlPort);
            assertEquals(5.0, app.watch.connEvery);
            assertEquals(1.0, app.timing.interval);
            assertEquals(10.0, app.timing.totalsEvery);
            assertEquals(3.0, app.timing.anomalyFactor);
            assertEquals(6.0, app.timing.anomalySigmas);
            assertEquals(10.0, app.timing.anomalyFloorUs);
            assertEquals(-1, app.output.top);
            assertEquals(50.0, app.timing.anomalyWarmup);
            assertEquals(16384, app.output.ringKb);
            assertEquals(Path.of("data"), app.output.logDir);
        }
        Netwatcher given = parse("-M", "-R", "--redis-port", "7000", "-t", "--sample", "4", "--json", "-d", "443");
        assertEquals(7000, given.payload.redisPort);
        assertEquals(4, given.timing.sample);
        assertTrue(given.payload.mysql && given.payload.redis && given.watch.time && given.output.json);
        assertEquals(443, given.filters.dport);
        assertEquals(6379, parse().payload.redisPort);
        assertEquals(1, parse().timing.sample);
    }

    @Test
    void helpHasASectionPerGroup() {
        StringWriter out = new StringWriter();
        assertEquals(0, Main.run(new String[] {"--help"}, new PrintWriter(out), new PrintWriter(new StringWriter())));
        String help = out.toString();
        String[] sections = {"What to watch (the original's options, and more):", "Application protocols:",
                "Filters (applied in the kernel):", "Packet timing and -L:", "Output, metrics and the run:"};
        int last = -1;
        for (String s : sections) {
            int at = help.indexOf("\n" + s + "\n");
            assertTrue(at > last, s + " after the one before: " + help);
            last = at;
        }
        assertTrue(help.indexOf("  -d, --dport=PORT") > help.indexOf("Filters (applied in the kernel):"), help);
        assertTrue(help.indexOf("      --mysql-port=PORT      With -M: the server port (default: 3306).") > 0, help);
    }
}
