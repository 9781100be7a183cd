package fr.osfria.embed.indexing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.embed.FreshIndex;
import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.Topics;
import fr.osfria.events.document.DocumentChunk;
import fr.osfria.testing.InJvmKafka;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * Issue 19: ingest sends a document's chunks one after another as it cuts them (no linger), so they reach the broker
 * over some tens of milliseconds. Polls taken meanwhile hold a few chunks each; each poll is a batch, and batches are
 * embedded one after the other (each with its index commit and a progress record), so a document cut into several
 * small batches kept one of the two embedding threads idle for much of its time. With one poll waiting at most, the
 * rest of the document gathers on the broker while the first batches are embedded and comes in one poll.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(FreshIndex.class)
class DocumentChunksEmbeddedTogetherTest {

    private static final int CHUNKS = 40;
    private static final String[] WORDS = ("le la les un une des procédure remboursement frais salarié directeur validation "
            + "comptabilité budget réunion sécurité accès réseau poste formation congés contrat avenant article clause "
            + "société client fournisseur facture paiement délai mois année rapport annexe tableau résultat").split(" ");

    @Test
    void aDocumentSentAsIngestSendsItIsIndexedInAtMostFourBatches() throws Exception {
        String doc = "doc_together" + UUID.randomUUID().toString().substring(0, 8);
        Random random = new Random(19);
        try (TopicProbe results = TopicProbe.open(Topics.INDEX_RESULTS)) {
            Properties props = new Properties();
            props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, InJvmKafka.bootstrapServers());
            props.put(ProducerConfig.LINGER_MS_CONFIG, "0"); // as ingest's chunks channel
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
                for (int i = 0; i < CHUNKS; i++) {
                    DocumentChunk c = new DocumentChunk(doc, 1, "chunk_" + doc.substring(4) + "_v1_" + i, i, CHUNKS,
                            "knowledge-base", null, false, false, 1, null, text(random), Map.of(), null);
                    producer.send(new ProducerRecord<>(Topics.DOCUMENT_CHUNKS, doc, EventJson.encode(
                            CloudEvent.of("/osfria/test", EventTypes.DOCUMENT_CHUNKED, doc, c))));
                    LockSupport.parkNanos(1_000_000); // ingest seals and encodes each chunk when its turn comes
                }
                producer.flush();
            }
            JsonNode verdict = read(results.await(r -> doc.equals(r.key())
                    && EventTypes.CHUNKS_INDEXED.equals(read(r.value()).path("type").asText()), Duration.ofSeconds(120)).value());
            assertTrue(verdict.at("/data/success").asBoolean(), verdict.toString());
            assertEquals(CHUNKS, verdict.at("/data/chunksCount").asInt());
            // every batch but the last says how far the document is: the verdict and its progress records count them
            List<JsonNode> progress = results.drain(Duration.ZERO).stream().filter(r -> doc.equals(r.key()))
                    .map(r -> read(r.value())).filter(e -> EventTypes.CHUNKS_PROGRESS.equals(e.path("type").asText())).toList();
            // five or more before (1, 8, 6, 1 and 24 chunks at load 25); how many depends on how fast the chunks come
            assertTrue(progress.size() <= 3, "the document was embedded in " + (progress.size() + 1) + " batches: " + progress);
        }
    }

    /** About 300 tokens of the model, as ingest cuts a page of prose. */
    private static String text(Random random) {
        StringBuilder t = new StringBuilder();
        for (int w = 0; w < 180; w++) {
            t.append(WORDS[random.nextInt(WORDS.length)]).append(' ');
        }
        return t.toString();
    }

    private static JsonNode read(String json) {
        try {
            return EventJson.MAPPER.readTree(json);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
