package fr.osfria.local.security;

import static fr.osfria.local.security.StandInServices.METRIC;
import static fr.osfria.local.security.StandInServices.SECRET_PATH;
import static fr.osfria.local.security.StandInServices.raw;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.local.EntryProxy;
import fr.osfria.local.LocalSettings;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * From outside, through the entry port, an attacker asks for services' own endpoints (metrics, health details,
 * OpenAPI) and for the Alertmanager receiver: by name, and through every path spelling a service would normalise into
 * them. None may reach a service.
 */
class EntryPortForwardsServiceInternalsAttackTest {

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
    void eachServicesOperationsEndpointsAreNotForwarded() throws Exception {
        for (LocalSettings.Service service : LocalSettings.SERVICES) {
            for (String endpoint : List.of("/q/metrics", "/q/health", "/q/health/ready", "/q/openapi")) {
                StandInServices.Reply reply = raw("127.0.0.1", services.entryPort, "GET", "/" + service.name() + endpoint);
                assertEquals(404, reply.status(), service.name() + endpoint + ": " + reply.body());
            }
        }
        StandInServices.Reply metrics = raw("127.0.0.1", services.entryPort, "GET", "/metrics");
        assertEquals(404, metrics.status(), "the router's /metrics: " + metrics.body());
        assertFalse(services.operationsEndpointReached(), "a service was asked: " + services.received);
    }

    @Test
    void pathSpellingsThatServicesNormaliseIntoTheirOperationsEndpointsDoNotGetThrough() throws Exception {
        int ingestPort = services.settings(Map.of()).portOf(LocalSettings.SERVICES.get(0));
        List<String> attacks = List.of(
                "/v1/documents/../../q/metrics",
                "/ingest-service/../q/metrics",
                "/v1/documents/%2e%2e/%2e%2e/q/metrics",
                "/v1/documents/%2E%2E/%2E%2E/q/health",
                "/v1/search/.%2e/.%2e/q/metrics",
                "/v1/documents/..%2f..%2fq/metrics",
                "/v1/documents//../../q/metrics",
                "//v1/documents/../../q/metrics",
                "/v1/models/..;/..;/q/metrics",
                "/v1/webhooks/%252e%252e/%252e%252e/q/metrics",
                "/v1/chat/%2e/../../q/openapi",
                "http://127.0.0.1:" + ingestPort + "/q/metrics");
        for (String attack : attacks) {
            StandInServices.Reply reply = raw("127.0.0.1", services.entryPort, "GET", attack);
            assertTrue(reply.status() == 400 || reply.status() == 404, attack + " answered " + reply.status() + ": " + reply.body());
            assertFalse(reply.body().contains(METRIC) || reply.body().contains(SECRET_PATH), attack + ": " + reply.body());
        }
        assertFalse(services.operationsEndpointReached(), "a service was asked: " + services.received);

        // the same stand-ins do answer the public API through the entry port
        StandInServices.Reply ok = raw("127.0.0.1", services.entryPort, "GET", "/v1/documents/doc_1");
        assertEquals(200, ok.status(), ok.body());
        assertTrue(services.received.contains("ingest-service /v1/documents/doc_1"), services.received.toString());
    }

    @Test
    void theAlertmanagerReceiverIsNotReachableFromOutsideUnlessConfigured() throws Exception {
        for (String attack : List.of("/v1/alerts/alertmanager", "/v1/%61lerts/alertmanager")) {
            StandInServices.Reply reply = raw("127.0.0.1", services.entryPort, "POST", attack);
            assertEquals(404, reply.status(), attack + ": " + reply.body());
        }
        assertTrue(services.received.stream().noneMatch(r -> r.startsWith("alert-bridge ")), services.received.toString());

        proxy.close();
        proxy = new EntryProxy(services.settings(Map.of("OSFRIA_EXPOSE_ALERTS", "true")));
        proxy.start();
        StandInServices.Reply exposed = raw("127.0.0.1", services.entryPort, "POST", "/v1/alerts/alertmanager");
        assertEquals(200, exposed.status(), exposed.body());
        assertTrue(services.received.contains("alert-bridge /v1/alerts/alertmanager"), services.received.toString());
    }
}
