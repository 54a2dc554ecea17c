package dev.netwatcher.lab;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** A test's own certificates, made with openssl: a CA, a server certificate for 127.0.0.1, a client certificate, a CA nobody trusts. */
public final class TestPki {
    private TestPki() {}

    /** tmp/pki: ca.crt/key, server.crt (127.0.0.1) with an EC key in SEC1 form, client.crt/key, other-ca.crt. */
    public static Path make(Path tmp) throws Exception {
        Path d = Files.createDirectories(tmp.resolve("pki"));
        Files.writeString(d.resolve("san.ext"), "subjectAltName=IP:127.0.0.1\n");
        String[][] steps = {
                {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=netwatcher test CA"},
                {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other-ca.key", "-out", "other-ca.crt", "-days", "2", "-subj", "/CN=another CA"},
                {"openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "server.key"},
                {"openssl", "req", "-new", "-key", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"},
                {"openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt",
                        "-days", "2", "-extfile", "san.ext"},
                {"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=prometheus"},
                {"openssl", "x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "client.crt", "-days", "2"},
        };
        for (String[] s : steps) {
            Process p = new ProcessBuilder(s).directory(d.toFile()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, String.join(" ", s) + ": " + out);
        }
        assertTrue(Files.readString(d.resolve("server.key")).contains("BEGIN EC PRIVATE KEY"), "SEC1, as openssl ecparam writes it");
        return d;
    }
}
