package fr.osfria.router.isolation;

import static fr.osfria.router.SimulatedBackends.LLAMA;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.router.RouterClient;
import fr.osfria.router.LenientBackends;
import fr.osfria.router.SimulatedBackends;
import fr.osfria.testing.Ports;
import fr.osfria.testing.TestKeys;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The attack: a key whose quota is spent sends requests while a router replica has not read the usage tallies yet
 * (it just started and is replaying them, or cannot reach Kafka at all). Totals it has not read are not zero: such
 * a key is answered 503 {@code quota_unavailable} with Retry-After, while keys without a quota are not held up.
 * Here the broker is unreachable, so the replay never ends.
 */
@QuarkusTest
@TestProfile(QuotaWhileLedgerReplaysAttackTest.KafkaUnreachable.class)
@WithTestResource(TestKeys.class)
@WithTestResource(LenientBackends.class)
class QuotaWhileLedgerReplaysAttackTest {

    public static class KafkaUnreachable implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("kafka.bootstrap.servers", "127.0.0.1:" + Ports.free());
        }
    }

    @Test
    void keysWithAQuotaWaitForTheLedgerAndOthersDoNot() throws Exception {
        String quota = TestKeys.metered("replay-" + UUID.randomUUID().toString().substring(0, 8), 1000L, null, null, null);
        await().atMost(Duration.ofSeconds(10)).until(() -> RouterClient.post("/v1/chat/completions", quota, "{}").statusCode() != 401);

        HttpResponse<String> r = RouterClient.post("/v1/chat/completions", quota, RouterClient.chat(LLAMA, 1, false));
        RouterClient.assertError(r, 503, "quota_unavailable");
        long retryAfter = Long.parseLong(r.headers().firstValue("retry-after").orElseThrow());
        assertTrue(retryAfter >= 1 && retryAfter <= 60, "Retry-After " + retryAfter);

        // a key without a quota goes past the ledger (to the model check: no usage is made, none waits for Kafka)
        RouterClient.assertError(RouterClient.post("/v1/chat/completions", TestKeys.READER,
                RouterClient.chat("no-such-model", 1, false)), 404, "model_not_found");
    }
}
