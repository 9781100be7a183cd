package fr.osfria.ingest.isolation;

import static fr.osfria.ingest.IngestTestSupport.KB;
import static fr.osfria.ingest.IngestTestSupport.get;
import static fr.osfria.ingest.IngestTestSupport.upload;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.events.Topics;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.Ports;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Kafka out of reach for the events that leave with a database change (the outbox) and for the audit: an upload
 * that PostgreSQL accepted used to wait for the broker and then answer 500. Now it answers 202 without waiting for
 * the broker (the audit waits 2 s at most), and its
 * events (the upload to process, the audit record) wait in the outbox to be relayed when the broker is back.
 */
@QuarkusTest
@TestProfile(KafkaOutageUploadTest.BrokerUnreachable.class)
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class KafkaOutageUploadTest {

    /** The outbox and audit channels point at a port where no broker listens; the producers give up after 10 s. */
    public static class BrokerUnreachable implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            String nowhere = "localhost:" + Ports.free();
            return Map.of("mp.messaging.outgoing.outbox.bootstrap.servers", nowhere,
                    "mp.messaging.outgoing.outbox.max.block.ms", "10000",
                    "mp.messaging.outgoing.audit.bootstrap.servers", nowhere,
                    "mp.messaging.outgoing.audit.max.block.ms", "10000",
                    "quarkus.http.test-timeout", "300s"); // the code before this fix answered after the producers gave up
        }
    }

    @Inject
    Pool db;

    @Test
    void anUploadPostgresAcceptedIsAcceptedDuringAKafkaOutage() {
        // a first upload loads the parser's classes, which takes long on a busy machine: time the second one
        upload(TestKeys.FINANCE, "avant.txt", ("Avant la panne " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8),
                KB, "{\"department\":\"finance\"}").statusCode(202);
        long start = System.nanoTime();
        String id = upload(TestKeys.FINANCE, "panne.txt", ("Pendant la panne " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8),
                KB, "{\"department\":\"finance\"}").statusCode(202).extract().path("document_id");
        // before the fix: 500, once the producers gave up (10 s here, 60 s by default); the time is only reported,
        // for a busy machine slows the first use of each path far more than the 2 s the audit may wait
        System.out.printf("OUTAGE upload answered 202 in %d ms%n", (System.nanoTime() - start) / 1_000_000);
        get(TestKeys.FINANCE, id).statusCode(200).body("status", equalTo("processing"));

        List<String> waiting = new ArrayList<>();
        for (Row r : db.preparedQuery("SELECT topic FROM outbox WHERE event_key = $1 ORDER BY id").execute(Tuple.of(id))
                .await().atMost(Duration.ofSeconds(10))) {
            waiting.add(r.getString("topic"));
        }
        assertTrue(waiting.contains(Topics.DOCUMENT_UPLOADS), "the upload event waits in the outbox: " + waiting);
        assertTrue(waiting.contains(Topics.AUDIT), "the audit record waits in the outbox: " + waiting);
    }

}
