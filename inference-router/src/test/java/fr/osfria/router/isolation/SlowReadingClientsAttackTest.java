package fr.osfria.router.isolation;

import static fr.osfria.router.SimulatedBackends.LLAMA;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.router.RawClient;
import fr.osfria.router.RouterClient;
import fr.osfria.router.LenientBackends;
import fr.osfria.router.SimulatedBackends;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.TestKeys;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The attack: a few clients ask for long streams and do not read them. The router pauses the backend for them (back
 * pressure); if it took that silence for the backend's, each such stream would count as a backend failure and a
 * handful of them would eject healthy GPU servers for everyone. Under {@link LenientBackends}: idle 2 s, two
 * failures eject, client write time-out 5 s.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(LenientBackends.class)
class SlowReadingClientsAttackTest {

    private static final int SLOW_CLIENTS = 4;

    @BeforeEach
    void backendsUp() {
        SimulatedBackends.resetAll();
        await().atMost(Duration.ofSeconds(60)).until(() -> RouterClient.health().path("healthy_backends").asLong() == 2);
    }

    @Test
    void clientsThatDoNotReadTheirStreamsLeaveTheBackendsInRotationAndAreDroppedThemselves() throws Exception {
        double ejectionsBefore = ejections();
        double timeoutsBefore = clientTimeouts();
        // ~1 MB each: far more than the socket buffers and the router's write queue hold
        String body = RouterClient.chat(LLAMA, 5_000, true);
        List<RawClient> slow = new ArrayList<>();
        try {
            for (int i = 0; i < SLOW_CLIENTS; i++) {
                slow.add(new RawClient(4096).head("/v1/chat/completions", TestKeys.READER, body.length()).send(body));
            }
            for (RawClient client : slow) {
                String head = client.readHead(Duration.ofSeconds(10));
                assertTrue(head.startsWith("HTTP/1.1 200"), head); // then reads no more
            }
            // well past the backends' idle time-out (2 s), short of the clients' write time-out (5 s)
            Thread.sleep(3500);
            assertEquals(ejectionsBefore, ejections(), "a backend was ejected for a client's slowness");
            // other clients are served, streams included, by both backends
            int firstServed = SimulatedBackends.first.served();
            int secondServed = SimulatedBackends.second.served();
            for (int i = 0; i < 10; i++) {
                assertEquals(200, RouterClient.post("/v1/chat/completions", TestKeys.HR, RouterClient.chat(LLAMA, 3, false)).statusCode());
                assertTrue(RouterClient.stream("/v1/chat/completions", TestKeys.HR, RouterClient.chat(LLAMA, 3, true)).endsWithDone());
            }
            assertTrue(SimulatedBackends.first.served() > firstServed && SimulatedBackends.second.served() > secondServed,
                    "both backends still take requests");

            // the slow clients' own time-out: their streams end, their backend requests are cancelled
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertEquals(SLOW_CLIENTS, clientTimeouts() - timeoutsBefore, outcomes()));
            for (RawClient client : slow) {
                assertTrue(client.closedByPeerWithin(Duration.ofSeconds(10)));
            }
            await().atMost(Duration.ofSeconds(5)).until(() ->
                    SimulatedBackends.first.running() == 0 && SimulatedBackends.second.running() == 0);
            assertEquals(ejectionsBefore, ejections(), "a backend was ejected for a client's slowness");
            assertEquals(2, RouterClient.health().path("healthy_backends").asLong());
        } finally {
            for (RawClient client : slow) {
                client.close();
            }
        }
    }

    private static String outcomes() throws Exception {
        return RouterClient.metrics().lines().filter(l -> l.startsWith("osfria_router_requests_total{"))
                .collect(java.util.stream.Collectors.joining("\n"));
    }

    private static double ejections() throws Exception {
        return sum(RouterClient.metrics(), "osfria_router_ejections_total{");
    }

    private static double clientTimeouts() throws Exception {
        return sum(RouterClient.metrics(), "osfria_router_requests_total{");
    }

    /** Sum of a metric's samples; for requests, only those with outcome client_timeout. */
    private static double sum(String metrics, String prefix) {
        double total = 0;
        for (String line : metrics.split("\n")) {
            if (line.startsWith(prefix) && (!prefix.contains("requests") || line.contains("outcome=\"client_timeout\""))) {
                total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return total;
    }
}
