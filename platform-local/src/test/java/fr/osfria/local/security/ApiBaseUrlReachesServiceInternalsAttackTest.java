package fr.osfria.local.security;

import static fr.osfria.local.security.StandInServices.METRIC;
import static fr.osfria.local.security.StandInServices.SECRET_PATH;
import static fr.osfria.local.security.StandInServices.raw;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.local.EntryProxy;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The documented base URL {@code /api/v1} opens a second spelling of every path. An attacker uses it to reach what
 * {@code /v1} does not route: services' operations endpoints, the Alertmanager receiver, admin paths, through dot
 * segments, doubled slashes, encodings and case. None may reach a service; the OpenAI SDKs' paths under either base
 * URL reach the router as {@code /v1/…}.
 */
class ApiBaseUrlReachesServiceInternalsAttackTest {

    private StandInServices services;
    private EntryProxy proxy;

    @BeforeEach
    void start() throws Exception {
        services = new StandInServices(Set.of(), Set.of());
        proxy = new EntryProxy(services.settings(Map.of()));
        proxy.start();
    }

    @AfterEach
    void stop() throws Exception {
        proxy.close();
        services.close();
    }

    @Test
    void spellingsUnderApiDoNotReachAnythingV1DoesNot() throws Exception {
        List<String> attacks = List.of(
                "/api/v1/../q/metrics",
                "/api/v1/documents/../../q/metrics",
                "/api/../q/metrics",
                "/api/%2e%2e/q/metrics",
                "/api/v1/%2e%2e/%2E%2E/q/health",
                "/api/v1/models/..;/..;/q/metrics",
                "/api/v1/search/.%2e/.%2e/q/openapi",
                "/api%2f..%2fq%2fmetrics",
                "/api//v1/documents/../../q/metrics",
                "/api//q/metrics",
                "/api/v1/webhooks/%252e%252e/%252e%252e/q/metrics",
                "/api/q/metrics",
                "/api/q/health/ready",
                "/api/q/openapi",
                "/api/metrics",
                "/api/ingest-service/q/metrics",
                "/api/api/v1/../../q/metrics",
                "/API/v1/../q/metrics",
                "/api/v1/alerts/alertmanager",
                "/api/v1/%61lerts/alertmanager",
                "/api/v1/admin/kek/reseal",
                "/api/v1",
                "/api/v1/",
                "/api",
                "/API/v1/models",
                "/%61pi/v1/models",
                "/api/v1?../../q/metrics",
                "/api/q/metrics?/v1/models");
        for (String attack : attacks) {
            for (String method : List.of("GET", "POST")) {
                StandInServices.Reply reply = raw("127.0.0.1", services.entryPort, method, attack);
                assertTrue(reply.status() == 400 || reply.status() == 404,
                        method + " " + attack + " answered " + reply.status() + ": " + reply.body());
                assertFalse(reply.body().contains(METRIC) || reply.body().contains(SECRET_PATH), attack + ": " + reply.body());
            }
        }
        assertTrue(services.received.isEmpty(), "a service was asked: " + services.received);
    }

    @Test
    void theOpenAiSdksPathsWorkUnderBothBaseUrls() throws Exception {
        for (String base : List.of("/v1", "/api/v1")) {
            for (String path : List.of("/chat/completions", "/completions", "/models", "/models/meta-llama/Llama-3.1-8B")) {
                String method = path.startsWith("/models") ? "GET" : "POST";
                StandInServices.Reply reply = raw("127.0.0.1", services.entryPort, method, base + path);
                assertEquals(200, reply.status(), base + path + ": " + reply.body());
                assertTrue(reply.body().contains("\"service\":\"inference-router\",\"path\":\"/v1" + path + "\""),
                        base + path + " reached " + reply.body());
            }
        }
        StandInServices.Reply document = raw("127.0.0.1", services.entryPort, "GET", "/api/v1/documents/doc_1?page=2");
        assertEquals(200, document.status(), document.body());
        assertTrue(services.received.contains("ingest-service /v1/documents/doc_1"), services.received.toString());
        assertFalse(services.operationsEndpointReached(), services.received.toString());
    }
}
