package fr.osfria.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.Topics;
import fr.osfria.local.LocalSettings;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Both overlays, rendered offline and read with the fabric8 Kubernetes model. */
class ManifestsTest {

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void everyWorkloadHasProbesLimitsAndANonRootContext(String overlay) {
        Rendered r = Rendered.of(overlay);
        assertTrue(r.objects.size() > 40, "rendered " + r.objects.size() + " objects");
        r.objects.forEach(o -> assertNotNull(o.getMetadata().getName(), "an object without a name: " + o.getKind()));
        Map<String, PodTemplateSpec> workloads = workloads(r);
        assertTrue(workloads.keySet().containsAll(List.of("Deployment/ingest-service", "Deployment/embed-service",
                "Deployment/inference-router", "Deployment/webhook-service", "Deployment/alert-bridge", "Deployment/vllm-server",
                "StatefulSet/qdrant")), workloads.keySet().toString());
        workloads.forEach((name, template) -> {
            var pod = template.getSpec();
            assertEquals(Boolean.TRUE, pod.getSecurityContext() == null ? null : pod.getSecurityContext().getRunAsNonRoot(),
                    name + " must run as non-root");
            for (Container c : pod.getContainers()) {
                String where = name + "/" + c.getName();
                assertNotNull(c.getLivenessProbe(), where + " has no liveness probe");
                assertNotNull(c.getReadinessProbe(), where + " has no readiness probe");
                assertNotNull(c.getResources().getLimits(), where + " has no limits");
                assertTrue(c.getResources().getLimits().containsKey("cpu") && c.getResources().getLimits().containsKey("memory"),
                        where + " needs cpu and memory limits");
                assertNotNull(c.getResources().getRequests(), where + " has no requests");
                assertEquals(Boolean.FALSE, c.getSecurityContext().getAllowPrivilegeEscalation(), where);
                boolean osfria = "osfria-service".equals(template.getMetadata().getLabels().get("app.kubernetes.io/component"));
                if (osfria) {
                    assertEquals(Boolean.TRUE, c.getSecurityContext().getReadOnlyRootFilesystem(), where + " root filesystem");
                    assertNotNull(c.getStartupProbe(), where + " has no startup probe");
                    assertEquals("/q/health/ready", c.getReadinessProbe().getHttpGet().getPath());
                }
            }
        });
        // GPU pods ask for one GPU each and land on GPU nodes
        Deployment vllm = r.all(Deployment.class).stream().filter(d -> d.getMetadata().getName().equals("vllm-server")).findFirst().orElseThrow();
        Container server = vllm.getSpec().getTemplate().getSpec().getContainers().get(0);
        assertEquals("1", server.getResources().getLimits().get("nvidia.com/gpu").getAmount());
        assertEquals("true", vllm.getSpec().getTemplate().getSpec().getNodeSelector().get("nvidia.com/gpu"));
        assertTrue(server.getArgs().stream().anyMatch(a -> a.startsWith("--max-model-len")));
        assertTrue(server.getArgs().stream().anyMatch(a -> a.startsWith("--gpu-memory-utilization")));
        assertTrue(vllm.getSpec().getTemplate().getSpec().getVolumes().stream()
                .anyMatch(v -> v.getPersistentVolumeClaim() != null && Boolean.TRUE.equals(v.getPersistentVolumeClaim().getReadOnly())));
        // every Osfria service has a disruption budget; router and embed scale with an HPA
        for (String svc : List.of("ingest-service", "embed-service", "inference-router", "webhook-service", "alert-bridge")) {
            assertTrue(r.has("PodDisruptionBudget", svc), svc + " has no PodDisruptionBudget");
        }
        for (String hpa : List.of("inference-router", "embed-service", "vllm-hpa")) {
            assertTrue(r.has("HorizontalPodAutoscaler", hpa), hpa + " has no HPA");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void everyServiceSelectsPodsThatExist(String overlay) {
        Rendered r = Rendered.of(overlay);
        List<Map<String, String>> podLabels = workloads(r).values().stream().map(t -> t.getMetadata().getLabels()).toList();
        for (Service s : r.all(Service.class)) {
            Map<String, String> selector = s.getSpec().getSelector();
            assertNotNull(selector, s.getMetadata().getName() + " selects nothing");
            assertTrue(podLabels.stream().anyMatch(l -> l.entrySet().containsAll(selector.entrySet())),
                    "Service " + s.getMetadata().getName() + " selects " + selector + ": no pod has those labels");
        }
        // the router discovers vLLM through the headless service its configuration names
        ConfigMap config = r.all(ConfigMap.class).stream().filter(c -> c.getMetadata().getName().equals("osfria-config")).findFirst().orElseThrow();
        String dns = config.getData().get("OSFRIA_ROUTER_DISCOVERY_DNS_NAME");
        Service headless = r.all(Service.class).stream().filter(s -> dns.startsWith(s.getMetadata().getName() + ".")).findFirst().orElseThrow();
        assertEquals("None", headless.getSpec().getClusterIP());
        assertEquals(Map.of("app", "vllm-server"), headless.getSpec().getSelector());
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void everyConfigMapSecretAndClaimAWorkloadNamesExists(String overlay) {
        Rendered r = Rendered.of(overlay);
        Set<String> configMaps = names(r.all(ConfigMap.class));
        Map<String, Set<String>> secretKeys = new LinkedHashMap<>();
        r.all(Secret.class).forEach(s -> secretKeys.put(s.getMetadata().getName(), s.getData() == null ? Set.of() : s.getData().keySet()));
        Set<String> claims = names(r.all(PersistentVolumeClaim.class));
        List<String> missing = new ArrayList<>();
        workloads(r).forEach((name, template) -> {
            for (Container c : template.getSpec().getContainers()) {
                for (EnvFromSource from : c.getEnvFrom() == null ? List.<EnvFromSource>of() : c.getEnvFrom()) {
                    if (from.getConfigMapRef() != null && !configMaps.contains(from.getConfigMapRef().getName())) {
                        missing.add(name + " envFrom ConfigMap " + from.getConfigMapRef().getName());
                    }
                }
                for (EnvVar e : c.getEnv() == null ? List.<EnvVar>of() : c.getEnv()) {
                    if (e.getValueFrom() != null && e.getValueFrom().getSecretKeyRef() != null) {
                        var ref = e.getValueFrom().getSecretKeyRef();
                        if (!secretKeys.getOrDefault(ref.getName(), Set.of()).contains(ref.getKey())) {
                            missing.add(name + " env " + e.getName() + " → Secret " + ref.getName() + "/" + ref.getKey());
                        }
                    }
                }
            }
            for (Volume v : template.getSpec().getVolumes() == null ? List.<Volume>of() : template.getSpec().getVolumes()) {
                if (v.getSecret() != null && !secretKeys.containsKey(v.getSecret().getSecretName())) {
                    missing.add(name + " volume Secret " + v.getSecret().getSecretName());
                }
                if (v.getConfigMap() != null && !configMaps.contains(v.getConfigMap().getName())) {
                    missing.add(name + " volume ConfigMap " + v.getConfigMap().getName());
                }
                if (v.getPersistentVolumeClaim() != null && !claims.contains(v.getPersistentVolumeClaim().getClaimName())) {
                    missing.add(name + " volume claim " + v.getPersistentVolumeClaim().getClaimName());
                }
            }
        });
        // custom resources that name a Secret
        for (JsonNode cluster : r.ofKind("Cluster")) {
            String secret = cluster.at("/spec/bootstrap/initdb/secret/name").asText();
            if (!secretKeys.getOrDefault(secret, Set.of()).containsAll(Set.of("username", "password"))) {
                missing.add("CloudNativePG Cluster → Secret " + secret + " with username and password");
            }
        }
        assertEquals(List.of(), missing);
        // and no secret value is in the repository: every Secret comes from the overlay's untracked files
        for (Secret s : r.all(Secret.class)) {
            assertTrue(Set.of("osfria-keys", "osfria-kek", "osfria-pg-app").contains(s.getMetadata().getName()),
                    "unexpected Secret " + s.getMetadata().getName());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void everyTopicTheCodeUsesIsDeclared(String overlay) throws Exception {
        Rendered r = Rendered.of(overlay);
        Set<String> declared = new TreeSet<>();
        Map<String, Integer> replicas = new LinkedHashMap<>();
        for (JsonNode t : r.ofKind("KafkaTopic")) {
            declared.add(t.at("/spec/topicName").asText());
            replicas.put(t.at("/spec/topicName").asText(), t.at("/spec/replicas").asInt());
        }
        Set<String> used = topicsInCode();
        assertTrue(used.size() >= 12, "found only " + used);
        // a Kafka application's topics are made with the application (keys create --kafka), not by the manifests
        used.removeIf(t -> t.startsWith("osfria.app.") || t.replace("\\", "").startsWith("osfria.app."));
        Set<String> undeclared = new TreeSet<>(used);
        undeclared.removeAll(declared);
        assertEquals(Set.of(), undeclared, "topics the services use but the overlay does not declare");
        int expected = overlay.equals("prod") ? 3 : 1;
        replicas.forEach((topic, n) -> assertEquals(expected, n, topic + " replication"));
    }

    /**
     * Each public path of the local entry port, and the same under /api (the documentation's base URL), reaches its
     * service as the bare path, with either ingress controller; internal paths and /api/health are not routed.
     */
    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod", "prod-traefik"})
    void theIngressRoutesWhatTheLocalEntryPortRoutesAlsoUnderApi(String variant) {
        Rendered r = variant.equals("prod-traefik") ? Rendered.prodWithTraefik() : Rendered.of(variant);
        List<Ingress> ingresses = r.all(Ingress.class);
        assertEquals(Set.of("osfria", "osfria-uploads"), names(ingresses));
        for (Ingress ingress : ingresses) {
            assertFalse(ingress.getSpec().getTls().isEmpty(), "no TLS");
            assertEquals(1, ingress.getSpec().getRules().size(), "one host");
        }
        assertEquals(1, ingresses.stream().map(i -> i.getSpec().getRules().get(0).getHost()).distinct().count(), "one host for both");
        Map<String, String> strip = IngressRoutes.stripPrefixes(r);
        for (LocalSettings.Service service : LocalSettings.SERVICES) {
            for (String prefix : service.paths()) {
                for (String path : List.of(prefix, prefix.endsWith("/") ? prefix + "completions" : prefix + "/x_1")) {
                    for (String asked : List.of(path, "/api" + path)) {
                        var route = IngressRoutes.route(ingresses, strip, asked);
                        if (service.internal()) {
                            // e.g. /v1/alerts: Alertmanager reaches alert-bridge inside the cluster, as locally on its own port
                            assertTrue(route.isEmpty(), variant + ": " + asked + " is internal but routed by " + route);
                            continue;
                        }
                        assertTrue(route.isPresent(), variant + ": the Ingress does not route " + asked);
                        assertEquals(1, ingresses.stream().filter(i -> IngressRoutes.route(i, strip, asked).isPresent()).count(),
                                variant + ": " + asked + " is routed by more than one Ingress");
                        assertEquals(service.name(), route.get().service(), variant + ": " + asked);
                        assertEquals(path, route.get().backendPath(), variant + ": " + asked + " reaches the service as");
                    }
                }
            }
        }
        assertEquals("/health", IngressRoutes.route(ingresses, strip, "/health").orElseThrow().backendPath());
        assertTrue(IngressRoutes.route(ingresses, strip, "/api/health").isEmpty(), "/api/health is routed");
        for (String console : List.of("/console", "/console/", "/console/app.js")) {
            var route = IngressRoutes.route(ingresses, strip, console).orElseThrow(() -> new AssertionError(console + " is not routed"));
            assertEquals("inference-router", route.service(), console);
            assertEquals(console, route.backendPath(), console);
        }
        assertTrue(IngressRoutes.route(ingresses, strip, "/api/console/").isEmpty(), "/api/console is routed");
        assertTrue(IngressRoutes.route(ingresses, strip, "/consolex").isEmpty(), "a prefix of a path element is routed");
        assertTrue(IngressRoutes.route(ingresses, strip, "/v1/documentsX").isEmpty(), "a prefix of a path element is routed");
        Set<String> services = names(r.all(Service.class));
        ingresses.forEach(ingress -> ingress.getSpec().getRules().get(0).getHttp().getPaths()
                .forEach(p -> assertTrue(services.contains(p.getBackend().getService().getName()))));
    }

    /** The ingress class is one setting: the component's class, annotations, middleware and network policy agree. */
    @Test
    void eachIngressComponentMatchesItsController() throws Exception {
        JsonNode nginxValues = Rendered.YAML.readTree(Rendered.K8S.resolve("helm/ingress-nginx-values.yaml").toFile());
        Rendered nginx = Rendered.of("prod");
        for (Ingress each : nginx.all(Ingress.class)) {
            assertEquals(nginxValues.at("/controller/ingressClassResource/name").asText(), each.getSpec().getIngressClassName());
            assertEquals("true", each.getMetadata().getAnnotations().get("nginx.ingress.kubernetes.io/use-regex"));
        }
        Ingress ingress = byName(nginx.all(Ingress.class), "osfria");
        // upload bodies reach ingest-service as they arrive (it refuses a key past its cap before the body, which a
        // controller spooling every body whole first would undo); the other routes' bodies stay buffered
        assertEquals("off", byName(nginx.all(Ingress.class), "osfria-uploads").getMetadata().getAnnotations()
                .get("nginx.ingress.kubernetes.io/proxy-request-buffering"));
        assertNull(ingress.getMetadata().getAnnotations().get("nginx.ingress.kubernetes.io/proxy-request-buffering"));
        // the controller spools at most what the services behind each Ingress take: 101 MiB only for uploads
        assertEquals("4m", ingress.getMetadata().getAnnotations().get("nginx.ingress.kubernetes.io/proxy-body-size"));
        assertEquals("101m", byName(nginx.all(Ingress.class), "osfria-uploads").getMetadata().getAnnotations()
                .get("nginx.ingress.kubernetes.io/proxy-body-size"));
        JsonNode peer = nginx.one("NetworkPolicy", "public-services-from-ingress").at("/spec/ingress/0/from/0");
        assertEquals("ingress-nginx", peer.at("/namespaceSelector/matchLabels/kubernetes.io~1metadata.name").asText(),
                "the namespace the values file's helm command installs into");
        peer.at("/podSelector/matchLabels").fields().forEachRemaining(label -> assertEquals(label.getValue().asText(),
                nginxValues.at("/controller/podLabels").path(label.getKey()).asText(), "controller pod label " + label.getKey()));

        Rendered traefik = Rendered.prodWithTraefik();
        for (Ingress viaTraefik : traefik.all(Ingress.class)) {
            assertEquals("traefik", viaTraefik.getSpec().getIngressClassName());
            assertEquals("PathRegexp", viaTraefik.getMetadata().getAnnotations().get("traefik.ingress.kubernetes.io/router.pathmatcher"));
            assertTrue(viaTraefik.getMetadata().getAnnotations().keySet().stream().noneMatch(k -> k.startsWith("nginx.")));
        }
        assertEquals(Map.of("osfria-ai-strip-api@kubernetescrd", "/api"), IngressRoutes.stripPrefixes(traefik));
        assertEquals("kube-system", traefik.one("NetworkPolicy", "public-services-from-ingress")
                .at("/spec/ingress/0/from/0/namespaceSelector/matchLabels/kubernetes.io~1metadata.name").asText());
        assertTrue(ingress.getMetadata().getAnnotations().keySet().stream().noneMatch(k -> k.startsWith("traefik.")));
    }

    /** The documentation's names work: namespace, Deployment, label, Services, HPA, GPU node label, model name. */
    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void theDocumentedNamesWork(String overlay) {
        Rendered r = Rendered.of(overlay);
        assertTrue(r.has("Namespace", "osfria-ai"));
        r.raw.stream().filter(n -> !n.at("/metadata/namespace").isMissingNode())
                .filter(n -> !List.of("RecurringJob").contains(n.path("kind").asText()))
                .forEach(n -> assertEquals("osfria-ai", n.at("/metadata/namespace").asText(), n.path("kind") + " " + n.at("/metadata/name")));
        Deployment vllm = r.all(Deployment.class).stream().filter(d -> d.getMetadata().getName().equals("vllm-server")).findFirst().orElseThrow();
        Map<String, String> podLabels = vllm.getSpec().getTemplate().getMetadata().getLabels();
        assertEquals("vllm-server", podLabels.get("app"), "kubectl logs -l app=vllm-server finds nothing");
        assertEquals("vllm", podLabels.get("app.kubernetes.io/name"), "the recommended labels are kept");
        var pod = vllm.getSpec().getTemplate().getSpec();
        assertEquals("true", pod.getNodeSelector().get("nvidia.com/gpu"));
        assertTrue(pod.getContainers().get(0).getArgs().contains("--served-model-name=deepseek-r2-78b-int4"));
        assertTrue(pod.getContainers().get(0).getArgs().contains("--model=$(MODEL_PATH)"), "the model path is a setting");
        assertEquals("/models/deepseek-r2-78b-int4", r.one("ConfigMap", "vllm-config").at("/data/MODEL_PATH").asText());
        assertFalse(pod.getContainers().get(0).getImage().endsWith(":latest"), "a pinned vLLM image, not :latest");

        Service service = r.all(Service.class).stream().filter(s -> s.getMetadata().getName().equals("vllm-service")).findFirst().orElseThrow();
        assertEquals("ClusterIP", service.getSpec().getType());
        assertEquals(8000, service.getSpec().getPorts().get(0).getPort());
        assertTrue(podLabels.entrySet().containsAll(service.getSpec().getSelector().entrySet()));
        JsonNode hpa = r.one("HorizontalPodAutoscaler", "vllm-hpa");
        assertEquals("vllm-server", hpa.at("/spec/scaleTargetRef/name").asText());
        // every image pinned: the documentation's :latest would change what runs at every pod restart
        for (Deployment d : r.all(Deployment.class)) {
            d.getSpec().getTemplate().getSpec().getContainers().forEach(c ->
                    assertTrue(c.getImage().matches(".+:[^:/]+") && !c.getImage().endsWith(":latest"), c.getImage()));
        }
    }

    /** prometheus-adapter serves the HPA exactly the metric it asks for, from a metric vLLM really exports. */
    @Test
    void theVllmHpaMetricIsServedByPrometheusAdapter() throws Exception {
        JsonNode hpa = Rendered.of("prod").one("HorizontalPodAutoscaler", "vllm-hpa");
        String wanted = hpa.at("/spec/metrics/0/pods/metric/name").asText();
        JsonNode rules = Rendered.YAML.readTree(Rendered.K8S.resolve("helm/prometheus-adapter-values.yaml").toFile()).at("/rules/custom");
        List<String> served = new ArrayList<>();
        for (JsonNode rule : rules) {
            served.add(rule.at("/name/as").asText());
            if (rule.at("/name/as").asText().equals(wanted)) {
                String series = rule.at("/seriesQuery").asText().replaceAll("\\{.*", "");
                assertTrue(rule.at("/name/matches").asText().contains(series), "the rule renames " + series);
                assertTrue(MonitoringTest.exporterMetrics().containsKey(series), series + " is not a vLLM metric");
                assertEquals("pod", rule.at("/resources/overrides/pod/resource").asText(), "a Pods metric needs the pod");
            }
        }
        assertTrue(served.contains(wanted), "the HPA asks for " + wanted + ", the adapter serves " + served);
    }

    /** The documentation's Longhorn settings and StorageClass parameters, and the backup job they name. */
    @Test
    void longhornIsConfiguredAsDocumented() throws Exception {
        JsonNode values = Rendered.YAML.readTree(Rendered.K8S.resolve("helm/longhorn-values.yaml").toFile());
        assertEquals("/opt/longhorn", values.at("/defaultSettings/defaultDataPath").asText());
        assertEquals(300, values.at("/defaultSettings/replicaReplenishmentWaitInterval").asInt());
        assertEquals(2, values.at("/defaultSettings/concurrentReplicaRebuildPerNodeLimit").asInt());
        Rendered r = Rendered.of("prod");
        JsonNode parameters = r.one("StorageClass", "longhorn-fast").at("/parameters");
        assertEquals("3", parameters.path("numberOfReplicas").asText());
        assertEquals("300", parameters.path("staleReplicaTimeout").asText());
        assertEquals("ssd", parameters.path("diskSelector").asText());
        assertEquals("storage-node", parameters.path("nodeSelector").asText());
        JsonNode selector = Rendered.YAML.readTree(parameters.path("recurringJobSelector").asText());
        JsonNode job = r.one("RecurringJob", selector.at("/0/name").asText());
        assertFalse(selector.at("/0/isGroup").asBoolean());
        assertEquals("longhorn-system", job.at("/metadata/namespace").asText());
        assertEquals("backup", job.at("/spec/task").asText());
    }

    @Test
    void aMissingSecretFailsTheRenderAndNamesTheFile() {
        for (String overlay : List.of("dev", "prod")) {
            Tools.Result r = Rendered.kustomize(overlay, false);
            assertNotEquals(0, r.exit(), "rendered without its secrets");
            assertTrue(r.err().contains("secrets/keys.json"), r.err());
        }
    }

    @Test
    void networkPoliciesDenyByDefaultAndOpenOnlyWhatIsNeeded() {
        Rendered r = Rendered.of("prod");
        List<JsonNode> policies = r.ofKind("NetworkPolicy");
        JsonNode deny = policies.stream().filter(p -> p.at("/metadata/name").asText().equals("default-deny-ingress")).findFirst().orElseThrow();
        assertTrue(deny.at("/spec/podSelector").isEmpty() && deny.at("/spec/ingress").isMissingNode());
        JsonNode publicPolicy = policies.stream().filter(p -> p.at("/metadata/name").asText().equals("public-services-from-ingress")).findFirst().orElseThrow();
        List<String> exposed = new ArrayList<>();
        publicPolicy.at("/spec/podSelector/matchExpressions/0/values").forEach(v -> exposed.add(v.asText()));
        assertFalse(exposed.contains("alert-bridge"), "the ingress must not reach alert-bridge");
        for (Ingress ingress : r.all(Ingress.class)) {
            ingress.getSpec().getRules().get(0).getHttp().getPaths().forEach(p ->
                    assertTrue(exposed.contains(p.getBackend().getService().getName()), p.getPath() + " is routed but not reachable"));
        }
    }

    private static Map<String, PodTemplateSpec> workloads(Rendered r) {
        Map<String, PodTemplateSpec> all = new LinkedHashMap<>();
        r.all(Deployment.class).forEach(d -> all.put("Deployment/" + d.getMetadata().getName(), d.getSpec().getTemplate()));
        r.all(StatefulSet.class).forEach(s -> all.put("StatefulSet/" + s.getMetadata().getName(), s.getSpec().getTemplate()));
        return all;
    }

    private static Ingress byName(List<Ingress> ingresses, String name) {
        return ingresses.stream().filter(i -> i.getMetadata().getName().equals(name)).findFirst().orElseThrow();
    }

    private static <T extends HasMetadata> Set<String> names(List<T> objects) {
        Set<String> names = new TreeSet<>();
        objects.forEach(o -> names.add(o.getMetadata().getName()));
        return names;
    }

    /** The topic constants of the events module, and every topic a service's configuration names. */
    static Set<String> topicsInCode() throws Exception {
        Set<String> topics = new TreeSet<>();
        for (Field f : Topics.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == String.class) {
                topics.add((String) f.get(null));
            }
        }
        Path root = Rendered.K8S.getParent();
        try (Stream<Path> files = Files.walk(root, 6)) {
            for (Path p : files.filter(f -> f.toString().contains("src/main/resources")
                    && (f.getFileName().toString().equals("application.properties")
                    || f.getFileName().toString().equals("microprofile-config.properties"))).toList()) {
                for (String line : Files.readAllLines(p)) {
                    if (line.matches("^[^#%]*\\.topic=.*") || line.matches("^[^#%]*dead-letter-queue\\.topic=.*")) {
                        topics.add(line.substring(line.indexOf('=') + 1).trim());
                    }
                }
            }
        }
        return topics;
    }
}
