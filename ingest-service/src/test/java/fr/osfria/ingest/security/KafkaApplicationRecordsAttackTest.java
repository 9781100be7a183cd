package fr.osfria.ingest.security;

import static fr.osfria.ingest.IngestTestSupport.KB;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.events.Topics;
import fr.osfria.ingest.IngestTestSupport;
import fr.osfria.testing.AsyncApiContract;
import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.key.KeyFile;
import fr.osfria.security.key.KeysCli;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.json.JsonObject;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * Kafka applications' records on {@code osfria.app.<name>.documents.v1}, played by a hostile application: each
 * record is processed with exactly the key its topic names, refused records get a {@code rejected} result with the
 * reason and a dead letter without their file, and never block the next record. Every record read here matches
 * {@code docs/asyncapi.yaml}.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class KafkaApplicationRecordsAttackTest {

    /** A Kafka application that may write knowledge-base for the finance department. */
    static final String ALPHA = "app-alpha";
    /** A Kafka application whose key was revoked. */
    static final String GONE = "app-gone";
    /** A REST key (no Kafka application) whose name fits a topic: a record on "its" topic must not use it. */
    static final String PLAIN = "app-plain";

    static final String ALPHA_KEY;
    static final String GONE_KEY;
    static final String PLAIN_KEY;

    static {
        try {
            ALPHA_KEY = KeysCli.create(TestKeys.FILE, app(ALPHA, true));
            GONE_KEY = KeysCli.create(TestKeys.FILE, app(GONE, true));
            PLAIN_KEY = KeysCli.create(TestKeys.FILE, app(PLAIN, false));
            KeyFile.update(TestKeys.FILE, keys -> {
                keys.replaceAll(k -> k.name().equals(GONE) ? k.revoke(Instant.now()) : k);
                return null;
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Inject
    AgroalDataSource database;

    /** Until the service has reloaded the key file as this class wrote it (every 200 ms under TestKeys). */
    @org.junit.jupiter.api.BeforeEach
    void keysLoaded() {
        await().atMost(Duration.ofSeconds(60)).until(() -> status(ALPHA_KEY) == 200 && status(PLAIN_KEY) == 200
                && status(GONE_KEY) == 401);
    }

    private static int status(String key) {
        return given().header("Authorization", TestKeys.bearer(key)).get("/v1/documents?collection=" + KB + "&limit=1")
                .then().extract().statusCode();
    }

    private static KeyEntry app(String name, boolean kafka) {
        return new KeyEntry(name, null, null, Set.of("user"), List.of(KB), List.of(KB), List.of("finance"), false,
                null, null, null, null, null, null, kafka);
    }

    private static String submission(String correlation, String collection, String metadata, byte[] file) {
        return "{\"specversion\":\"1.0\",\"id\":\"" + UUID.randomUUID() + "\",\"source\":\"/test/app\","
                + "\"type\":\"fr.osfria.app.document.submitted\",\"data\":{\"correlation_id\":\"" + correlation
                + "\",\"collection\":\"" + collection + "\",\"filename\":\"note.txt\",\"metadata\":" + metadata
                + ",\"file_base64\":\"" + Base64.getEncoder().encodeToString(file) + "\"}}";
    }

    private static byte[] text() {
        return ("Note de service de la finance " + UUID.randomUUID() + ". Les factures sont payées à trente jours.")
                .getBytes(StandardCharsets.UTF_8);
    }

    private static JsonObject data(ConsumerRecord<String, String> r) {
        return new JsonObject(r.value()).getJsonObject("data");
    }

    private static ConsumerRecord<String, String> result(TopicProbe results, String correlation, String status) {
        ConsumerRecord<String, String> r = results.await(x -> correlation.equals(data(x).getString("correlation_id"))
                && status.equals(data(x).getString("status")), Duration.ofSeconds(45));
        AsyncApiContract.assertValid("DocumentResult", r.value());
        return r;
    }

    @Test
    void aRecordIsIndexedWithItsApplicationsKeyAndTheOutcomeComesBackWithItsCorrelationId() throws Exception {
        try (TopicProbe results = TopicProbe.open(Topics.appResults(ALPHA))) {
            String correlation = "ok-" + UUID.randomUUID();
            TopicProbe.send(Topics.appDocuments(ALPHA), correlation,
                    submission(correlation, KB, "{\"department\":\"finance\",\"year\":2026}", text()));

            String id = data(result(results, correlation, "accepted")).getString("document_id");
            assertNotNull(id);
            assertEquals(ALPHA, column(id, "uploaded_by"), "stored under the application's key");
            // embed-service's verdict, played by the test once the chunks are out, as it comes in production
            await().atMost(Duration.ofSeconds(60)).until(() -> IngestTestSupport.get(TestKeys.FINANCE, id).extract()
                    .<Integer>path("chunks_count"), n -> n != null && n > 0);
            IngestTestSupport.indexResult(id, 1, 1, null);
            JsonObject indexed = data(result(results, correlation, "indexed"));
            assertEquals(id, indexed.getString("document_id"));
            assertEquals(KB, indexed.getString("collection"));

            // a REST reader with the rights sees the document as uploaded, metadata included
            given().header("Authorization", TestKeys.bearer(TestKeys.FINANCE)).get("/v1/documents/" + id).then()
                    .statusCode(200).body("metadata.year", org.hamcrest.Matchers.equalTo(2026));
        }
    }

    @Test
    void refusedRecordsAreRejectedWithTheReasonDeadLetteredWithoutTheirFileAndNeverBlockTheNext() throws Exception {
        try (TopicProbe results = TopicProbe.open(Topics.appResults(ALPHA));
             TopicProbe dlq = TopicProbe.open(Topics.appDeadLetter(ALPHA))) {
            String topic = Topics.appDocuments(ALPHA);
            String run = UUID.randomUUID().toString();
            // 1. poison: not JSON at all
            TopicProbe.send(topic, "poison", "hello, not a CloudEvent " + run);
            // 2. another application's collection (the key may write knowledge-base only)
            TopicProbe.send(topic, "other", submission("other-" + run, "beta-private", "{}", text()));
            // 3. its own collection, for another department
            TopicProbe.send(topic, "dept", submission("dept-" + run, KB, "{\"department\":\"hr\"}", text()));
            // 4. metadata beyond what REST accepts
            TopicProbe.send(topic, "meta", submission("meta-" + run, KB,
                    "{\"department\":\"finance\",\"notes\":\"" + "x".repeat(40_000) + "\"}", text()));
            // 5. a file over the inline limit (256 KiB in tests)
            TopicProbe.send(topic, "huge", submission("huge-" + run, KB, "{}", new byte[300 * 1024]));
            // 6. the wrong type, and a field the contract does not know
            TopicProbe.send(topic, "type", submission("type-" + run, KB, "{}", text()).replace(
                    "fr.osfria.app.document.submitted", "fr.osfria.app.invoice.created"));
            TopicProbe.send(topic, "field", submission("field-" + run, KB, "{}", text()).replace(
                    "\"data\":{", "\"data\":{\"api_key\":\"sk-osfria-smuggled\","));
            // 7. and then a good record: processed, not blocked behind the others
            TopicProbe.send(topic, "good", submission("good-" + run, KB, "{\"department\":\"finance\"}", text()));

            assertTrue(data(result(results, "good-" + run, "accepted")).getString("document_id").startsWith("doc_"));
            Map<String, String> reasons = Map.of(
                    "other-" + run, "may not write to collection beta-private",
                    "dept-" + run, "may not write to collection knowledge-base",
                    "meta-" + run, "'metadata' value of 'notes' is 40000 characters; the limit is 2048",
                    "huge-" + run, "the limit for a record is 262144",
                    "type-" + run, "'type' must be \"fr.osfria.app.document.submitted\"",
                    "field-" + run, "api_key");
            for (Map.Entry<String, String> e : reasons.entrySet()) {
                JsonObject rejected = data(result(results, e.getKey(), "rejected"));
                assertTrue(rejected.getString("reason").contains(e.getValue()), rejected.encode());
                assertNull(rejected.getString("document_id"), "nothing stored: " + rejected.encode());
            }
            // each refused record is dead-lettered with its reason, without its file; the poison one by its size
            // (the poison record's letter keeps only its size: it is told by its reason)
            await().atMost(Duration.ofSeconds(60)).until(() -> dlq.drain(Duration.ofMillis(300)).stream()
                    .filter(r -> r.value().contains(run) || r.value().contains("the record is not JSON")).count()
                    >= reasons.size() + 1);
            List<ConsumerRecord<String, String>> letters = dlq.drain(Duration.ZERO).stream()
                    .filter(r -> r.value().contains(run) || r.value().contains("the record is not JSON")).toList();
            for (ConsumerRecord<String, String> letter : letters) {
                AsyncApiContract.assertValid("DeadLetter", letter.value());
                assertNotNull(letter.headers().lastHeader("dead-letter-reason"), letter.value());
                assertFalse(letter.value().contains("\"file_base64\""), "the file stays out of the dead letter");
            }
            assertTrue(letters.stream().anyMatch(l -> new JsonObject(l.value()).getString("reason").startsWith(
                    "the record is not JSON") && new JsonObject(l.value()).getInteger("record_bytes") > 0), "poison");
            assertTrue(letters.stream().anyMatch(l -> l.value().contains("file_base64_chars")), "size of the file left out");
        }
        // the refusals are audited under the application's key, as REST refusals are
        await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> given()
                .header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).queryParam("key", ALPHA)
                .queryParam("action", "document.upload").queryParam("limit", 1000).get("/v1/audit").then().statusCode(200)
                .body("data.findAll { it.outcome == 'denied' }.size()", org.hamcrest.Matchers.greaterThanOrEqualTo(2))
                .body("data.findAll { it.outcome == 'invalid' }.size()", org.hamcrest.Matchers.greaterThanOrEqualTo(4)));
    }

    /**
     * Text PostgreSQL cannot hold (a NUL character) or that is no Unicode text at all (a lone UTF-16 surrogate, which
     * the database client writes as '?': "x\\ud800" and "x?" were one id) ended in an internal error, its refusal
     * lost from the audit. Each is refused, naming the field, and the next record of the application goes on.
     */
    @Test
    void textADatabaseCannotHoldIsRefusedNamingTheFieldAndTheNextRecordGoesOn() throws Exception {
        String run = UUID.randomUUID().toString();
        try (TopicProbe results = TopicProbe.open(Topics.appResults(ALPHA));
             TopicProbe dlq = TopicProbe.open(Topics.appDeadLetter(ALPHA))) {
            String topic = Topics.appDocuments(ALPHA);
            String finance = "{\"department\":\"finance\"}";
            TopicProbe.send(topic, "id", submission("id-" + run, KB, finance, text())
                    .replace("\"id\":\"", "\"id\":\"nul\\u0000"));
            TopicProbe.send(topic, "value", submission("value-" + run, KB,
                    "{\"department\":\"finance\",\"note\":\"a\\u0000b\"}", text()));
            TopicProbe.send(topic, "key", submission("key-" + run, KB,
                    "{\"department\":\"finance\",\"k\\u0000" + run + "\":1}", text()));
            TopicProbe.send(topic, "correlation", submission("correlation\\u0000-" + run, KB, finance, text()));
            TopicProbe.send(topic, "collection", submission("collection-" + run, KB + "\\u0000", finance, text()));
            TopicProbe.send(topic, "filename", submission("filename-" + run, KB, finance, text())
                    .replace("note.txt", "note\\u0000.exe"));
            TopicProbe.send(topic, "surrogate", submission("surrogate-" + run, KB, finance, text())
                    .replace("\"id\":\"", "\"id\":\"lone\\ud800"));
            TopicProbe.send(topic, "bell", submission("bell-" + run, KB, finance, text())
                    .replace("\"id\":\"", "\"id\":\"bell\\u0007"));
            TopicProbe.send(topic, "long", submission("long-" + run, KB, finance, text())
                    .replace("\"id\":\"", "\"id\":\"" + "i".repeat(300_000)));
            TopicProbe.send(topic, "good", submission("good-" + run, KB, finance, text()));

            assertTrue(data(result(results, "good-" + run, "accepted")).getString("document_id").startsWith("doc_"));
            Map<String, String> reasons = Map.ofEntries(
                    Map.entry("id-" + run, "'id' holds a NUL character"),
                    Map.entry("value-" + run, "'metadata' value of 'note' holds a NUL character"),
                    Map.entry("key-" + run, "'metadata' keys are 1-128 characters without control characters; 'k\\u0000"
                            + run + "' is not"),
                    Map.entry("collection-" + run, "'collection' is 1-128 letters"),
                    Map.entry("filename-" + run, "'filename' holds a NUL character"),
                    Map.entry("surrogate-" + run, "'id' holds a lone UTF-16 surrogate"),
                    Map.entry("bell-" + run, "'id' holds a control character"),
                    Map.entry("long-" + run, "'id' is required, 1-256 characters"));
            for (Map.Entry<String, String> e : reasons.entrySet()) {
                JsonObject rejected = data(result(results, e.getKey(), "rejected"));
                assertTrue(rejected.getString("reason").contains(e.getValue()), rejected.encode());
                assertNull(rejected.getString("document_id"), "nothing stored: " + rejected.encode());
            }
            // a refused collection is not echoed
            JsonObject badCollection = data(result(results, "collection-" + run, "rejected"));
            assertNull(badCollection.getString("collection"), badCollection.encode());
            // a refused correlation id is not echoed, neither in the result nor as its key
            ConsumerRecord<String, String> refused = rejected(results, "'correlation_id' holds a NUL character");
            assertNull(data(refused).getString("correlation_id"), refused.value());
            assertNull(refused.key(), "no key from the refused correlation id");
            assertFalse(refused.value().contains(run), refused.value());
            await().atMost(Duration.ofSeconds(60)).until(() -> dlq.drain(Duration.ofMillis(300)).stream()
                    .filter(r -> r.value().contains(run)).count() >= reasons.size() + 1);
            for (ConsumerRecord<String, String> letter : dlq.drain(Duration.ZERO)) {
                String reason = new String(letter.headers().lastHeader("dead-letter-reason").value(), StandardCharsets.UTF_8);
                assertFalse(reason.contains("\u0000"), "a reason names the character, never carries it: " + reason);
            }
        }
        assertEquals(0, count("SELECT count(*) FROM app_record WHERE app_name = '" + ALPHA + "' AND (event_id LIKE 'nul%'"
                + " OR event_id LIKE 'lone%' OR event_id LIKE 'bell%' OR length(event_id) > 256)"), "no id taken");
        // the refusal naming the key with its NUL is in the audit trail (the NUL itself was refused by the database)
        await().atMost(Duration.ofSeconds(60)).until(() -> count("SELECT count(*) FROM audit_record WHERE key_name = '"
                + ALPHA + "' AND outcome = 'invalid' AND detail LIKE '%" + run + "%'") == 1);
    }

    /**
     * A rejected record's id was echoed whatever it was, as its result's key and correlation id: an id of 1.1 million
     * characters made a result over the broker's 1 MiB, refused and retried for half a minute while the records of
     * every application waited behind it. A refused id is not echoed, and the next record is answered at once.
     */
    @Test
    void aHugeIdIsRejectedWithoutEchoAndTheNextRecordIsAnsweredAtOnce() throws Exception {
        String run = UUID.randomUUID().toString();
        String topic = Topics.appDocuments(ALPHA);
        // as the platform creates them: documents and dead letters take records of up to 12 MiB, results the broker's 1 MiB
        largeRecords(topic, Topics.appDeadLetter(ALPHA));
        try (TopicProbe results = TopicProbe.open(Topics.appResults(ALPHA))) {
            String finance = "{\"department\":\"finance\"}";
            String hugeId = submission("none", KB, finance, text()).replace("\"correlation_id\":\"none\",", "")
                    .replace("\"id\":\"", "\"id\":\"" + run + "i".repeat(1_100_000));
            sendLarge(topic, run, hugeId);
            TopicProbe.send(topic, run, submission("next-" + run, KB, finance, text())); // same key: behind it
            long sent = System.nanoTime();

            result(results, "next-" + run, "accepted");
            Duration waited = Duration.ofNanos(System.nanoTime() - sent);
            assertTrue(waited.compareTo(Duration.ofSeconds(10)) < 0, "the next record waited " + waited);
            ConsumerRecord<String, String> rejected = rejected(results, "'id' is required, 1-256 characters");
            assertNull(data(rejected).getString("correlation_id"), "no correlation id");
            assertNull(rejected.key());
            assertTrue(rejected.value().length() < 2048, "nothing of the id echoed: " + rejected.value().length());
        }
    }

    /** A rejected result without a correlation id (one that could not be echoed), told by its reason. */
    private static ConsumerRecord<String, String> rejected(TopicProbe results, String reason) {
        ConsumerRecord<String, String> r = results.await(x -> "rejected".equals(data(x).getString("status"))
                && data(x).getString("reason", "").contains(reason), Duration.ofSeconds(45));
        AsyncApiContract.assertValid("DocumentResult", r.value());
        return r;
    }

    private static void largeRecords(String... topics) throws Exception {
        Map<String, Object> props = Map.of("bootstrap.servers", fr.osfria.testing.InJvmKafka.bootstrapServers());
        try (Admin admin = Admin.create(props)) {
            for (String topic : topics) {
                try {
                    admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get();
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
                admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.TOPIC, topic),
                        List.of(new AlterConfigOp(new ConfigEntry("max.message.bytes", "12582912"),
                                AlterConfigOp.OpType.SET)))).all().get();
            }
        }
    }

    private static void sendLarge(String topic, String key, String value) throws Exception {
        Map<String, Object> props = Map.of("bootstrap.servers", fr.osfria.testing.InJvmKafka.bootstrapServers(),
                "acks", "all", "max.request.size", 12582912);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(),
                new StringSerializer())) {
            producer.send(new ProducerRecord<>(topic, key, value)).get();
        }
    }

    @Test
    void aFileByUrlFailsWhileTheOperatorAllowsNoHost() throws Exception {
        try (TopicProbe results = TopicProbe.open(Topics.appResults(ALPHA))) {
            String correlation = "url-" + UUID.randomUUID();
            // the service's own health endpoint: on the machine itself, the first thing an attacker asks for
            TopicProbe.send(Topics.appDocuments(ALPHA), correlation, submission(correlation, KB, "{}", text())
                    .replaceFirst("\"file_base64\":\"[^\"]*\"", "\"file_url\":\"http://127.0.0.1:8081/q/health\""));
            JsonObject failed = data(result(results, correlation, "failed"));
            assertEquals(fr.osfria.ingest.appkafka.fetch.Fetched.NOT_ENABLED, failed.getString("reason"));
            assertNull(failed.getString("document_id"));
        }
    }

    @Test
    void aRevokedApplicationsRecordsAndATopicNamingAKeyThatIsNoApplicationAreRejected() throws Exception {
        for (String app : List.of(GONE, PLAIN, "app-nobody")) {
            try (TopicProbe results = TopicProbe.open(Topics.appResults(app))) {
                String correlation = app + "-" + UUID.randomUUID();
                TopicProbe.send(Topics.appDocuments(app), correlation,
                        submission(correlation, KB, "{\"department\":\"finance\"}", text()));
                JsonObject rejected = data(result(results, correlation, "rejected"));
                assertTrue(rejected.getString("reason").contains("no active Kafka application key named '" + app + "'"),
                        rejected.encode());
            }
            assertEquals(0, count("SELECT count(*) FROM document WHERE app_name = '" + app + "' OR uploaded_by = '" + app + "'"),
                    "nothing stored for " + app);
        }
    }

    private String column(String id, String column) throws Exception {
        try (Connection c = database.getConnection();
             PreparedStatement s = c.prepareStatement("SELECT " + column + " FROM document WHERE id = ?")) {
            s.setString(1, id);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private long count(String sql) throws Exception {
        try (Connection c = database.getConnection(); PreparedStatement s = c.prepareStatement(sql);
             ResultSet rs = s.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
