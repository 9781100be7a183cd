package fr.osfria.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Alert rules, Prometheus and Alertmanager configuration, dashboards: valid, and naming metrics that exist. */
class MonitoringTest {

    private static final Path MONITORING = Rendered.K8S.resolve("base/monitoring");
    private static final Pattern METRIC = Pattern.compile("\\b((?:osfria|http_server)_[a-zA-Z0-9_:]+)");
    /** Metrics of the exporters the site runs, which cannot be scraped here; each prefix names its exporter. */
    private static final Map<String, String> EXTERNAL = Map.of(
            "DCGM_", "NVIDIA DCGM exporter", "longhorn_", "Longhorn manager", "kafka_", "Strimzi Kafka exporter",
            "certmanager_", "cert-manager", "up", "Prometheus itself");

    @Test
    void promtoolAcceptsTheRulesAndThePrometheusConfiguration() throws Exception {
        Path promtool = Tools.require(Tools.fromDebian("promtool", "prometheus", "usr/bin/promtool"), "promtool");
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

    @Test
    void theSeedsAlertsAndOursAreAllThere() throws Exception {
        Set<String> alerts = new TreeSet<>();
        for (JsonNode group : Rendered.YAML.readTree(MONITORING.resolve("rules.yaml").toFile()).get("groups")) {
            for (JsonNode rule : group.get("rules")) {
                alerts.add(rule.get("alert").asText());
                assertFalse(rule.at("/labels/severity").asText().isEmpty(), rule.get("alert") + " has no severity");
                assertFalse(rule.at("/annotations/summary").asText().isEmpty(), rule.get("alert") + " has no summary");
            }
        }
        assertTrue(alerts.containsAll(List.of("NodeDown", "GpuTemperatureHigh", "VllmDown", "LonghornVolumeDegraded",
                "AiLatencyP95High", "NoHealthyInferenceBackend", "RouterErrorRateHigh", "DocumentsStuckInProcessing",
                "IngestionDeadLetters", "WebhookBacklogHigh", "WebhookDeliveriesExhausted", "KafkaConsumerLagHigh",
                "CertificateExpiresSoon")), alerts.toString());
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
        assertEquals(5, dashboards.size());
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

    @Test
    void rulesAndDashboardsNameOnlyMetricsTheServicesExport() throws Exception {
        Set<String> exported = exportedMetricNames();
        List<String> expressions = new ArrayList<>();
        for (JsonNode group : Rendered.YAML.readTree(MONITORING.resolve("rules.yaml").toFile()).get("groups")) {
            group.get("rules").forEach(rule -> expressions.add(rule.get("expr").asText()));
        }
        for (Path d : dashboards()) {
            new ObjectMapper().readTree(d.toFile()).get("panels")
                    .forEach(p -> p.get("targets").forEach(t -> expressions.add(t.get("expr").asText())));
        }
        Set<String> unknown = new TreeSet<>();
        for (String expr : expressions) {
            Matcher m = METRIC.matcher(expr);
            boolean ours = false;
            while (m.find()) {
                ours = true;
                if (!exported.contains(m.group(1))) {
                    unknown.add(m.group(1));
                }
            }
            boolean external = EXTERNAL.keySet().stream().anyMatch(prefix -> expr.contains(prefix));
            assertTrue(ours || external, "names no metric known to be exported: " + expr);
        }
        assertEquals(Set.of(), unknown, "metrics no service exports (seen: " + exported.size() + " names)");
    }

    private static List<Path> dashboards() throws Exception {
        try (Stream<Path> files = Files.list(MONITORING.resolve("dashboards"))) {
            return files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
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
