package fr.osfria.webhook.event;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.Topics;
import fr.osfria.events.document.DocumentIndexed;
import fr.osfria.events.model.ModelAvailability;
import fr.osfria.webhook.delivery.Receiver;
import io.restassured.http.ContentType;
import java.util.List;
import java.util.Map;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "webhook"))
class PublicEventListenerTest {

    @Inject
    AgroalDataSource db;

    @Test
    void aPublicEventIsTakenInOnceEvenWhenDeliveredTwice() throws Exception {
        CloudEvent<DocumentIndexed> event = CloudEvent.of("/osfria/test", EventTypes.DOCUMENT_INDEXED, "doc_1",
                new DocumentIndexed("doc_1", "rapport.pdf", "reports", 24, 15642, null, false));
        String json = EventJson.encode(event);

        TopicProbe.send(Topics.PUBLIC_EVENTS, "doc_1", json);
        await().atMost(Duration.ofSeconds(30)).until(() -> rows(event.id()) == 1);

        TopicProbe.send(Topics.PUBLIC_EVENTS, "doc_1", json); // Kafka delivers at least once
        CloudEvent<DocumentIndexed> marker = CloudEvent.of("/osfria/test", EventTypes.DOCUMENT_INDEXED, "doc_1",
                new DocumentIndexed("doc_1", "rapport.pdf", "reports", 24, 1, null, false));
        TopicProbe.send(Topics.PUBLIC_EVENTS, "doc_1", EventJson.encode(marker)); // same key: same partition, after it
        await().atMost(Duration.ofSeconds(30)).until(() -> rows(marker.id()) == 1);
        assertEquals(1, rows(event.id()), "the redelivered event was recorded twice");
    }

    @Test
    void anEventTakenInAgainAfterItsIdWasForgottenIsNotDeliveredTwice() throws Exception {
        try (Receiver receiver = new Receiver()) {
            String subscription = given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).contentType(ContentType.JSON)
                    .body(Map.of("url", receiver.url(), "events", List.of("model.loaded"))).post("/v1/webhooks")
                    .then().statusCode(201).extract().path("id");
            CloudEvent<ModelAvailability> event = CloudEvent.of("/osfria/test", EventTypes.MODEL_LOADED, "m-forgotten",
                    new ModelAvailability("m-forgotten", "gpu", 1));
            String json = EventJson.encode(event);
            TopicProbe.send(Topics.PUBLIC_EVENTS, "m-forgotten", json);
            await().atMost(Duration.ofSeconds(30)).until(() -> deliveries(subscription, event.id()) == 1);

            // the memory of events taken in is kept for less time than their deliveries: its retention forgot this one
            try (Connection c = db.getConnection();
                 PreparedStatement ps = c.prepareStatement("DELETE FROM received_event WHERE event_id = ?")) {
                ps.setString(1, event.id());
                ps.executeUpdate();
            }
            TopicProbe.send(Topics.PUBLIC_EVENTS, "m-forgotten", json); // published again
            CloudEvent<ModelAvailability> marker = CloudEvent.of("/osfria/test", EventTypes.MODEL_LOADED, "m-forgotten",
                    new ModelAvailability("m-forgotten", "gpu", 2));
            TopicProbe.send(Topics.PUBLIC_EVENTS, "m-forgotten", EventJson.encode(marker)); // same partition, after it
            await().atMost(Duration.ofSeconds(30)).until(() -> deliveries(subscription, marker.id()) == 1);
            assertEquals(1, deliveries(subscription, event.id()), "the event got a second delivery, with another webhook-id");
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).delete("/v1/webhooks/" + subscription)
                    .then().statusCode(204);
        }
    }

    private long deliveries(String subscription, String eventId) throws Exception {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT count(*) FROM delivery WHERE subscription_id = ? AND event_id = ?")) {
            ps.setString(1, subscription);
            ps.setString(2, eventId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    @Test
    void whatIsNotACloudEventGoesToTheDeadLetterTopicWithTheReason() {
        try (TopicProbe dlq = TopicProbe.open(Topics.deadLetter(Topics.PUBLIC_EVENTS))) {
            TopicProbe.send(Topics.PUBLIC_EVENTS, "junk-1", "{\"this is\": \"not an event\"}");
            ConsumerRecord<String, String> dead = dlq.await(r -> "junk-1".equals(r.key()), Duration.ofSeconds(30));
            String reason = new String(dead.headers().lastHeader("dead-letter-reason").value(), StandardCharsets.UTF_8);
            assertTrue(reason.contains("CloudEvent"), reason);
        }
    }

    @Test
    void theMigrationsRanOnTheRealDatabase() throws Exception {
        try (Connection c = db.getConnection();
             ResultSet rs = c.createStatement().executeQuery(
                     "SELECT count(*) FROM flyway_schema_history WHERE success AND version = '1'")) {
            rs.next();
            assertEquals(1, rs.getInt(1));
        }
    }

    private long rows(String eventId) throws Exception {
        try (Connection c = db.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM received_event WHERE event_id = ?")) {
            ps.setString(1, eventId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
