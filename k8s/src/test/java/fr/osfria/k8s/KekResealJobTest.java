package fr.osfria.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * KEK rotation in Kubernetes: the services get the retired KEKs from the same Secret as the active one, and the
 * re-seal Job can reach them (and only it, besides the ingress) and calls each until nothing is left.
 */
class KekResealJobTest {

    private static final List<String> SEALING = List.of("ingest-service", "embed-service", "webhook-service");
    private static final Path OPS = Rendered.K8S.resolve("ops");

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void theSealingServicesGetTheRetiredKeksAndTheJobMayReachThem(String overlay) {
        Rendered r = Rendered.of(overlay);
        Secret kek = r.all(Secret.class).stream().filter(s -> s.getMetadata().getName().equals("osfria-kek")).findFirst().orElseThrow();
        assertTrue(kek.getData().keySet().containsAll(List.of("kek", "retired-keks")), kek.getData().keySet().toString());
        for (String service : SEALING) {
            Deployment d = r.all(Deployment.class).stream().filter(x -> x.getMetadata().getName().equals(service)).findFirst().orElseThrow();
            List<EnvVar> env = d.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv();
            for (String[] expected : List.of(new String[] {"OSFRIA_ENCRYPTION_KEK", "kek"},
                    new String[] {"OSFRIA_ENCRYPTION_RETIRED_KEKS", "retired-keks"})) {
                EnvVar var = env.stream().filter(e -> e.getName().equals(expected[0])).findFirst().orElseThrow(
                        () -> new AssertionError(service + " lacks " + expected[0]));
                assertEquals("osfria-kek", var.getValueFrom().getSecretKeyRef().getName());
                assertEquals(expected[1], var.getValueFrom().getSecretKeyRef().getKey());
            }
        }
        NetworkPolicy policy = r.all(NetworkPolicy.class).stream()
                .filter(p -> p.getMetadata().getName().equals("kek-reseal-to-services")).findFirst().orElseThrow();
        assertEquals(SEALING, policy.getSpec().getPodSelector().getMatchExpressions().get(0).getValues());
        NetworkPolicyIngressRule rule = policy.getSpec().getIngress().get(0);
        assertEquals(Map.of("app.kubernetes.io/name", "osfria-kek-reseal"), rule.getFrom().get(0).getPodSelector().getMatchLabels());
        assertEquals(8080, rule.getPorts().get(0).getPort().getIntVal());
    }

    @Test
    void theJobRunsTheScriptAsANonRootPodWithTheLabelThePolicyLetsThrough() throws Exception {
        Job job = new KubernetesSerialization().unmarshal(Files.readString(OPS.resolve("kek-reseal-job.yaml")), Job.class);
        var pod = job.getSpec().getTemplate();
        assertEquals("osfria-kek-reseal", pod.getMetadata().getLabels().get("app.kubernetes.io/name"));
        assertEquals("Never", pod.getSpec().getRestartPolicy());
        assertEquals(Boolean.TRUE, pod.getSpec().getSecurityContext().getRunAsNonRoot());
        Container c = pod.getSpec().getContainers().get(0);
        assertEquals(List.of("sh", "/ops/kek-reseal"), c.getCommand());
        assertEquals(Boolean.TRUE, c.getSecurityContext().getReadOnlyRootFilesystem());
        assertEquals("osfria-kek-reseal-key", c.getEnv().get(0).getValueFrom().getSecretKeyRef().getName());
        assertTrue(Files.isRegularFile(OPS.resolve("kek-reseal")));
    }

    @Test
    void theScriptCallsEachServiceUntilNothingRemainsAndStopsOnAPodWithTheOldKeyring() throws Exception {
        List<HttpServer> servers = new ArrayList<>();
        List<String> urls = new ArrayList<>();
        AtomicInteger calls = new AtomicInteger();
        try {
            for (int i = 0; i < 3; i++) {
                String kek = i == 2 ? "kek-1" : "kek-2"; // the third still runs with the old keyring
                AtomicInteger left = new AtomicInteger(2);
                HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
                s.createContext("/v1/admin/kek/reseal", x -> {
                    calls.incrementAndGet();
                    boolean authorised = "Bearer sk-test".equals(x.getRequestHeaders().getFirst("Authorization"));
                    byte[] body = (authorised ? "{\"object\":\"kek.reseal\",\"kek_id\":\"" + kek + "\",\"retired_kek_ids\":[\"kek-1\"],"
                            + "\"resealed\":4,\"remaining\":" + Math.max(0, left.decrementAndGet()) + ",\"unreadable\":0}"
                            : "{\"error\":{\"message\":\"no\"}}").getBytes(StandardCharsets.UTF_8);
                    x.sendResponseHeaders(authorised ? 200 : 401, body.length);
                    x.getResponseBody().write(body);
                    x.close();
                });
                s.start();
                servers.add(s);
                urls.add("http://127.0.0.1:" + s.getAddress().getPort());
            }
            Tools.Result ok = Tools.run(OPS, Map.of("OSFRIA_API_KEY", "sk-test", "OSFRIA_RESEAL_URLS", String.join(" ", urls.subList(0, 2))),
                    "sh", "kek-reseal");
            assertEquals(0, ok.exit(), ok.out() + ok.err());
            assertEquals(4, calls.get(), "each service until nothing remains");
            assertTrue(ok.out().contains(urls.get(1) + ": 8 re-sealed, everything under kek-2"), ok.out());

            Tools.Result stale = Tools.run(OPS, Map.of("OSFRIA_API_KEY", "sk-test", "OSFRIA_RESEAL_URLS", urls.get(0) + " " + urls.get(2)),
                    "sh", "kek-reseal");
            assertEquals(1, stale.exit(), stale.out() + stale.err());
            assertTrue(stale.err().contains("answers with KEK kek-1, not kek-2"), stale.err());

            Tools.Result refused = Tools.run(OPS, Map.of("OSFRIA_API_KEY", "sk-wrong", "OSFRIA_RESEAL_URLS", urls.get(0)), "sh", "kek-reseal");
            assertEquals(1, refused.exit());
            assertTrue(refused.err().contains("refused or failed"), refused.err());
        } finally {
            servers.forEach(s -> s.stop(0));
        }
    }
}
