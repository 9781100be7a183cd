package fr.osfria.ingest.isolation;

import static fr.osfria.ingest.IngestTestSupport.KB;
import static fr.osfria.ingest.IngestTestSupport.awaitStatus;
import static fr.osfria.ingest.IngestTestSupport.get;
import static fr.osfria.ingest.IngestTestSupport.indexResult;
import static fr.osfria.ingest.IngestTestSupport.upload;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.Topics;
import fr.osfria.events.document.IndexingProgress;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.BitSet;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Issue 14: a 3.5 MB text (about 3,000 chunks) was nacked to the uploads dead-letter topic and stayed processing
 * with 0 chunks (sending every chunk at once overflowed the channel). Now every chunk reaches the chunks topic
 * exactly once, the document shows embed-service's progress ({@code chunks_indexed}), then is indexed.
 * embed-service is played by the test (its side is tested in embed-service).
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class LargeDocumentTest {

    private static final String[] WORDS = ("le la les un une des rapport budget équipe projet client contrat service "
            + "réunion direction salarié formation sécurité qualité délai livraison facture commande stock usine "
            + "analyse marché stratégie risque audit contrôle procédure norme objectif résultat croissance").split(" ");

    /** About {@code bytes} of French-looking prose: sentences, and a blank line between paragraphs. */
    static byte[] prose(int bytes, long seed) {
        Random random = new Random(seed);
        StringBuilder text = new StringBuilder(bytes + 200);
        while (text.length() < bytes) {
            for (int s = 0; s < 6; s++) {
                int words = 8 + random.nextInt(12);
                for (int w = 0; w < words; w++) {
                    String word = WORDS[random.nextInt(WORDS.length)];
                    text.append(w == 0 ? Character.toUpperCase(word.charAt(0)) + word.substring(1) : word)
                            .append(w == words - 1 ? ". " : " ");
                }
            }
            text.append(random.nextInt(100_000)).append(".\n\n");
        }
        return text.toString().getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aThreeAndAHalfMegabyteTextIsChunkedWholeAndShowsItsProgress() throws Exception {
        byte[] file = prose(3_500_000, 14);
        try (TopicProbe chunks = TopicProbe.open(Topics.DOCUMENT_CHUNKS)) {
            long start = System.nanoTime();
            String id = upload(TestKeys.FINANCE, "rapport-annuel.txt", file, KB, "{\"department\":\"finance\"}")
                    .statusCode(202).extract().path("document_id");
            BitSet seen = new BitSet();
            int[] total = {-1};
            int[] records = {0};
            await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ZERO).until(() -> {
                var all = chunks.drain(Duration.ofMillis(500));
                for (var r : all.subList(records[0], all.size())) {
                    if (id.equals(r.key())) {
                        JsonNode data = EventJson.MAPPER.readTree(r.value()).path("data");
                        seen.set(data.path("ordinal").asInt());
                        total[0] = data.path("totalChunks").asInt();
                    }
                }
                records[0] = all.size();
                return total[0] > 0 && seen.cardinality() == total[0];
            });
            long chunkedMs = (System.nanoTime() - start) / 1_000_000;
            System.out.printf("LARGE 3.5 MB text: %d chunks on the topic %d ms after the upload%n", total[0], chunkedMs);
            int n = total[0];
            assertTrue(n > 2_000, n + " chunks");
            assertEquals(n, seen.nextClearBit(0), "ordinals 0.." + (n - 1) + " each present");
            assertEquals(n, chunks.drain(Duration.ofSeconds(1)).stream().filter(r -> id.equals(r.key())).count(),
                    "each chunk sent once");

            await().atMost(Duration.ofSeconds(30)).until(() -> Integer.valueOf(n).equals(get(TestKeys.FINANCE, id).extract().path("chunks_count")));
            get(TestKeys.FINANCE, id).body("status", equalTo("processing")).body("chunks_indexed", equalTo(0));

            // embed-service's progress shows in the document view
            TopicProbe.send(Topics.INDEX_RESULTS, id, EventJson.encode(CloudEvent.of("/osfria/embed-service",
                    EventTypes.CHUNKS_PROGRESS, id, new IndexingProgress(id, 1, n / 2, n))));
            await().atMost(Duration.ofSeconds(30)).until(() -> Integer.valueOf(n / 2).equals(get(TestKeys.FINANCE, id).extract().path("chunks_indexed")));
            get(TestKeys.FINANCE, id).body("status", equalTo("processing"));
            await().atMost(Duration.ofSeconds(30)).until(() -> given().get("/q/metrics").then().extract().asString()
                    .lines().anyMatch(l -> l.startsWith("osfria_ingest_chunks_pending") && !l.endsWith(" 0.0")));

            indexResult(id, 1, n, null);
            awaitStatus(TestKeys.FINANCE, id, "indexed");
            get(TestKeys.FINANCE, id).body("chunks_count", equalTo(n)).body("chunks_indexed", equalTo(n));
        }
    }
}
