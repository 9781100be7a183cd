package fr.osfria.k8s.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.k8s.Rendered;
import io.fabric8.kubernetes.api.model.networking.v1.HTTPIngressPath;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressRule;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * From the Internet, an attacker asks the public host for the services' metrics, health details, OpenAPI and the
 * Alertmanager receiver. Matched the way Kubernetes defines Ingress matching (Exact: the same path; Prefix: whole path
 * elements; anything else taken at its widest, as a prefix), no rule of either overlay may send them to a service,
 * and no network policy may let anything outside the cluster reach a pod around the ingress controller.
 */
class IngressExposesOperationsEndpointsAttackTest {

    private static final List<String> OPERATIONS_PATHS = List.of("/metrics", "/metrics/", "/q/metrics", "/q/health",
            "/q/health/ready", "/q/health/live", "/q/openapi", "/health/details", "/health/ready",
            "/inference-router/q/metrics", "/ingest-service/q/health", "/v1/alerts/alertmanager", "/v1/alerts");

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void noIngressRuleSendsAnOperationsPathToAService(String overlay) {
        Rendered rendered = Rendered.of(overlay);
        List<Ingress> ingresses = rendered.all(Ingress.class);
        assertFalse(ingresses.isEmpty());
        for (Ingress ingress : ingresses) {
            assertNull(ingress.getSpec().getDefaultBackend(), "a default backend would route every path");
            for (IngressRule rule : ingress.getSpec().getRules()) {
                assertTrue(rule.getHost() != null && !rule.getHost().isBlank(), "a rule for any host");
                for (String attack : OPERATIONS_PATHS) {
                    Optional<HTTPIngressPath> match = rule.getHttp().getPaths().stream().filter(p -> matches(p, attack)).findFirst();
                    assertTrue(match.isEmpty(), overlay + ": " + attack + " is routed to "
                            + match.map(p -> p.getBackend().getService().getName() + " by " + p.getPath()).orElse(""));
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void thePublicHealthPathIsTheRoutersBareAnswerOnly(String overlay) {
        Rendered rendered = Rendered.of(overlay);
        List<HTTPIngressPath> health = new ArrayList<>();
        rendered.all(Ingress.class).forEach(i -> i.getSpec().getRules().forEach(r -> r.getHttp().getPaths().stream()
                .filter(p -> p.getPath().startsWith("/health")).forEach(health::add)));
        assertEquals(1, health.size(), "one /health rule");
        assertEquals("Exact", health.get(0).getPathType(), "only /health itself, not what lies under it");
        assertEquals("inference-router", health.get(0).getBackend().getService().getName());
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void noNetworkPolicyLetsTheOutsideReachAPodAroundTheIngressController(String overlay) {
        Rendered rendered = Rendered.of(overlay);
        for (JsonNode policy : rendered.ofKind("NetworkPolicy")) {
            String name = policy.at("/metadata/name").asText();
            for (JsonNode rule : policy.at("/spec/ingress")) {
                JsonNode from = rule.path("from");
                assertTrue(from.isArray() && !from.isEmpty(), name + ": a rule without 'from' admits every source");
                for (JsonNode peer : from) {
                    assertTrue(peer.path("ipBlock").isMissingNode(), name + ": admits an address block " + peer);
                    assertFalse(peer.isEmpty(), name + ": an empty peer admits every pod of the namespace");
                }
            }
        }
    }

    /** Kubernetes' Ingress path matching; ImplementationSpecific is taken as the widest reading, a string prefix. */
    private static boolean matches(HTTPIngressPath rule, String path) {
        String p = rule.getPath();
        return switch (rule.getPathType()) {
            case "Exact" -> path.equals(p);
            case "Prefix" -> {
                String prefix = p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
                yield prefix.isEmpty() || path.equals(prefix) || path.startsWith(prefix + "/");
            }
            default -> path.startsWith(p);
        };
    }
}
