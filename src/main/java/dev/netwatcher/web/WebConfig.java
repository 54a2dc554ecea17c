package dev.netwatcher.web;

import com.sun.net.httpserver.Authenticator;
import com.sun.net.httpserver.BasicAuthenticator;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.springframework.security.crypto.bcrypt.BCrypt;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * --web-config: TLS and basic authentication for what netwatcher serves (--metrics, --ui), in the
 * Prometheus exporter-toolkit's format, the one node_exporter reads:
 * <pre>
 * tls_server_config:
 *   cert_file: server.crt        # PEM, the certificate and its chain
 *   key_file: server.key         # PEM: PKCS#8, PKCS#1 (RSA) or SEC1 (EC)
 *   client_auth_type: RequireAndVerifyClientCert   # or NoClientCert (default), VerifyClientCertIfGiven
 *   client_ca_file: ca.crt       # CAs a client certificate must chain to
 *   min_version: TLS12           # or TLS13 (default TLS12)
 * basic_auth_users:
 *   alice: $2y$10$...            # bcrypt hashes (htpasswd -nBC 10 alice)
 * </pre>
 * Relative paths are read from the file's folder, as exporter-toolkit does. Everything is checked
 * at load: a bad file is one line (a {@link Invalid}) before anything attaches.
 */
public final class WebConfig {
    /** What is wrong with a web configuration, in one line. */
    public static final class Invalid extends RuntimeException {
        Invalid(String message) {
            super(message);
        }
    }

    private static final Set<String> TOP = Set.of("tls_server_config", "basic_auth_users", "http_server_config");
    private static final Set<String> TLS = Set.of("cert_file", "key_file", "client_auth_type", "client_ca_file", "min_version",
            "max_version", "cipher_suites", "curve_preferences", "prefer_server_cipher_suites");
    private static final Set<String> UNSUPPORTED = Set.of("max_version", "cipher_suites", "curve_preferences",
            "prefer_server_cipher_suites", "http_server_config");
    /** A bcrypt hash as htpasswd and Go's bcrypt write it: $2a$, $2b$ or $2y$, cost, 53 characters of salt and hash. */
    private static final Pattern BCRYPT = Pattern.compile("^\\$2[aby]\\$\\d\\d\\$[./A-Za-z0-9]{53}$");

    private final SSLContext tls;
    private final String clientAuth;
    private final String minVersion;
    private final Map<String, String> users;

    private WebConfig(SSLContext tls, String clientAuth, String minVersion, Map<String, String> users) {
        this.tls = tls;
        this.clientAuth = clientAuth;
        this.minVersion = minVersion;
        this.users = users;
    }

    /** Reads and checks file; throws Invalid with the reason. */
    public static WebConfig load(Path file) {
        Object root;
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            root = new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
        } catch (IOException e) {
            throw new Invalid("cannot read " + file + ": " + e.getMessage());
        } catch (RuntimeException e) {
            throw new Invalid(file + " is not valid YAML: " + e.getMessage().lines().findFirst().orElse("").strip());
        }
        if (root == null) root = Map.of();
        Map<String, Object> top = map(root, file + "");
        known(top, TOP, file + "");
        Path dir = file.toAbsolutePath().getParent();
        SSLContext ctx = null;
        String clientAuth = "NoClientCert", min = "TLS12";
        Object t = top.get("tls_server_config");
        if (t != null) {
            Map<String, Object> tlsMap = map(t, "tls_server_config");
            known(tlsMap, TLS, "tls_server_config");
            String cert = text(tlsMap, "cert_file"), key = text(tlsMap, "key_file");
            if (cert == null || key == null) throw new Invalid("tls_server_config needs both cert_file and key_file");
            clientAuth = tlsMap.get("client_auth_type") == null ? "NoClientCert" : text(tlsMap, "client_auth_type");
            if (!List.of("NoClientCert", "VerifyClientCertIfGiven", "RequireAndVerifyClientCert").contains(clientAuth)) {
                throw new Invalid("tls_server_config.client_auth_type " + clientAuth
                        + " is not supported (NoClientCert, VerifyClientCertIfGiven or RequireAndVerifyClientCert)");
            }
            String ca = text(tlsMap, "client_ca_file");
            if (!clientAuth.equals("NoClientCert") && ca == null) {
                throw new Invalid("tls_server_config.client_auth_type " + clientAuth + " needs client_ca_file");
            }
            if (tlsMap.get("min_version") != null) min = text(tlsMap, "min_version");
            if (!min.equals("TLS12") && !min.equals("TLS13")) throw new Invalid("tls_server_config.min_version " + min + ": TLS12 or TLS13");
            ctx = context(dir.resolve(cert), dir.resolve(key), ca == null ? null : dir.resolve(ca));
        }
        Map<String, String> users = new LinkedHashMap<>();
        Object u = top.get("basic_auth_users");
        if (u != null) {
            for (Map.Entry<String, Object> e : map(u, "basic_auth_users").entrySet()) {
                String hash = e.getValue() == null ? "" : e.getValue().toString();
                // never echo the value: it may be a password someone pasted by mistake
                if (!BCRYPT.matcher(hash).matches()) {
                    throw new Invalid("basic_auth_users." + e.getKey() + " is not a bcrypt hash ($2y$..., from htpasswd -nBC 10 "
                            + e.getKey() + "): plain-text passwords are not accepted");
                }
                users.put(e.getKey(), hash);
            }
        }
        return new WebConfig(ctx, clientAuth, min, users);
    }

    public boolean tls() {
        return tls != null;
    }

    public boolean authenticates() {
        return !users.isEmpty();
    }

    /** "https" or "http". */
    public String scheme() {
        return tls != null ? "https" : "http";
    }

    /** The TLS settings for an HttpsServer (null without TLS). */
    public HttpsConfigurator https() {
        if (tls == null) return null;
        return new HttpsConfigurator(tls) {
            @Override
            public void configure(HttpsParameters params) {
                SSLParameters p = tls.getDefaultSSLParameters();
                p.setProtocols(minVersion.equals("TLS13") ? new String[] {"TLSv1.3"} : new String[] {"TLSv1.3", "TLSv1.2"});
                if (clientAuth.equals("RequireAndVerifyClientCert")) p.setNeedClientAuth(true);
                else if (clientAuth.equals("VerifyClientCertIfGiven")) p.setWantClientAuth(true);
                params.setSSLParameters(p);
            }
        };
    }

    /** Basic authentication against the bcrypt hashes (null without users). */
    public Authenticator authenticator() {
        if (users.isEmpty()) return null;
        return new Bcrypt(users);
    }

    /**
     * Checks a user's password against its bcrypt hash. bcrypt costs tens of ms by design, so a
     * verified pair is remembered by its SHA-256 (as exporter-toolkit caches): a browser's event
     * stream and a scrape every few seconds do not pay it each time. An unknown user is checked
     * against a fixed hash, so the answer takes as long as for a known one; BCrypt.checkpw compares
     * in constant time. Nothing of a credential is ever logged.
     */
    private static final class Bcrypt extends BasicAuthenticator {
        private static final String UNKNOWN = BCrypt.hashpw("netwatcher: no such user", BCrypt.gensalt(10));
        private final Map<String, String> users;
        private final Set<String> verified = ConcurrentHashMap.newKeySet();

        Bcrypt(Map<String, String> users) {
            super("netwatcher");
            this.users = Map.copyOf(users);
        }

        @Override
        public boolean checkCredentials(String user, String password) {
            if (user == null || password == null) return false;
            String hash = users.get(user);
            String key = digest(user + "\u0000" + password + "\u0000" + (hash == null ? "" : hash));
            // the digest of what the client sent: finding it in the set tells nothing of the password
            if (hash != null && verified.contains(key)) return true;
            boolean ok;
            try {
                ok = BCrypt.checkpw(password, hash != null ? hash : UNKNOWN) && hash != null;
            } catch (IllegalArgumentException e) {
                ok = false;
            }
            if (ok && verified.size() < 1024) verified.add(key);
            return ok;
        }

        private static String digest(String s) {
            try {
                return java.util.HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private static SSLContext context(Path certFile, Path keyFile, Path caFile) {
        List<X509Certificate> chain = certificates(certFile, "cert_file");
        if (chain.isEmpty()) throw new Invalid("tls_server_config.cert_file " + certFile + " holds no certificate");
        PrivateKey key = privateKey(keyFile);
        if (!matches(chain.get(0), key)) {
            throw new Invalid("tls_server_config: the key in " + keyFile + " does not belong to the certificate in " + certFile);
        }
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            char[] none = new char[0];
            ks.setKeyEntry("netwatcher", key, none, chain.toArray(Certificate[]::new));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, none);
            TrustManagerFactory tmf = null;
            if (caFile != null) {
                KeyStore trust = KeyStore.getInstance("PKCS12");
                trust.load(null, null);
                int i = 0;
                for (X509Certificate c : certificates(caFile, "client_ca_file")) trust.setCertificateEntry("ca" + i++, c);
                if (i == 0) throw new Invalid("tls_server_config.client_ca_file " + caFile + " holds no certificate");
                tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(trust);
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new Invalid("tls_server_config: " + e.getMessage());
        }
    }

    private static List<X509Certificate> certificates(Path file, String what) {
        try (InputStream in = Files.newInputStream(file)) {
            List<X509Certificate> out = new ArrayList<>();
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) out.add((X509Certificate) c);
            return out;
        } catch (IOException e) {
            throw new Invalid("tls_server_config." + what + ": cannot read " + file + ": " + e.getMessage());
        } catch (GeneralSecurityException e) {
            throw new Invalid("tls_server_config." + what + " " + file + " is not a PEM certificate: " + e.getMessage());
        }
    }

    private static PrivateKey privateKey(Path file) {
        try (PEMParser p = new PEMParser(Files.newBufferedReader(file, StandardCharsets.US_ASCII))) {
            Object o = p.readObject();
            JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
            if (o instanceof PEMKeyPair kp) return conv.getKeyPair(kp).getPrivate();
            if (o instanceof PrivateKeyInfo info) return conv.getPrivateKey(info);
            throw new Invalid("tls_server_config.key_file " + file + " holds no unencrypted PEM private key");
        } catch (IOException e) {
            throw new Invalid("tls_server_config.key_file: cannot read " + file + ": " + e.getMessage());
        }
    }

    /** Whether key signs what the certificate's public key verifies. */
    private static boolean matches(X509Certificate cert, PrivateKey key) {
        try {
            String alg = switch (key.getAlgorithm()) {
                case "RSA" -> "SHA256withRSA";
                case "EC" -> "SHA256withECDSA";
                case "Ed25519", "EdDSA" -> "Ed25519";
                default -> throw new Invalid("tls_server_config.key_file: " + key.getAlgorithm() + " keys are not supported (RSA, EC, Ed25519)");
            };
            byte[] probe = "netwatcher".getBytes(StandardCharsets.US_ASCII);
            Signature s = Signature.getInstance(alg);
            s.initSign(key);
            s.update(probe);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance(alg);
            v.initVerify(cert.getPublicKey());
            v.update(probe);
            return v.verify(sig);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o, String where) {
        if (!(o instanceof Map<?, ?> m)) throw new Invalid(where + ": expected a mapping of keys to values");
        for (Object k : m.keySet()) if (!(k instanceof String)) throw new Invalid(where + ": key " + k + " is not text");
        return (Map<String, Object>) m;
    }

    private static void known(Map<String, Object> m, Set<String> allowed, String where) {
        for (String k : m.keySet()) {
            if (!allowed.contains(k)) throw new Invalid(where + ": unknown field " + k);
            if (UNSUPPORTED.contains(k)) throw new Invalid(where + ": " + k + " is not supported by netwatcher");
        }
    }

    private static String text(Map<String, Object> m, String k) {
        Object v = m.get(k);
        if (v == null) return null;
        if (v instanceof Map || v instanceof List) throw new Invalid(k + ": expected a value, not a structure");
        return v.toString();
    }
}
