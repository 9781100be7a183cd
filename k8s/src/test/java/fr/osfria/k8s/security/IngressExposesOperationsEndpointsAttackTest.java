package fr.osfria.k8s.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.k8s.IngressRoutes;
import fr.osfria.k8s.Rendered;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressRule;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * From the Internet, an attacker asks the public host for the services' metrics, health details, OpenAPI and the
 * Alertmanager receiver, bare, under the documentation's /api prefix, with dot segments, and buried after a public
 * path. Matched the way the controllers match (IngressRoutes: Exact and Prefix as Kubernetes defines them, regular
 * expressions at their widest, anywhere in the path and in any case), no rule of either overlay nor of the Traefik
 * variant may send them to a service; and no network policy may let anything outside the cluster reach a pod around
 * the ingress controller.
 */
class IngressExposesOperationsEndpointsAttackTest {

    private static final List<String> OPERATIONS_PATHS = List.of("/metrics", "/metrics/", "/q/metrics", "/q/health",
            "/q/health/ready", "/q/health/live", "/q/openapi", "/health/details", "/health/ready",
            "/inference-router/q/metrics", "/ingest-service/q/health", "/v1/alerts/alertmanager", "/v1/alerts",
            "/Q/METRICS", "/v1/../q/metrics", "/v1/models/../../q/health", "/q/metrics/v1/models",
            "/q/health/group/v1/documents", "/metrics/v1/chat/completions", "/health/api/v1/search");

    /** Every operations path, and the same under /api, as an attacker would try them. */
    private static List<String> attacks() {
        List<String> attacks = new ArrayList<>();
        for (String path : OPERATIONS_PATHS) {
            attacks.add(path);
            attacks.add("/api" + path);
        }
        attacks.addAll(List.of("/api/v1/../q/metrics", "/api/q/health", "/api/metrics", "/api/health",
                "/api/api/v1/models", "/api/v1/../../q/openapi"));
        return attacks;
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod", "prod-traefik"})
    void noIngressRuleSendsAnOperationsPathToAService(String variant) {
        Rendered rendered = variant.equals("prod-traefik") ? Rendered.prodWithTraefik() : Rendered.of(variant);
        List<Ingress> ingresses = rendered.all(Ingress.class);
        assertFalse(ingresses.isEmpty());
        var strip = IngressRoutes.stripPrefixes(rendered);
        for (Ingress ingress : ingresses) {
            assertNull(ingress.getSpec().getDefaultBackend(), "a default backend would route every path");
            for (IngressRule rule : ingress.getSpec().getRules()) {
                assertTrue(rule.getHost() != null && !rule.getHost().isBlank(), "a rule for any host");
            }
            for (String attack : attacks()) {
                Optional<IngressRoutes.Route> route = IngressRoutes.route(ingress, strip, attack);
                assertTrue(route.isEmpty(), variant + ": " + attack + " is routed: " + route.orElse(null));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod", "prod-traefik"})
    void thePublicHealthPathIsTheRoutersBareAnswerOnly(String variant) {
        Rendered rendered = variant.equals("prod-traefik") ? Rendered.prodWithTraefik() : Rendered.of(variant);
        var strip = IngressRoutes.stripPrefixes(rendered);
        List<Ingress> ingresses = rendered.all(Ingress.class);
        IngressRoutes.Route health = IngressRoutes.route(ingresses, strip, "/health").orElseThrow();
        assertEquals("inference-router", health.service());
        assertEquals("/health", health.backendPath());
        for (String under : List.of("/health/", "/health/live", "/healthz", "/api/health", "/health/group/backends")) {
            assertTrue(IngressRoutes.route(ingresses, strip, under).isEmpty(), variant + ": " + under + " is routed");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod", "prod-traefik"})
    void noNetworkPolicyLetsTheOutsideReachAPodAroundTheIngressController(String overlay) {
        Rendered rendered = overlay.equals("prod-traefik") ? Rendered.prodWithTraefik() : Rendered.of(overlay);
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
}
