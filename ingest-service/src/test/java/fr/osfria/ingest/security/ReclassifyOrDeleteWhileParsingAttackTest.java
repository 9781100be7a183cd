package fr.osfria.ingest.security;

import static fr.osfria.ingest.IngestTestSupport.KB;
import static fr.osfria.ingest.IngestTestSupport.upload;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.Topics;
import fr.osfria.events.document.VersionSuperseded;
import fr.osfria.ingest.parsing.Fixtures;
import fr.osfria.testing.InJvmKafka;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/**
 * A DELETE, or a PUT that makes a document confidential to another department, arrives while the old version is
 * still being parsed. The chunks topic must carry the retirement of the old chunks under the document's key, so
 * that embed-service applies it in order with every chunk: before any chunk of the new version, and before the
 * old version's late chunks (which embed-service then refuses, see its {@code LateChunksAttackTest}).
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class ReclassifyOrDeleteWhileParsingAttackTest {

    @Test
    void aDeletionDuringParsingRetiresTheChunksStillToCome() throws Exception {
        try (TopicProbe uploads = TopicProbe.open(Topics.DOCUMENT_UPLOADS); TopicProbe chunks = TopicProbe.open(Topics.DOCUMENT_CHUNKS)) {
            // confidential: the parser works on the decrypted bytes in memory, so removing the file does not stop it
            String id = upload(TestKeys.ADMIN, "rapport.pdf", largePdf(), KB, "{\"department\":\"hr\",\"confidential\":true}")
                    .statusCode(202).extract().path("document_id");
            ConsumerRecord<String, String> uploaded = awaitParsing(uploads, id);
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).delete("/v1/documents/" + id).then().statusCode(204);
            // chunks published before the deletion may precede its retirement (the retirement removes them); those the
            // parser publishes once the deletion is committed and relayed (1 s later at most) must follow it
            long relayed = System.currentTimeMillis() + 1_000;

            ConsumerRecord<String, String> retired = chunks.await(r -> id.equals(r.key())
                    && r.value().contains(EventTypes.VERSION_SUPERSEDED), Duration.ofSeconds(30));
            assertEquals(VersionSuperseded.DELETED, json(retired).at("/data/floor").asInt(), "every version is retired");
            // the chunks the parser still publishes (if it was running) are behind the retirement, which refuses them;
            // it has published them all once its consumer has committed the upload (chunks are acknowledged first)
            await("the upload processed").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
                    .until(() -> committedPast(uploaded));
            List<ConsumerRecord<String, String>> late = chunks.drain(Duration.ofSeconds(1)).stream()
                    .filter(r -> id.equals(r.key()) && r.value().contains(EventTypes.DOCUMENT_CHUNKED))
                    .filter(r -> r.timestamp() > relayed).toList();
            for (ConsumerRecord<String, String> chunk : late) {
                assertEquals(retired.partition(), chunk.partition(), "ordered with the document's chunks");
                assertTrue(chunk.offset() > retired.offset(), "a chunk of the deleted document ahead of its retirement");
            }
        }
    }

    @Test
    void aReclassificationRetiresTheOldVersionBeforeAnyChunkOfTheNewOne() throws Exception {
        try (TopicProbe uploads = TopicProbe.open(Topics.DOCUMENT_UPLOADS); TopicProbe chunks = TopicProbe.open(Topics.DOCUMENT_CHUNKS)) {
            String id = upload(TestKeys.ADMIN, "salaires.pdf", largePdf(), KB, "{\"department\":\"hr\"}")
                    .statusCode(202).extract().path("document_id");
            awaitParsing(uploads, id);
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN))
                    .multiPart("file", "salaires.pdf", Fixtures.pdf(List.of("Grille des salaires " + UUID.randomUUID()), null),
                            "application/octet-stream")
                    .multiPart("metadata", "{\"department\":\"finance\",\"confidential\":true}")
                    .put("/v1/documents/" + id).then().statusCode(202).body("version", equalTo(2));

            ConsumerRecord<String, String> retired = chunks.await(r -> id.equals(r.key())
                    && r.value().contains(EventTypes.VERSION_SUPERSEDED), Duration.ofSeconds(30));
            assertEquals(2, json(retired).at("/data/floor").asInt(), "versions below 2 are retired");
            ConsumerRecord<String, String> first = chunks.await(r -> id.equals(r.key())
                    && r.value().contains(EventTypes.DOCUMENT_CHUNKED) && r.value().contains("\"version\":2"), Duration.ofSeconds(120));
            assertEquals(retired.partition(), first.partition(), "ordered with the document's chunks");
            assertTrue(first.offset() > retired.offset(), "the old chunks are retired before the new version's arrive");
        }
    }

    /** Several hundred pages: parsing takes long enough for the DELETE or PUT to arrive while it runs. */
    private static byte[] largePdf() throws Exception {
        List<String> pages = new ArrayList<>();
        for (int p = 0; p < 400; p++) {
            StringBuilder page = new StringBuilder();
            for (int line = 0; line < 40; line++) {
                page.append("Page ").append(p).append(", ligne ").append(line)
                        .append(" : la politique salariale de l'équipe logistique est revue chaque année.\n");
            }
            pages.add(page.toString());
        }
        return Fixtures.pdf(pages, null);
    }

    /** The upload has left the outbox; the parser picks it up at once and works for a while on a large PDF. */
    private static ConsumerRecord<String, String> awaitParsing(TopicProbe uploads, String id) throws InterruptedException {
        ConsumerRecord<String, String> uploaded = uploads.await(r -> id.equals(r.key()), Duration.ofSeconds(30));
        Thread.sleep(500);
        return uploaded;
    }

    /** Whether the service's upload consumers have committed an offset past {@code record}: they are done with it. */
    private static boolean committedPast(ConsumerRecord<String, String> record) throws Exception {
        String group = ConfigProvider.getConfig().getValue("mp.messaging.incoming.uploads.group.id", String.class);
        try (Admin admin = Admin.create(Map.<String, Object>of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, InJvmKafka.bootstrapServers()))) {
            OffsetAndMetadata committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get()
                    .get(new TopicPartition(record.topic(), record.partition()));
            return committed != null && committed.offset() > record.offset();
        }
    }

    private static JsonNode json(ConsumerRecord<String, String> record) throws Exception {
        return EventJson.MAPPER.readTree(record.value());
    }
}
