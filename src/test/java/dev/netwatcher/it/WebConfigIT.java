package dev.netwatcher.it;

import dev.netwatcher.lab.NwProcess;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.springframework.security.crypto.bcrypt.BCrypt;

import java.io.File;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * --web-config against real clients (README, "Protecting --metrics and --ui"). The test makes its own
 * CA with openssl, a server certificate for 127.0.0.1 (an EC key in SEC1 form, which the JDK alone
 * cannot read), a client certificate, and a second CA nobody trusts; the password's bcrypt hash is
 * written as htpasswd writes it ($2y$). curl: without credentials 401, with them 200, a wrong password
 * 401, the test's CA verifies the server, the other CA fails; with client_auth_type
 * RequireAndVerifyClientCert a client without a certificate is refused and one with it served. A real
 * Prometheus scrapes through basic_auth and tls_config (mutual TLS); Chromium opens the live view over
 * HTTPS with the credentials. Bad files are one line and exit 2; no credential reaches any output.
 */
class WebConfigIT extends LabTest {
    private static final String USER = "alice", PASSWORD = "nw-s3cret-pass";

    @Test
    void tlsAndBasicAuthProtectMetricsAndTheLiveView() throws Exception {
        Path pki = pki(tmp);
        String hash = BCrypt.hashpw(PASSWORD, BCrypt.gensalt(10)).replaceFirst("^\\$2a\\$", "\\$2y\\$");
        Path cfg = tmp.resolve("web.yml");
        Files.writeString(cfg, "tls_server_config:\n  cert_file: pki/server.crt\n  key_file: pki/server.key\n"
                + "basic_auth_users:\n  " + USER + ": " + hash + "\n");
        try (NwProcess nw = NwProcess.start(tmp, "-k", "--metrics", "127.0.0.1:0", "--ui", "127.0.0.1:0", "--web-config", cfg.toString(), "--no-logs")) {
            assertTrue(nw.attachedLine().contains("metrics on https://127.0.0.1:") && nw.attachedLine().contains("live view (read-only) on https://127.0.0.1:"),
                    nw.attachedLine());
            String metrics = "https://127.0.0.1:" + nw.metricsPort() + "/metrics", page = "https://127.0.0.1:" + nw.uiPort() + "/";
            String ca = pki.resolve("ca.crt").toString();
            for (String url : List.of(metrics, page)) {
                assertEquals("401", curl("--cacert", ca, url).out(), "no credentials: " + url);
                assertEquals("401", curl("--cacert", ca, "-u", USER + ":wrong", url).out(), "a wrong password: " + url);
                assertEquals("401", curl("--cacert", ca, "-u", "mallory:" + PASSWORD, url).out(), "an unknown user: " + url);
                assertEquals("200", curl("--cacert", ca, "-u", USER + ":" + PASSWORD, url).out(), "the user: " + url);
                Result other = curl("--cacert", pki.resolve("other-ca.crt").toString(), "-u", USER + ":" + PASSWORD, url);
                assertEquals(60, other.code(), "a CA that did not sign the server's certificate: curl cannot verify it (" + other.out() + ")");
            }
            assertTrue(get(metrics, ca, "-u", USER + ":" + PASSWORD).contains("netwatcher_events_received_total"), "the metrics themselves");

            // Chromium over HTTPS with the credentials: the page and its event stream
            WebDriver browser = null;
            try {
                ChromeOptions o = new ChromeOptions();
                o.setBinary(Files.isExecutable(Path.of("/usr/bin/chromium")) ? "/usr/bin/chromium" : "/usr/lib/chromium/chromium");
                // the test's CA is in no trust store Chromium reads; curl above verified the chain
                o.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--ignore-certificate-errors");
                String driver = Files.isExecutable(Path.of("/usr/bin/chromedriver")) ? "/usr/bin/chromedriver" : "/usr/lib/chromium/chromedriver";
                browser = new ChromeDriver(new ChromeDriverService.Builder().usingDriverExecutable(new File(driver)).build(), o);
                browser.get("https://" + USER + ":" + PASSWORD + "@127.0.0.1:" + nw.uiPort() + "/");
                new WebDriverWait(browser, Duration.ofSeconds(20)).until(d -> d.findElement(By.id("status")).getText().startsWith("live"));
            } finally {
                if (browser != null) browser.quit();
            }
            assertEquals(143, nw.stop(), nw.summary());
            assertFalse(nw.summary().contains(PASSWORD) || nw.summary().contains(hash), "no credential in netwatcher's output");
        }

        // mutual TLS: a client must show a certificate the test's CA signed
        Path mtls = tmp.resolve("mtls.yml");
        Files.writeString(mtls, "tls_server_config:\n  cert_file: pki/server.crt\n  key_file: pki/server.key\n"
                + "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: pki/ca.crt\n  min_version: TLS12\n"
                + "basic_auth_users:\n  " + USER + ": " + hash + "\n");
        try (NwProcess nw = NwProcess.start(tmp, "-k", "--metrics", "127.0.0.1:0", "--web-config", mtls.toString(), "--no-logs")) {
            String metrics = "https://127.0.0.1:" + nw.metricsPort() + "/metrics", ca = pki.resolve("ca.crt").toString();
            Result bare = curl("--cacert", ca, "-u", USER + ":" + PASSWORD, metrics);
            assertTrue(bare.code() != 0, "no client certificate: refused in the handshake (" + bare.code() + " " + bare.out() + ")");
            assertEquals("200", curl("--cacert", ca, "--cert", pki.resolve("client.crt").toString(), "--key", pki.resolve("client.key").toString(),
                    "-u", USER + ":" + PASSWORD, metrics).out(), "with the client certificate");
            prometheusScrapes(nw.metricsPort(), pki, hash);
            assertEquals(143, nw.stop(), nw.summary());
        }
        CliIT.awaitClean("the protected servers");
    }

    /** A real Prometheus scrapes the mutual-TLS server with basic_auth and tls_config: the target is up. */
    private void prometheusScrapes(int port, Path pki, String hash) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("prometheus"));
        int promPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            promPort = s.getLocalPort();
        }
        Files.writeString(dir.resolve("prometheus.yml"), """
                global:
                  scrape_interval: 1s
                scrape_configs:
                  - job_name: nw
                    scheme: https
                    basic_auth:
                      username: %s
                      password: %s
                    tls_config:
                      ca_file: %s
                      cert_file: %s
                      key_file: %s
                    static_configs:
                      - targets: ['127.0.0.1:%d']
                """.formatted(USER, PASSWORD, pki.resolve("ca.crt"), pki.resolve("client.crt"), pki.resolve("client.key"), port));
        Process prom = new ProcessBuilder("prometheus", "--config.file=" + dir.resolve("prometheus.yml"), "--storage.tsdb.path=" + dir.resolve("data"),
                "--web.listen-address=127.0.0.1:" + promPort).redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
        try {
            String up = "";
            for (long end = System.nanoTime() + 30_000_000_000L; System.nanoTime() < end; Thread.sleep(500)) {
                try {
                    up = NwProcess.get("http://127.0.0.1:" + promPort + "/api/v1/query?query=" + java.net.URLEncoder.encode(
                            "up{job=\"nw\"} and on() count(netwatcher_events_received_total{job=\"nw\"})", StandardCharsets.UTF_8));
                } catch (Exception notYet) {
                    continue;
                }
                if (up.contains("\"value\":[") && up.contains("\"1\"]")) break;
            }
            assertTrue(up.contains("\"1\"]"), "prometheus: the target is up and its metrics scraped: " + up + "\n"
                    + Files.readString(dir.resolve("prometheus.log")).lines().filter(l -> l.contains("nw") || l.contains("err")).limit(10).toList());
        } finally {
            prom.destroy();
            if (!prom.waitFor(10, TimeUnit.SECONDS)) prom.destroyForcibly();
        }
    }

    /** Every bad file is one line and exit 2, before anything attaches; a pasted password is never echoed. */
    @Test
    void badWebConfigsAreOneLineAndExitTwo() throws Exception {
        Path pki = pki(tmp);
        String hash = BCrypt.hashpw(PASSWORD, BCrypt.gensalt(10));
        String[][] bad = {
                {"missing.yml", null, "cannot read"},
                {"broken.yml", "tls_server_config: [cert_file\n", "not valid YAML"},
                {"unknown.yml", "tls_server_config:\n  cert_file: pki/server.crt\n  key_file: pki/server.key\n  frobnicate: 1\n", "unknown field frobnicate"},
                {"top.yml", "basic_auth_user:\n  alice: " + hash + "\n", "unknown field basic_auth_user"},
                {"mismatch.yml", "tls_server_config:\n  cert_file: pki/server.crt\n  key_file: pki/client.key\n", "does not belong to the certificate"},
                {"plain.yml", "basic_auth_users:\n  alice: " + PASSWORD + "\n", "is not a bcrypt hash"},
                {"noca.yml", "tls_server_config:\n  cert_file: pki/server.crt\n  key_file: pki/server.key\n  client_auth_type: RequireAndVerifyClientCert\n", "needs client_ca_file"},
                {"tls11.yml", "tls_server_config:\n  cert_file: pki/server.crt\n  key_file: pki/server.key\n  min_version: TLS11\n", "TLS12 or TLS13"},
        };
        for (String[] b : bad) {
            Path f = tmp.resolve(b[0]);
            if (b[1] != null) Files.writeString(f, b[1]);
            StringWriter err = new StringWriter();
            int code = dev.netwatcher.cli.Main.run(new String[] {"-k", "--metrics", "127.0.0.1:0", "--web-config", f.toString(), "--no-logs"},
                    new PrintWriter(new StringWriter()), new PrintWriter(err));
            String e = err.toString();
            assertEquals(2, code, b[0] + ": " + e);
            assertEquals(1, e.strip().lines().count(), b[0] + ": one line: " + e);
            assertTrue(e.contains(b[2]), b[0] + ": " + e);
            assertFalse(e.contains(PASSWORD), b[0] + ": the password is not echoed: " + e);
        }
        StringWriter err = new StringWriter();
        assertEquals(2, dev.netwatcher.cli.Main.run(new String[] {"-k", "--web-config", tmp.resolve("plain.yml").toString()},
                new PrintWriter(new StringWriter()), new PrintWriter(err)), err.toString());
        assertTrue(err.toString().contains("--web-config protects --metrics and --ui"), err.toString());
        CliIT.awaitClean("refused web configs");

        // without a web config, a server beyond loopback says who can read it, once
        try (NwProcess open = NwProcess.start(tmp, "-k", "--metrics", "0.0.0.0:0", "--no-logs")) {
            List<String> warnings = open.stderr().stream().filter(l -> l.startsWith("netwatcher: warning:")).toList();
            assertEquals(1, warnings.size(), open.summary());
            assertTrue(warnings.get(0).contains("readable by anyone") && warnings.get(0).contains("--web-config"), warnings.get(0));
            assertEquals(143, open.stop(), open.summary());
        }
        Path cfg = tmp.resolve("users.yml");
        Files.writeString(cfg, "basic_auth_users:\n  " + USER + ": " + hash + "\n");
        try (NwProcess closed = NwProcess.start(tmp, "-k", "--metrics", "0.0.0.0:0", "--web-config", cfg.toString(), "--no-logs")) {
            assertTrue(closed.stderr().stream().noneMatch(l -> l.contains("warning:")), closed.summary());
            assertEquals(143, closed.stop(), closed.summary());
        }
    }

    private record Result(int code, String out) {}

    /** curl -s -o /dev/null -w %{http_code} ARGS: its exit code and the status it got. */
    private static Result curl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        return new Result(p.exitValue(), out);
    }

    private static String get(String url, String ca, String... more) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-s", "--max-time", "10", "--cacert", ca));
        cmd.addAll(List.of(more));
        cmd.add(url);
        Process p = new ProcessBuilder(cmd).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        return out;
    }

    private static Path pki(Path tmp) throws Exception {
        return dev.netwatcher.lab.TestPki.make(tmp);
    }
}
