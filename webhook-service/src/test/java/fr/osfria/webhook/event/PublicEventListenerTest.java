package fr.osfria.webhook.event;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.Topics;
import fr.osfria.events.document.DocumentIndexed;
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
