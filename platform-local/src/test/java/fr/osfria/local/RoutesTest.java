package fr.osfria.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RoutesTest {

    private static String serviceFor(String path) {
        return Routes.route(path).map(t -> t.service().name() + " " + t.path()).orElse("none");
    }

    @Test
    void publicPathsGoToTheirServiceUnchanged() {
        assertEquals("inference-router /v1/chat/completions", serviceFor("/v1/chat/completions"));
        assertEquals("inference-router /v1/completions", serviceFor("/v1/completions"));
        assertEquals("inference-router /v1/models", serviceFor("/v1/models"));
        assertEquals("inference-router /v1/models/meta-llama/Llama-3.1-8B", serviceFor("/v1/models/meta-llama/Llama-3.1-8B"));
        assertEquals("inference-router /health", serviceFor("/health"));
        assertEquals("ingest-service /v1/documents", serviceFor("/v1/documents"));
        assertEquals("ingest-service /v1/documents/doc_1", serviceFor("/v1/documents/doc_1"));
        assertEquals("ingest-service /v1/audit", serviceFor("/v1/audit"));
        assertEquals("embed-service /v1/search", serviceFor("/v1/search"));
        assertEquals("webhook-service /v1/webhooks/wh_1/deliveries", serviceFor("/v1/webhooks/wh_1/deliveries"));
        assertEquals("alert-bridge /v1/alerts/alertmanager", serviceFor("/v1/alerts/alertmanager"));
    }

    @Test
    void eachServicesOperationsPathsAreReachableUnderItsName() {
        assertEquals("ingest-service /q/health", serviceFor("/ingest-service/q/health"));
        assertEquals("alert-bridge /q/metrics", serviceFor("/alert-bridge/q/metrics"));
    }

    @Test
    void nothingElseIsRouted() {
        for (String path : new String[] {"/", "/v1", "/v1/searchx", "/v1/documentsx", "/v1/chat", "/q/metrics",
                "/ingest-service/secret", "/v1/documents/../../q/metrics", "/v1/search/..", "relative", ""}) {
            assertEquals("none", serviceFor(path), path);
        }
        assertTrue(Routes.route(null).isEmpty());
    }
}
