package fr.osfria.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RoutesTest {

    private static String serviceFor(String path) {
        return serviceFor(path, false);
    }

    private static String serviceFor(String path, boolean exposeAlerts) {
        return Routes.route(path, exposeAlerts).map(t -> t.service().name() + " " + t.path()).orElse("none");
    }

    @Test
    void publicPathsGoToTheirServiceUnchanged() {
        assertEquals("inference-router /v1/chat/completions", serviceFor("/v1/chat/completions"));
        assertEquals("inference-router /v1/completions", serviceFor("/v1/completions"));
        assertEquals("inference-router /v1/models", serviceFor("/v1/models"));
        assertEquals("inference-router /v1/usage", serviceFor("/v1/usage"));
        assertEquals("inference-router /v1/usage", serviceFor("/api/v1/usage"));
        assertEquals("inference-router /v1/models/meta-llama/Llama-3.1-8B", serviceFor("/v1/models/meta-llama/Llama-3.1-8B"));
        assertEquals("ingest-service /v1/documents", serviceFor("/v1/documents"));
        assertEquals("ingest-service /v1/documents/doc_1", serviceFor("/v1/documents/doc_1"));
        assertEquals("ingest-service /v1/documents/", serviceFor("/v1/documents/"));
        assertEquals("ingest-service /v1/audit", serviceFor("/v1/audit"));
        assertEquals("ingest-service /v1/me", serviceFor("/api/v1/me"));
        assertEquals("none", serviceFor("/v1/mex"), "a prefix of a path element");
        assertEquals("embed-service /v1/search", serviceFor("/v1/search"));
        assertEquals("webhook-service /v1/webhooks/wh_1/deliveries", serviceFor("/v1/webhooks/wh_1/deliveries"));
        assertEquals("inference-router /v1/models/org%20x/model", serviceFor("/v1/models/org%20x/model"), "escapes pass unchanged");
    }

    @Test
    void theConsoleGoesToTheRouterButNotUnderApi() {
        assertEquals("inference-router /console", serviceFor("/console"));
        assertEquals("inference-router /console/", serviceFor("/console/"));
        assertEquals("inference-router /console/app.js", serviceFor("/console/app.js"));
        for (String path : new String[] {"/api/console", "/api/console/", "/api/v1/console", "/consolex", "/Console/",
                "/console/../q/metrics", "/console/%2e%2e/q/metrics", "/console//app.js", "/%63onsole/"}) {
            assertEquals("none", serviceFor(path, true), path);
        }
    }

    @Test
    void alertBridgeIsRoutedOnlyWhenExposed() {
        assertEquals("none", serviceFor("/v1/alerts/alertmanager"));
        assertEquals("alert-bridge /v1/alerts/alertmanager", serviceFor("/v1/alerts/alertmanager", true));
        assertEquals("none", serviceFor("/v1/%61lerts/alertmanager"), "an escaped letter does not sneak past");
    }

    @Test
    void nothingElseIsRouted() {
        for (String path : new String[] {"/", "/v1", "/v1/searchx", "/v1/documentsx", "/v1/chat", "/q/metrics",
                "/q/health/ready", "/health", "/metrics", "/ingest-service/q/health", "/alert-bridge/q/metrics",
                "/ingest-service/secret", "relative", ""}) {
            assertEquals("none", serviceFor(path, true), path);
        }
        assertTrue(Routes.route(null, true).isEmpty());
    }

    @Test
    void onlyCanonicalPathsAreRouted() {
        for (String path : new String[] {"/v1/documents/../../q/metrics", "/v1/search/..", "/v1/search/.",
                "/v1/documents/%2e%2e/q/metrics", "/v1/documents/%2E%2E/%2e%2E/q/metrics", "/v1/documents/.%2e/q/metrics",
                "/v1/documents%2f..%2f..%2fq%2fmetrics", "/v1/documents/..%5cq", "/v1/documents/..\\q",
                "/v1/documents/..;/q/metrics", "/v1/documents/.;x/q", "/v1//documents", "//v1/documents",
                "/v1/documents//doc_1", "/v1/documents/%252e%252e/q", "/v1/documents/%zz", "/v1/documents/%2",
                "/v1/documents/a%00b", "/v1/documents/a%0d%0ab"}) {
            assertFalse(Routes.isCanonical(path), path);
            assertEquals("none", serviceFor(path, true), path);
        }
        assertTrue(Routes.isCanonical("/v1/documents/doc_1"));
        assertTrue(Routes.isCanonical("/v1/documents/"));
        assertTrue(Routes.isCanonical("/v1/documents/a..b"), "dots inside a name are not a dot segment");
    }

    /** Paths the tests above route or refuse: under /api each must be routed exactly as without it. */
    private static final String[] CORPUS = {"/v1/chat/completions", "/v1/completions", "/v1/models",
            "/v1/models/meta-llama/Llama-3.1-8B", "/v1/models/org%20x/model", "/v1/documents", "/v1/documents/",
            "/v1/documents/doc_1", "/v1/audit", "/v1/search", "/v1/webhooks/wh_1/deliveries", "/v1/alerts/alertmanager",
            "/v1/%61lerts/alertmanager", "/", "/v1", "/v1/", "/v1/searchx", "/v1/chat", "/q/metrics", "/q/health",
            "/health", "/metrics", "/ingest-service/q/health", "/v1/documents/../../q/metrics", "/v1/search/..",
            "/v1/documents/%2e%2e/q/metrics", "/v1/documents%2f..%2f..%2fq%2fmetrics", "/v1/documents/..%5cq",
            "/v1/documents/..;/q/metrics", "/v1//documents", "/v1/documents/%252e%252e/q", "/v1/documents/%zz",
            "/v1/documents/a%0d%0ab", "/v1/admin/kek/reseal"};

    @Test
    void theApiBaseUrlIsTheSameApiAsV1() {
        for (boolean exposeAlerts : new boolean[] {false, true}) {
            for (String path : CORPUS) {
                assertEquals(serviceFor(path, exposeAlerts), serviceFor("/api" + path, exposeAlerts), "/api" + path);
            }
        }
        assertEquals("inference-router /v1/chat/completions", serviceFor("/api/v1/chat/completions"));
        assertEquals("ingest-service /v1/documents/doc_1", serviceFor("/api/v1/documents/doc_1"), "services are asked /v1");
        assertEquals("inference-router /v1/models/org%20x/model", serviceFor("/api/v1/models/org%20x/model"));
    }

    @Test
    void onlyTheLiteralApiPrefixOnceIsTheApi() {
        for (String path : new String[] {"/api", "/api/", "/api/v1", "/api/v1/", "/API/v1/models", "/Api/v1/models",
                "/api//v1/models", "/api/api/v1/models", "/%61pi/v1/models", "/api%2fv1/models", "/api%2Fv1/models",
                "/apiv1/models", "/api;x/v1/models", "/api/./v1/models", "/api/../v1/models", "/api/v1/../q/metrics",
                "/api/%2e%2e/q/metrics", "/api/v1/%2e%2e/%2e%2e/q/metrics", "/api/q/metrics", "/api/q/health",
                "/api/health", "/api/metrics", "/api/ingest-service/q/metrics", "/api\\v1/models", "/api/v2/models",
                "/api/v1/admin/kek/reseal"}) {
            assertEquals("none", serviceFor(path, true), path);
        }
    }
}
