package dev.netwatcher.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.netwatcher.metrics.KernelMetrics;
import dev.netwatcher.metrics.MetricsSink;
import dev.netwatcher.stats.Health;
import dev.netwatcher.stats.LayerHistogram;
import dev.netwatcher.stats.PacketCount;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** deploy/: the DaemonSet manifest, the Dockerfile and the Grafana dashboard, parsed and checked. */
class DeployTest {
    private static final Path DEPLOY = Path.of("deploy");

    @Test
    void daemonSetRunsOnTheHostWithOnlyTheCapabilitiesItNeeds() throws Exception {
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        List<JsonNode> docs = new ArrayList<>();
        try (var it = yaml.readerFor(JsonNode.class).readValues(DEPLOY.resolve("daemonset.yaml").toFile())) {
            while (it.hasNext()) docs.add((JsonNode) it.next());
        }
        JsonNode ds = docs.stream().filter(d -> d.path("kind").asText().equals("DaemonSet")).findFirst().orElseThrow();
        assertEquals("apps/v1", ds.path("apiVersion").asText());
        JsonNode spec = ds.path("spec").path("template").path("spec");
        assertEquals(ds.path("spec").path("selector").path("matchLabels"), ds.path("spec").path("template").path("metadata").path("labels"),
                "the selector matches the pod labels");
        assertTrue(spec.path("hostNetwork").asBoolean());
        assertTrue(spec.path("hostPID").asBoolean());
        JsonNode c = spec.path("containers").get(0);
        JsonNode sc = c.path("securityContext");
        assertFalse(sc.path("privileged").asBoolean(true), "not privileged");
        assertFalse(sc.path("allowPrivilegeEscalation").asBoolean(true), "no_new_privs");
        assertEquals(List.of("ALL"), strings(sc.path("capabilities").path("drop")));
        assertEquals(Set.of("BPF", "PERFMON", "NET_ADMIN", "SYS_RESOURCE"), new HashSet<>(strings(sc.path("capabilities").path("add"))));

        List<String> args = strings(c.path("args"));
        String checked;
        int i = args.indexOf("--metrics");
        assertTrue(i >= 0 && i + 1 < args.size(), "serves metrics: " + args);
        String port = args.get(i + 1).replaceAll(".*:", "");
        assertEquals(port, c.path("ports").get(0).path("containerPort").asText());
        assertEquals(port, ds.path("spec").path("template").path("metadata").path("annotations").path("prometheus.io/port").asText());
        // the options hold together: the same arguments through the real parser and every usage check, with
        // --check (--help would skip the checks of option combinations); its first line names what would attach,
        // the rows after it say whether this kernel serves each feature (exit 0: every requested one)
        // --web-config: the Secret's file, with the node certificate the kubelet would mount made here
        int w = args.indexOf("--web-config");
        assertTrue(w >= 0, "the metrics are protected: " + args);
        JsonNode secret = docs.stream().filter(d -> d.path("kind").asText().equals("Secret")
                && d.path("metadata").path("name").asText().equals("netwatcher-web")).findFirst().orElseThrow();
        Path tmp = Files.createTempDirectory("nw-deploy");
        try {
            Path pki = dev.netwatcher.lab.TestPki.make(tmp);
            String web = secret.path("stringData").path("web-config.yml").asText()
                    .replace("/etc/netwatcher/tls/tls.crt", pki.resolve("server.crt").toString())
                    .replace("/etc/netwatcher/tls/tls.key", pki.resolve("server.key").toString());
            Files.writeString(tmp.resolve("web-config.yml"), web);
            args = new ArrayList<>(args);
            args.set(w + 1, tmp.resolve("web-config.yml").toString());
            checked = check(args).lines().findFirst().orElse("").trim();
        } finally {
            try (var files = Files.walk(tmp)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
        assertTrue(spec.path("volumes").toString().contains("netwatcher-web"), "the Secret is mounted");
        assertTrue(checked.startsWith("netwatcher: options ok; would attach ") && checked.endsWith(" and serve metrics on 0.0.0.0:" + port),
                checked);
        String attach = checked.replaceAll(".*would attach (.*) and serve.*", "$1");
        for (String a : args) {
            if (a.matches("-[a-zA-Z]")) assertTrue((" " + attach + " ").contains(" " + a + " "), a + " attaches: " + checked);
        }
    }

    /** What --check prints for these arguments (fails unless it exits 0). */
    private static String check(List<String> args) {
        List<String> withCheck = new ArrayList<>(args);
        withCheck.add("--check");
        java.io.StringWriter out = new java.io.StringWriter(), err = new java.io.StringWriter();
        int rc = dev.netwatcher.cli.Main.run(withCheck.toArray(String[]::new), new java.io.PrintWriter(out), new java.io.PrintWriter(err));
        assertEquals(0, rc, "--check " + args + ": " + err);
        return out.toString();
    }

    @Test
    void checkRefusesAContradictionAsTheRunWould() {
        java.io.StringWriter out = new java.io.StringWriter(), err = new java.io.StringWriter();
        assertEquals(2, dev.netwatcher.cli.Main.run(new String[] {"-t", "--metrics", "9464", "--events", "--json", "--check"},
                new java.io.PrintWriter(out), new java.io.PrintWriter(err)));
        assertTrue(err.toString().contains("--events and --json contradict each other"), err.toString());
        assertEquals("", out.toString());
    }

    @Test
    void dockerfileRunsTheJarWithTheDaemonSetDefaults() throws Exception {
        String df = Files.readString(DEPLOY.resolve("Dockerfile"));
        assertTrue(df.lines().anyMatch(l -> l.startsWith("FROM ")));
        assertTrue(df.contains("COPY target/netwatcher.jar"));
        assertTrue(df.contains("libbpf1") && df.contains("libpcap0.8"), "the image has libbpf and libpcap (filter expressions)");
        Matcher m = Pattern.compile("(?m)^ENTRYPOINT (\\[.*])$").matcher(df);
        assertTrue(m.find());
        List<String> entry = strings(new ObjectMapper().readTree(m.group(1)));
        assertEquals("java", entry.get(0));
        assertTrue(entry.contains("--enable-native-access=ALL-UNNAMED"));
    }

    @Test
    void everyMetricTheDashboardQueriesIsExported() throws Exception {
        JsonNode d = new ObjectMapper().readTree(DEPLOY.resolve("grafana-dashboard.json").toFile());
        Set<String> used = new HashSet<>();
        Pattern name = Pattern.compile("netwatcher_[a-z_]+");
        int panels = 0;
        for (JsonNode p : d.path("panels")) {
            panels++;
            assertTrue(p.path("targets").size() > 0, p.path("title").asText());
            for (JsonNode t : p.path("targets")) {
                Matcher m = name.matcher(t.path("expr").asText());
                while (m.find()) used.add(m.group());
            }
        }
        for (JsonNode v : d.path("templating").path("list")) {
            Matcher m = name.matcher(v.path("query").asText());
            while (m.find()) used.add(m.group());
        }
        assertTrue(panels >= 10, "panels: " + panels);
        Set<String> exported = exportedNames();
        for (String u : used) assertTrue(exported.contains(u), u + " is not exported; exported: " + exported);
    }

    /** Names a scrape can carry, from a registry set up as --metrics sets it up. */
    private static Set<String> exportedNames() {
        PrometheusRegistry r = new PrometheusRegistry();
        new MetricsSink(r);
        r.register(new KernelMetrics(new KernelMetrics.Sources(
                () -> List.of(new LayerHistogram("rx", "udp", "ip", new long[LayerHistogram.BUCKETS], 0)),
                () -> List.of(new PacketCount("rx", "udp", 1, 1)),
                () -> new Health(1, 0, 0, Map.of("evicted", 0L), List.of(new Health.ProgramRun("nw_x", 1, 1, 0))))));
        Set<String> names = new HashSet<>();
        for (MetricSnapshot s : r.scrape()) {
            String n = s.getMetadata().getPrometheusName();
            if (s instanceof CounterSnapshot) names.add(n + "_total");
            else if (s instanceof HistogramSnapshot) names.addAll(List.of(n + "_bucket", n + "_count", n + "_sum"));
            else names.add(n);
        }
        return names;
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
