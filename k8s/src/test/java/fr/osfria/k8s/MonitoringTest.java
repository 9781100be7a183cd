package fr.osfria.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Alert and recording rules, their promtool unit tests, Prometheus and Alertmanager configuration, dashboards: valid,
 * naming metrics that exist (the services' real scrapes; the exporters' documented metric lists committed as test
 * data, each naming its source), and with what the documentation asks for.
 */
class MonitoringTest {

    private static final Path MONITORING = Rendered.K8S.resolve("base/monitoring");
    private static final Path EXPORTER_METRICS = Rendered.K8S.resolve("src/test/resources/exporter-metrics");
    private static final Pattern OURS = Pattern.compile("\\b((?:osfria|http_server)_[a-zA-Z0-9_:]+)");
    private static final Pattern RECORDED = Pattern.compile("\\b(osfria:[a-zA-Z0-9_:]+)");
    /** Metric names of the exporters the site runs, which cannot be scraped here. */
    private static final Pattern EXTERNAL = Pattern.compile(
            "\\b(vllm:[a-zA-Z0-9_:]+|DCGM_FI_[A-Z0-9_]+|longhorn_[a-z0-9_]+|node_[a-zA-Z0-9_]+|kafka_[a-z0-9_]+|certmanager_[a-z0-9_]+|up(?=\\{))");

    @Test
    void promtoolAcceptsTheRulesAndThePrometheusConfiguration() throws Exception {
        Path promtool = promtool();
        Tools.Result rules = Tools.run(MONITORING, Map.of(), promtool.toString(), "check", "rules", "rules.yaml");
        assertEquals(0, rules.exit(), rules.out() + rules.err());
        assertTrue(rules.out().contains("SUCCESS"), rules.out());
        // the configuration names the rule file where Prometheus mounts it; point it at ours for the check
        Path dir = Files.createTempDirectory("prometheus");
        Files.copy(MONITORING.resolve("rules.yaml"), dir.resolve("osfria-rules.yaml"));
        Files.writeString(dir.resolve("prometheus.yml"), Files.readString(MONITORING.resolve("prometheus.yml"))
                .replace("/etc/prometheus/rules/osfria-rules.yaml", dir.resolve("osfria-rules.yaml").toString()));
        Tools.Result config = Tools.run(dir, Map.of(), promtool.toString(), "check", "config", "prometheus.yml");
        assertEquals(0, config.exit(), config.out() + config.err());
    }

    /** promtool test rules: every alert fires on its series and stays quiet on the others (tests/*.yaml). */
    @Test
    void everyAlertPassesItsPromtoolUnitTests() throws Exception {
        List<String> command = new ArrayList<>(List.of(promtool().toString(), "test", "rules"));
        ruleTests().forEach(t -> command.add(MONITORING.relativize(t).toString()));
        Tools.Result r = Tools.run(MONITORING, Map.of(), command);
        assertEquals(0, r.exit(), r.out() + r.err());
    }

    /** Each alert has a test where it fires, and series where it must not: a quiet test, or series left out. */
    @Test
    void everyAlertHasTestsThatFireAndTestsThatDoNot() throws Exception {
        Map<String, int[]> seen = new TreeMap<>(); // alert -> {firing tests, quiet evidence}
        alerts().keySet().forEach(a -> seen.put(a, new int[2]));
        for (Path file : ruleTests()) {
            for (JsonNode test : Rendered.YAML.readTree(file.toFile()).get("tests")) {
                int series = test.path("input_series").size();
                for (JsonNode check : test.path("alert_rule_test")) {
                    int[] counts = seen.get(check.path("alertname").asText());
                    assertTrue(counts != null, file + " tests an unknown alert " + check.path("alertname"));
                    int firing = check.path("exp_alerts").size();
                    counts[0] += firing > 0 ? 1 : 0;
                    counts[1] += firing == 0 || series > firing ? 1 : 0;
                }
            }
        }
        seen.forEach((alert, counts) -> {
            assertTrue(counts[0] > 0, alert + " has no test where it fires");
            assertTrue(counts[1] > 0, alert + " has no series where it must stay quiet");
        });
    }

    @Test
    void theOperatorRuleIsTheRuleFileWordForWord() throws Exception {
        JsonNode file = Rendered.YAML.readTree(MONITORING.resolve("rules.yaml").toFile());
        JsonNode operator = null;
        for (JsonNode doc : Rendered.YAML.readerFor(JsonNode.class).<JsonNode>readValues(MONITORING.resolve("operator.yaml").toFile()).readAll()) {
            if ("PrometheusRule".equals(doc.path("kind").asText())) {
                operator = doc;
            }
        }
        assertEquals(file.get("groups"), operator.at("/spec/groups"));
    }

    /** The documentation's five alerts under its names and thresholds, the faulted volume, the SLOs, ours. */
    @Test
    void theDocumentedAlertsAndTheSlosAreThere() throws Exception {
        Map<String, JsonNode> alerts = alerts();
        assertTrue(alerts.keySet().containsAll(List.of("NodeDown", "GPUOverheating", "VLLMServiceDown",
                "LonghornVolumeDegraded", "LonghornVolumeFaulted", "HighAILatency",
                "AvailabilityBudgetBurnFast", "AvailabilityBudgetBurnSlow", "LatencyBudgetBurnFast", "LatencyBudgetBurnSlow",
                "TokenThroughputBelowTarget", "NoHealthyInferenceBackend", "RouterErrorRateHigh", "DocumentsStuckInProcessing",
                "IngestionDeadLetters", "KafkaApplicationRecordsRefused", "WebhookBacklogHigh", "WebhookDeliveriesExhausted", "KafkaConsumerLagHigh",
                "CertificateExpiresSoon")), alerts.keySet().toString());
        alerts.forEach((name, rule) -> {
            assertFalse(rule.at("/labels/severity").asText().isEmpty(), name + " has no severity");
            assertFalse(rule.at("/annotations/summary").asText().isEmpty(), name + " has no summary");
        });
        JsonNode latency = alerts.get("HighAILatency");
        assertTrue(latency.get("expr").asText().contains("vllm:time_to_first_token_seconds_bucket"));
        assertTrue(latency.get("expr").asText().endsWith("> 0.5"));
        assertEquals("3m", latency.get("for").asText());
        assertTrue(alerts.get("GPUOverheating").get("expr").asText().contains("> 85"));
        assertTrue(alerts.get("AvailabilityBudgetBurnFast").get("expr").asText().contains("0.0005"), "99.95 %");
        assertTrue(alerts.get("TokenThroughputBelowTarget").get("expr").asText().contains("< 600"));
    }

    @Test
    void alertmanagerSendsEveryAlertToAlertBridge() throws Exception {
        JsonNode config = Rendered.YAML.readTree(MONITORING.resolve("alertmanager.yml").toFile());
        String receiver = config.at("/route/receiver").asText();
        JsonNode hook = null;
        for (JsonNode r : config.get("receivers")) {
            if (r.get("name").asText().equals(receiver)) {
                hook = r.at("/webhook_configs/0");
            }
        }
        assertEquals("http://alert-bridge.osfria-ai.svc/v1/alerts/alertmanager", hook.get("url").asText());
        assertEquals("Bearer", hook.at("/http_config/authorization/type").asText());
        assertTrue(hook.get("send_resolved").asBoolean());
    }

    @Test
    void everyDashboardIsValidJsonWithQueries() throws Exception {
        List<Path> dashboards = dashboards();
        assertEquals(6, dashboards.size());
        for (Path d : dashboards) {
            JsonNode json = new ObjectMapper().readTree(d.toFile());
            assertFalse(json.path("uid").asText().isEmpty(), d + " has no uid");
            assertTrue(json.get("panels").size() >= 4, d + " has few panels");
            for (JsonNode panel : json.get("panels")) {
                assertTrue(panel.get("targets").size() >= 1, d + " panel " + panel.get("title") + " has no query");
                panel.get("targets").forEach(t -> assertFalse(t.path("expr").asText().isBlank()));
            }
        }
    }

    /** The panels the documentation's three expert dashboards list (GPU, vLLM performance, Longhorn). */
    @Test
    void theDocumentedPanelsAreThere() throws Exception {
        Map<String, List<String>> wanted = Map.of(
                "osfria-gpu", List.of("GPU utilisation", "GPU memory used / total", "GPU temperature", "GPU power",
                        "SM clock", "Memory clock", "Processes (pods) per GPU"),
                "osfria-vllm", List.of("Requests/s by model", "Latency P50 / P95 / P99", "Queue depth",
                        "Tokens/s generated (target 600)", "Mean batch size", "Prefix-cache hit ratio", "Error rate (%)"),
                "osfria-longhorn", List.of("IOPS read / write", "Volume read/write throughput", "I/O latency read / write",
                        "Volume usage", "Replica health: volumes healthy / degraded / faulted", "Backups in progress / in error",
                        "Network bandwidth per node"));
        Map<String, Set<String>> titles = new LinkedHashMap<>();
        for (Path d : dashboards()) {
            JsonNode json = new ObjectMapper().readTree(d.toFile());
            Set<String> t = new TreeSet<>();
            json.get("panels").forEach(p -> t.add(p.get("title").asText()));
            titles.put(json.get("uid").asText(), t);
        }
        wanted.forEach((uid, panels) -> assertTrue(titles.get(uid).containsAll(panels), uid + ": " + titles.get(uid)));
    }

    /** Exporters' metrics (vLLM, DCGM, Longhorn, node-exporter, Kafka exporter, cert-manager) and recorded series. */
    @Test
    void rulesAndDashboardsNameOnlyMetricsTheExportersDocument() throws Exception {
        Map<String, String> known = exporterMetrics();
        Set<String> recorded = new TreeSet<>();
        for (JsonNode group : Rendered.YAML.readTree(MONITORING.resolve("rules.yaml").toFile()).get("groups")) {
            group.get("rules").forEach(rule -> {
                if (rule.has("record")) {
                    recorded.add(rule.get("record").asText());
                }
            });
        }
        Set<String> unknown = new TreeSet<>();
        for (String expr : expressions()) {
            boolean named = false;
            Matcher m = EXTERNAL.matcher(expr);
            while (m.find()) {
                named = true;
                if (!known.containsKey(m.group(1))) {
                    unknown.add(m.group(1));
                }
            }
            Matcher r = RECORDED.matcher(expr);
            while (r.find()) {
                named = true;
                if (!recorded.contains(r.group(1))) {
                    unknown.add(r.group(1));
                }
            }
            named |= OURS.matcher(expr).find();
            assertTrue(named, "names no metric known to be exported: " + expr);
        }
        assertEquals(Set.of(), unknown, "names no exporter documents (" + known.size() + " known) and no rule records");
    }

    @Test
    void rulesAndDashboardsNameOnlyMetricsTheServicesExport() throws Exception {
        Set<String> exported = exportedMetricNames();
        Set<String> unknown = new TreeSet<>();
        for (String expr : expressions()) {
            Matcher m = OURS.matcher(expr);
            while (m.find()) {
                if (!exported.contains(m.group(1))) {
                    unknown.add(m.group(1));
                }
            }
        }
        assertEquals(Set.of(), unknown, "metrics no service exports (seen: " + exported.size() + " names)");
    }

    private static List<String> expressions() throws Exception {
        List<String> expressions = new ArrayList<>();
        for (JsonNode group : Rendered.YAML.readTree(MONITORING.resolve("rules.yaml").toFile()).get("groups")) {
            group.get("rules").forEach(rule -> expressions.add(rule.get("expr").asText()));
        }
        for (Path d : dashboards()) {
            new ObjectMapper().readTree(d.toFile()).get("panels")
                    .forEach(p -> p.get("targets").forEach(t -> expressions.add(t.get("expr").asText())));
        }
        return expressions;
    }

    private static Map<String, JsonNode> alerts() throws Exception {
        Map<String, JsonNode> alerts = new TreeMap<>();
        for (JsonNode group : Rendered.YAML.readTree(MONITORING.resolve("rules.yaml").toFile()).get("groups")) {
            group.get("rules").forEach(rule -> {
                if (rule.has("alert")) {
                    alerts.put(rule.get("alert").asText(), rule);
                }
            });
        }
        return alerts;
    }

    private static List<Path> ruleTests() throws IOException {
        try (Stream<Path> files = Files.list(MONITORING.resolve("tests"))) {
            return files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
    }

    private static Path promtool() {
        return Tools.require(Tools.fromDebian("promtool", "prometheus", "usr/bin/promtool"), "promtool");
    }

    private static List<Path> dashboards() throws Exception {
        try (Stream<Path> files = Files.list(MONITORING.resolve("dashboards"))) {
            return files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
    }

    /**
     * The exporters' documented metrics (src/test/resources/exporter-metrics, one file per exporter, its first line
     * naming the source): sample name to file; a histogram also gives its _bucket, _sum and _count series.
     */
    static Map<String, String> exporterMetrics() {
        Map<String, String> names = new TreeMap<>();
        try (Stream<Path> files = Files.list(EXPORTER_METRICS)) {
            for (Path f : files.sorted().toList()) {
                List<String> lines = Files.readAllLines(f);
                assertTrue(lines.get(0).startsWith("# source: "), f + " does not name its source first");
                for (String line : lines) {
                    if (line.isBlank() || line.startsWith("#")) {
                        continue;
                    }
                    String[] parts = line.trim().split("\\s+");
                    names.put(parts[0], f.getFileName().toString());
                    if (parts.length > 1 && parts[1].equals("histogram")) {
                        for (String suffix : List.of("_bucket", "_sum", "_count")) {
                            names.put(parts[0] + suffix, f.getFileName().toString());
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return names;
    }

    /** Sample names from the /q/metrics scrapes the services' own tests saved (see ExportedMetrics). */
    static Set<String> exportedMetricNames() throws Exception {
        Set<String> names = new TreeSet<>();
        List<String> services = List.of("ingest-service", "embed-service", "inference-router", "webhook-service", "alert-bridge");
        List<String> missing = new ArrayList<>();
        for (String service : services) {
            Path dir = Rendered.K8S.getParent().resolve(service).resolve("target/exported-metrics");
            if (!Files.isDirectory(dir)) {
                missing.add(service);
                continue;
            }
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    for (String line : Files.readAllLines(f)) {
                        if (!line.isEmpty() && !line.startsWith("#")) {
                            int end = line.indexOf('{');
                            names.add(line.substring(0, end > 0 ? end : line.indexOf(' ')));
                        }
                    }
                }
            }
        }
        if (!missing.isEmpty()) {
            Tools.require(java.util.Optional.empty(), "the metrics scraped by the tests of " + missing
                    + " (run the whole build, not this module alone)");
        }
        return names;
    }
}
