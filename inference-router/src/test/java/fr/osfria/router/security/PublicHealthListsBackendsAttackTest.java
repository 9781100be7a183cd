package fr.osfria.router.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.router.RouterClient;
import fr.osfria.router.LenientBackends;
import fr.osfria.router.SimulatedBackends;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.TestKeys;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The attack: anyone on the public URL reads {@code /health} and learns the internal addresses of the GPU servers
 * and their error texts (a map of the internal network). The public answer must be a bare UP/DOWN; the detail is
 * for admin keys and for operators inside the cluster.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(LenientBackends.class)
class PublicHealthListsBackendsAttackTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeEach
    void backendsUp() {
        SimulatedBackends.resetAll();
    }

    private static HttpResponse<String> get(String path, String key) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(RouterClient.uri(path));
        if (key != null) {
            b.header("authorization", "Bearer " + key);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void anonymousHealthSaysUpOrDownAndNothingElse() throws Exception {
        String firstAddress = SimulatedBackends.first.baseUrl().replace("http://", ""); // host:port
        HttpResponse<String> health = get("/health", null);
        assertEquals(200, health.statusCode());
        assertEquals("{\"status\":\"UP\"}", health.body());
        // the combined Quarkus health (what the local entry port sums up) does not list them either
        assertFalse(get("/q/health", null).body().contains(firstAddress), "backend address in /q/health");

        SimulatedBackends.first.stop();
        SimulatedBackends.second.stop();
        try {
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                    .until(() -> get("/health", null).statusCode() == 503);
            HttpResponse<String> down = get("/health", null);
            assertEquals("{\"status\":\"DOWN\"}", down.body()); // no error text ("Connection refused: 127.0.0.1:…")
        } finally {
            SimulatedBackends.first.restart();
            SimulatedBackends.second.restart();
        }
    }

    @Test
    void backendDetailNeedsAnAdminKeyOrTheClusterInternalHealthGroup() throws Exception {
        String firstAddress = SimulatedBackends.first.baseUrl().replace("http://", ""); // host:port
        assertEquals(401, get("/health/backends", null).statusCode());
        assertEquals(401, get("/health/backends", "sk-osfria-" + "0".repeat(43)).statusCode());
        HttpResponse<String> user = get("/health/backends", TestKeys.READER);
        assertEquals(403, user.statusCode());
        assertFalse(user.body().contains(firstAddress));

        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                .until(() -> RouterClient.health().path("healthy_backends").asLong() == 2);
        HttpResponse<String> admin = get("/health/backends", TestKeys.ADMIN);
        assertEquals(200, admin.statusCode());
        assertTrue(admin.body().contains(firstAddress), admin.body());

        HttpResponse<String> group = get("/q/health/group/backends", null);
        assertEquals(200, group.statusCode(), group.body());
        com.fasterxml.jackson.databind.JsonNode data = fr.osfria.events.EventJson.MAPPER.readTree(group.body())
                .get("checks").get(0).get("data");
        assertEquals(2, data.get("healthy_backends").asInt(), group.body());
        assertEquals("healthy", data.path(firstAddress).asText(), group.body());
    }
}
