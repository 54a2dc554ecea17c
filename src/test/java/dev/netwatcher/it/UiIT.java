package dev.netwatcher.it;

import dev.netwatcher.lab.Lab;
import dev.netwatcher.lab.NwProcess;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * --ui in a real browser: the distribution's Chromium, headless, driven by Selenium. The test makes
 * traffic whose dominant layers it knows: A sends to B through tbf at 2 Mbit/s (sent packets wait
 * in the qdisc), and B sends to a reader in A that sleeps before reading (received packets wait
 * in the socket queue); knocks from B on a closed port of A are dropped (NO_SOCKET). The page
 * must show qdisc and socket as the dominant layers, the flows' ports, that drop reason and (-x)
 * the connection, as text; the drops table counts the 5 knocks. The screenshot goes to target/live-view.png (README's picture is one of these).
 */
class UiIT extends LabTest {
    @Test
    void thePageShowsTheDominantLayersTheFlowsAndTheDropsTheTestCaused() throws Exception {
        CliIT.awaitClean("earlier tests");
        lab.tbf2mbit(lab.a);
        List<String> stderr = new CopyOnWriteArrayList<>();
        Process nw = CliIT.startAttached(stderr, "-t", "-k", "-x", "--conn-every", "1", "--netns", Long.toString(lab.netns(lab.a)), "--ui", "0");
        WebDriver browser = null;
        try {
            String where = stderr.stream().filter(l -> l.contains("live view (read-only) on http://127.0.0.1:")).findFirst()
                    .orElseThrow(() -> new AssertionError("it says where, on loopback: " + stderr));
            int port = Integer.parseInt(where.replaceAll(".*live view \\(read-only\\) on http://127\\.0\\.0\\.1:(\\d+)/.*", "$1"));
            browser = chromium();
            browser.get("http://127.0.0.1:" + port + "/");

            Process reader = lab.spawnReady(lab.a, Lab.python("tcp_slow_reader.py", Lab.A4, 8402, 0.5));
            Process toB = lab.spawn(lab.b, "socat", "-u", "TCP4-LISTEN:8401,reuseaddr", "OPEN:/dev/null,wronly");
            lab.awaitListening(lab.b, "t", 8401);
            Process sender = lab.spawn(lab.a, Lab.python("tcp_send.py", 41401, Lab.B4, 8401, 300, 4000, 0.02));
            Process toA = lab.spawn(lab.b, Lab.python("tcp_send.py", 41402, Lab.A4, 8402, 600, 4000, 0.01));
            for (int i = 0; i < 5; i++) lab.tryInNs(lab.b, "socat", "-u", "-", "TCP4:" + Lab.A4 + ":8499");

            // all at once, in one snapshot of the page (it is redrawn every second)
            WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
            try {
                wait.until(d -> text(d, "tx-dominant").equals("qdisc") && text(d, "rx-dominant").equals("socket")
                        && text(d, "tx-layers").contains("qdisc (dominant)")
                        && text(d, "busiest").contains(Lab.B4 + ":8401") && text(d, "busiest").contains(Lab.A4 + ":8402")
                        && text(d, "drops").contains("NO_SOCKET 5") && text(d, "recent-drops").contains(":8499")
                        && text(d, "connections").contains(Lab.A4 + ":8402"));
            } catch (org.openqa.selenium.TimeoutException e) {
                throw new AssertionError("the page never showed it all: tx " + text(browser, "tx-layers") + "; rx "
                        + text(browser, "rx-layers") + "; busiest " + text(browser, "busiest") + "; drops " + text(browser, "drops") + "; recent "
                        + text(browser, "recent-drops") + "; connections " + text(browser, "connections") + "; stderr " + stderr, e);
            }
            File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
            Files.copy(shot.toPath(), Path.of("target", "live-view.png"), StandardCopyOption.REPLACE_EXISTING);
            for (Process p : List.of(sender, toA, toB, reader)) p.destroyForcibly();
        } finally {
            if (browser != null) browser.quit();
            Lab.run("kill", "-TERM", Long.toString(nw.pid()));
            nw.waitFor();
        }
        assertEquals(143, nw.exitValue(), "SIGTERM");
        CliIT.awaitClean("the live view");
    }

    /**
     * What README promises of the server, over plain HTTP: GET and HEAD only (405 with Allow), the page's
     * Content-Security-Policy, at most 8 event streams (the 9th gets 503), one server for /metrics and the
     * page when --ui and --metrics name the same port, and a one-line "Address already in use" when the port is taken.
     */
    @Test
    void theServerAnswersGetAndHeadOnlyToEightStreamsAndSharesThePortWithMetrics() throws Exception {
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        List<java.net.http.HttpResponse<java.io.InputStream>> streams = new java.util.ArrayList<>();
        int port;
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
            // a port another process holds: one line, exit 1, nothing left attached
            port = taken.getLocalPort();
            java.io.StringWriter err = new java.io.StringWriter();
            int code = dev.netwatcher.cli.Main.run(new String[] {"-k", "--ui", "127.0.0.1:" + port, "--no-logs"},
                    new java.io.PrintWriter(new java.io.StringWriter()), new java.io.PrintWriter(err));
            assertTrue(err.toString().contains("cannot serve the live view on 127.0.0.1:" + port) && err.toString().contains("Address already in use"),
                    err.toString());
            assertEquals(1, err.toString().strip().lines().count(), err.toString());
            assertTrue(code != 0, "exit " + code);
        }
        CliIT.awaitClean("a live view whose port was taken");
        // the port is free again: --ui and --metrics on it share one server
        try (NwProcess nw = NwProcess.start(tmp, "-k", "--metrics", "127.0.0.1:" + port, "--ui", "127.0.0.1:" + port)) {
            assertTrue(nw.attachedLine().contains("metrics on http://127.0.0.1:" + port + "/metrics")
                    && nw.attachedLine().contains("live view (read-only) on http://127.0.0.1:" + port + "/"), nw.attachedLine());
            String base = "http://127.0.0.1:" + port;
            assertTrue(NwProcess.get(base + "/metrics").contains("netwatcher_events_received_total"), "/metrics on the shared port");
            var page = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(200, page.statusCode());
            assertTrue(page.body().contains("<html"), "the page on the shared port");
            assertEquals("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:",
                    page.headers().firstValue("Content-Security-Policy").orElse(null));
            var head = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/"))
                    .method("HEAD", java.net.http.HttpRequest.BodyPublishers.noBody()).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(200, head.statusCode());
            assertEquals("", head.body());
            for (String method : new String[] {"POST", "PUT", "DELETE"}) {
                var r = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/"))
                        .method(method, java.net.http.HttpRequest.BodyPublishers.ofString("x")).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
                assertEquals(405, r.statusCode(), method);
                assertEquals("GET, HEAD", r.headers().firstValue("Allow").orElse(null), method);
            }
            for (int i = 0; i < 8; i++) {
                var r = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/events")).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofInputStream());
                streams.add(r);
                assertEquals(200, r.statusCode(), "stream " + (i + 1));
            }
            var ninth = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/events")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(503, ninth.statusCode(), "the 9th browser");
            // a stream is a stream of snapshots: the first one arrives within the second
            java.io.BufferedReader first = new java.io.BufferedReader(new java.io.InputStreamReader(streams.get(0).body(),
                    java.nio.charset.StandardCharsets.UTF_8));
            String line;
            while ((line = first.readLine()) != null && !line.startsWith("data: ")) { }
            assertTrue(line != null && line.startsWith("data: {\"ts_ns\":"), "a snapshot: " + line);
            assertEquals(143, nw.stop(), nw.summary());
        } finally {
            for (var r : streams) r.body().close();
        }
        CliIT.awaitClean("the shared server");
    }

    private static String text(WebDriver d, String id) {
        return d.findElement(By.id(id)).getText();
    }

    /** Headless Chromium from the distribution (chromium, chromium-driver); no driver download. */
    static WebDriver chromium() {
        String driver = Files.isExecutable(Path.of("/usr/bin/chromedriver")) ? "/usr/bin/chromedriver" : "/usr/lib/chromium/chromedriver";
        ChromeOptions o = new ChromeOptions();
        o.setBinary(Files.isExecutable(Path.of("/usr/bin/chromium")) ? "/usr/bin/chromium" : "/usr/lib/chromium/chromium");
        o.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1600");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new File(driver)).build();
        return new ChromeDriver(service, o);
    }
}
