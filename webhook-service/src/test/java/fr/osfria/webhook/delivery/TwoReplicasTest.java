package fr.osfria.webhook.delivery;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.Topics;
import fr.osfria.events.model.ModelAvailability;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import fr.osfria.webhook.WebhookConfig;
import fr.osfria.webhook.subscription.SecretBox;
import fr.osfria.security.network.TargetPolicy;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.vertx.mutiny.core.Vertx;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.junit.jupiter.api.Test;

/**
 * A second sender over the same database stands in for a second replica: both are woken for every event, and
 * each delivery still reaches the receiver exactly once.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "webhook"))
class TwoReplicasTest {

    @Inject
    Pool db;
    @Inject
    WebhookConfig config;
    @Inject
    SecretBox secrets;
    @Inject
    TargetPolicy targets;
    @Inject
    Vertx vertx;
    @Inject
    MeterRegistry metrics;
    @Inject
    DeliverySender first;
    @Inject
    AudienceCheck audience;
    @Inject
    @Channel(DeliverySender.PUBLIC_EVENTS_OUT)
    MutinyEmitter<String> events;

    @Test
    void nothingIsSentTwice() throws Exception {
        DeliverySender second = new DeliverySender(db, config, secrets, targets, vertx, metrics, events, audience);
        try (Receiver receiver = new Receiver()) {
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).contentType(ContentType.JSON)
                    .body(Map.of("url", receiver.url(), "events", List.of("model.unloaded"))).post("/v1/webhooks").then().statusCode(201);
            int count = 150;
            for (int i = 0; i < count; i++) {
                String model = "m-" + UUID.randomUUID();
                TopicProbe.send(Topics.PUBLIC_EVENTS, model, EventJson.encode(CloudEvent.of("/osfria/test", EventTypes.MODEL_UNLOADED,
                        model, new ModelAvailability(model, "gpu", 0))));
                if (i % 10 == 0) {
                    first.wake();
                    second.wake();
                }
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                second.wake();
                return receiver.received.size() >= count;
            });
            Thread.sleep(1000);
            Map<String, Long> perId = receiver.received.stream()
                    .collect(Collectors.groupingBy(r -> r.headers().get("webhook-id"), Collectors.counting()));
            assertEquals(count, perId.size(), "every delivery arrived");
            assertEquals(count, receiver.received.size(), "none twice: " + perId.values().stream()
                    .filter(n -> n > 1).count() + " duplicated");
        }
    }
}
