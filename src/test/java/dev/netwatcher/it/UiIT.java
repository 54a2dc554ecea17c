package dev.netwatcher.it;

import dev.netwatcher.lab.Lab;
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
 * the connection, as text. The screenshot goes to target/live-view.png (README's picture is one of these).
 */
class UiIT extends LabTest {
    private static final int PORT = 19480;

    @Test
    void thePageShowsTheDominantLayersTheFlowsAndTheDropsTheTestCaused() throws Exception {
        CliIT.awaitClean("earlier tests");
        lab.inNs(lab.a, "tc", "qdisc", "add", "dev", "veth0", "root", "tbf", "rate", "2mbit", "burst", "4kb", "latency", "2s");
        List<String> stderr = new CopyOnWriteArrayList<>();
        Process nw = CliIT.startAttached(stderr, "-t", "-k", "-x", "--conn-every", "1", "--netns", Long.toString(lab.netns(lab.a)), "--ui", Integer.toString(PORT));
        WebDriver browser = null;
        try {
            assertTrue(stderr.stream().anyMatch(l -> l.contains("live view (read-only) on http://127.0.0.1:" + PORT + "/")),
                    "it says where, on loopback: " + stderr);
            browser = chromium();
            browser.get("http://127.0.0.1:" + PORT + "/");

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
                        && text(d, "drops").contains("NO_SOCKET") && text(d, "recent-drops").contains(":8499")
                        && text(d, "connections").contains(Lab.A4 + ":8402"));
            } catch (org.openqa.selenium.TimeoutException e) {
                throw new AssertionError("the page never showed it all: tx " + text(browser, "tx-layers") + "; rx "
                        + text(browser, "rx-layers") + "; busiest " + text(browser, "busiest") + "; drops "
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
