package fr.osfria.router.security;

import static fr.osfria.router.SimulatedBackends.LLAMA;
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
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The attack: hundreds of clients without a valid key announce 4 MB bodies and send them slowly, or never finish.
 * A router that reads the body before the key keeps every one of them in memory and answers nobody until each body
 * is complete.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(LenientBackends.class)
class UnauthenticatedLargeBodiesAttackTest {

    private static final int CLIENTS = 200;
    private static final long ANNOUNCED = 4_000_000; // under max-body-size: only the key can stop it early
    private static final byte[] FIRST_PART = ("{\"model\":\"" + LLAMA + "\",\"messages\":[{\"role\":\"user\",\"content\":\""
            + "x".repeat(16 * 1024)).getBytes(StandardCharsets.UTF_8);

    @Test
    void unauthenticatedClientsGet401BeforeSendingTheirBodyAndTheirConnectionsAreClosed() throws Exception {
        List<RawClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < CLIENTS; i++) {
                // no key, a malformed key, a well-formed but unknown key, a revoked key
                String key = switch (i % 4) {
                    case 0 -> null;
                    case 1 -> "not-a-key";
                    case 2 -> "sk-osfria-" + "0".repeat(43);
                    default -> TestKeys.REVOKED;
                };
                clients.add(new RawClient(0).head("/v1/chat/completions", key, ANNOUNCED).send(FIRST_PART));
            }
            // 16 KiB of 4 MB sent, and the rest never will be: the answer must come anyway
            for (RawClient client : clients) {
                String head = client.readHead(Duration.ofSeconds(10));
                assertTrue(head.startsWith("HTTP/1.1 401"), head);
                assertTrue(client.readBody(RawClient.contentLength(head)).contains("\"invalid_api_key\""));
            }
            // and the router does not keep reading what they would send: each connection is closed, bounded in time
            for (RawClient client : clients) {
                assertTrue(client.closedByPeerWithin(Duration.ofSeconds(10)), "connection left open");
            }
        } finally {
            for (RawClient client : clients) {
                client.close();
            }
        }
    }

    @Test
    void aRefusedRequestWhoseBodyIsCompleteLeavesTheConnectionUsable() throws Exception {
        String body = RouterClient.chat(LLAMA, 1, false);
        try (RawClient client = new RawClient(0)) {
            for (int i = 0; i < 2; i++) {
                client.head("/v1/chat/completions", null, body.length()).send(body);
                String head = client.readHead(Duration.ofSeconds(5));
                assertTrue(head.startsWith("HTTP/1.1 401"), head);
                client.readBody(RawClient.contentLength(head));
            }
        }
    }

    @Test
    void aValidKeysBodyIsStillReadWhenItArrivesSlowly() throws Exception {
        byte[] body = RouterClient.chat(LLAMA, 2, false).getBytes(StandardCharsets.UTF_8);
        int half = body.length / 2;
        try (RawClient client = new RawClient(0)) {
            client.head("/v1/chat/completions", TestKeys.READER, body.length).send(java.util.Arrays.copyOf(body, half));
            Thread.sleep(300);
            client.send(java.util.Arrays.copyOfRange(body, half, body.length));
            String head = client.readHead(Duration.ofSeconds(10));
            assertTrue(head.startsWith("HTTP/1.1 200"), head);
            assertTrue(client.readBody(RawClient.contentLength(head)).contains("tok2"));
        }
        assertEquals(200, RouterClient.post("/v1/chat/completions", TestKeys.READER, RouterClient.chat(LLAMA, 1, false)).statusCode());
    }
}
