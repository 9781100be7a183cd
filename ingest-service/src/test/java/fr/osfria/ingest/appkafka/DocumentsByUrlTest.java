package fr.osfria.ingest.appkafka;

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
import fr.osfria.ingest.OperatedInstall;
import fr.osfria.ingest.appkafka.fetch.Fetched;
import fr.osfria.ingest.appkafka.fetch.FileFetcher;
import fr.osfria.ingest.document.service.DocumentUploads;
import fr.osfria.ingest.document.service.UploadMemory;
import fr.osfria.ingest.isolation.SlowBlobWriteDelaysOnlyItsOwnUploadTest;
import fr.osfria.ingest.isolation.SlowBlobWriteDelaysOnlyItsOwnUploadTest.SlowVolume;
import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.key.KeyRegistry;
import fr.osfria.security.key.KeysCli;
import fr.osfria.testing.AsyncApiContract;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.Ports;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.vertx.core.json.JsonObject;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Files that a Kafka application names by URL ({@code file_url}), fetched from an internal file server the operator
 * lists, on the real broker, PostgreSQL and parser: a good one is indexed as an inline one; a hostile or broken one
 * (a host not listed, a listed name re-pointed to the machine or to cloud metadata, loopback not explicitly allowed,
 * a redirect, a 404, an endless body, a drip, silence, credentials or another scheme) ends {@code failed} with a
 * coarse reason, and none holds up the application's next record. Every record read matches {@code asyncapi.yaml}.
 */
@QuarkusTest
@TestProfile(OperatedInstall.class)
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
public class DocumentsByUrlTest {

    static final String APP = "app-fetcher";
    /** Another application, allowed to have files fetched from the same server's {@code /public/} only. */
    static final String OTHER = "app-other";
    /** An application without the write right on {@link IngestTestSupport#KB}, whatever it may fetch. */
    static final String READER = "app-reader";
    /** An application whose key is revoked while its record waits for a fetch. */
    static final String REVOKED = "app-revoked";
    static final String APP_KEY;
    /** Applications whose files by URL are held in the store ({@code app-held-0} …): one more than fills the pool. */
    static final int HELD_APPS = 6;
    /** Seconds a fetch may take in these tests. */
    public static final int DEADLINE = 8;
    /** Seconds a fetch waits for its host's lookup in these tests (the default, 15 s, is past the fetch's). */
    static final int LOOKUP_DEADLINE = 2;

    static {
        try {
            // everything the operator lists, so that each hostile case meets the network policy itself
            List<String> everywhere = List.of("http://" + ScriptedDns.FILES + ":" + port("files") + "/",
                    "http://" + ScriptedDns.REBOUND + ":" + port("files") + "/",
                    "http://" + ScriptedDns.METADATA + ":" + port("files") + "/",
                    "http://127.0.0.1:" + port("files") + "/",
                    "http://" + ScriptedDns.FLIP + ":" + port("files") + "/",
                    "http://" + ScriptedDns.HANGING + ":" + port("files") + "/");
            APP_KEY = KeysCli.create(TestKeys.FILE, application(APP, List.of(KB), everywhere));
            KeysCli.create(TestKeys.FILE, application(OTHER, List.of(KB),
                    List.of("http://" + ScriptedDns.FILES + ":" + port("files") + "/public/")));
            KeysCli.create(TestKeys.FILE, application(READER, List.of(), everywhere));
            KeysCli.create(TestKeys.FILE, application(REVOKED, List.of(KB), everywhere));
            for (int a = 0; a < HELD_APPS; a++) {
                KeysCli.create(TestKeys.FILE, application("app-held-" + a, List.of(KB),
                        List.of("http://" + ScriptedDns.FILES + ":" + port("files") + "/held/")));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static KeyEntry application(String name, List<String> write, List<String> fetchFrom) {
        return new KeyEntry(name, null, null, Set.of("user"), List.of(KB), write, List.of("finance"), true, null, null,
                null, null, null, null, true, null, fetchFrom);
    }

    /** The file server's port and another server's, the same for the profile and the test (one JVM, two loaders). */
    public static int port(String which) {
        String property = "osfria.test.fetch." + which + "-port";
        synchronized (System.getProperties()) {
            if (System.getProperty(property) == null) {
                System.setProperty(property, String.valueOf(Ports.free()));
            }
            return Integer.parseInt(System.getProperty(property));
        }
    }

    /** The settings of these tests: the file server, under names and by its address (loopback, not allowed by itself). */
    public static Map<String, String> fileServerSettings() {
        int port = port("files");
        return Map.of(
                "osfria.ingest.fetch.allowed-hosts", String.join(",", ScriptedDns.FILES + ":" + port,
                        ScriptedDns.REBOUND + ":" + port, ScriptedDns.METADATA + ":" + port, "127.0.0.1:" + port,
                        ScriptedDns.FLIP + ":" + port, ScriptedDns.HANGING + ":" + port),
                "osfria.ingest.fetch.allowed-local-hosts", ScriptedDns.FILES + "," + ScriptedDns.FLIP,
                "osfria.ingest.fetch.timeout", DEADLINE + "s",
                "osfria.ingest.fetch.lookups.deadline", LOOKUP_DEADLINE + "s",
                "osfria.ingest.max-file-bytes", String.valueOf(LIMIT),
                "osfria.ingest.upload-memory-bytes", String.valueOf(UPLOAD_MEMORY));
    }

    /** The upload limit in these tests, which a fetched file obeys too. */
    public static final long LIMIT = 1024 * 1024;
    /** The heap budget of files held whole in these tests: one confidential file of about the limit at a time. */
    public static final long UPLOAD_MEMORY = 2 * LIMIT + 512 * 1024;

    static FileServer files;
    static FileServer elsewhere;

    @Inject
    AgroalDataSource database;

    @Inject
    KeyRegistry keys;

    @Inject
    FileFetcher fetcher;

    @Inject
    DocumentUploads uploads;

    @BeforeAll
    static void servers() throws IOException {
        files = new FileServer(port("files"));
        elsewhere = new FileServer(port("elsewhere"));
    }

    @AfterAll
    static void stop() {
        files.close();
        elsewhere.close();
    }

    @BeforeEach
    void keyLoaded() {
        await().atMost(Duration.ofSeconds(60)).until(() -> given().header("Authorization", TestKeys.bearer(APP_KEY))
                .get("/v1/documents?collection=" + KB + "&limit=1").then().extract().statusCode() == 200);
    }

    private static String url(String host, String path) {
        return "http://" + host + ":" + port("files") + path;
    }

    private static String byUrl(String correlation, String url) {
        return byUrl(correlation, url, KB);
    }

    private static String byUrl(String correlation, String url, String collection) {
        return "{\"specversion\":\"1.0\",\"id\":\"" + UUID.randomUUID() + "\",\"source\":\"/test/app\","
                + "\"type\":\"fr.osfria.app.document.submitted\",\"data\":{\"correlation_id\":\"" + correlation
                + "\",\"collection\":\"" + collection + "\",\"filename\":\"note.txt\",\"metadata\":{\"department\":\"finance\"},"
                + "\"file_url\":\"" + url + "\"}}";
    }

    private static String inline(String correlation, byte[] file) {
        return "{\"specversion\":\"1.0\",\"id\":\"" + UUID.randomUUID() + "\",\"source\":\"/test/app\","
                + "\"type\":\"fr.osfria.app.document.submitted\",\"data\":{\"correlation_id\":\"" + correlation
                + "\",\"collection\":\"" + KB + "\",\"filename\":\"note.txt\",\"metadata\":{\"department\":\"finance\"},"
                + "\"file_base64\":\"" + Base64.getEncoder().encodeToString(file) + "\"}}";
    }

    private static byte[] text() {
        return ("Note de service de la finance " + UUID.randomUUID() + ". Les factures sont payées à trente jours.")
                .getBytes(StandardCharsets.UTF_8);
    }

    private static JsonObject data(ConsumerRecord<String, String> r) {
        return new JsonObject(r.value()).getJsonObject("data");
    }

    private static JsonObject result(TopicProbe results, String correlation, String status, Duration within) {
        return data(resultRecord(results, correlation, status, within));
    }

    private static ConsumerRecord<String, String> resultRecord(TopicProbe results, String correlation, String status,
                                                               Duration within) {
        ConsumerRecord<String, String> r = results.await(x -> correlation.equals(data(x).getString("correlation_id"))
                && status.equals(data(x).getString("status")), within);
        AsyncApiContract.assertValid("DocumentResult", r.value());
        return r;
    }

    @Test
    void aFileByUrlIsFetchedAndIndexedAsAnInlineOne() throws Exception {
        byte[] note = text();
        files.file("/notes/ok.txt", note);
        try (TopicProbe results = TopicProbe.open(Topics.appResults(APP))) {
            String correlation = "url-ok-" + UUID.randomUUID();
            String record = byUrl(correlation, url(ScriptedDns.FILES, "/notes/ok.txt"));
            AsyncApiContract.assertValid("DocumentSubmitted", record);
            TopicProbe.send(Topics.appDocuments(APP), correlation, record);

            String id = result(results, correlation, "accepted", Duration.ofSeconds(45)).getString("document_id");
            assertNotNull(id);
            assertEquals(APP, column(id, "uploaded_by"), "stored under the application's key");
            assertEquals(correlation, column(id, "app_correlation_id"));
            IngestTestSupport.indexResult(id, 1, 1, null); // embed-service's verdict, played by the test
            JsonObject indexed = result(results, correlation, "indexed", Duration.ofSeconds(45));
            assertEquals(id, indexed.getString("document_id"));
            assertEquals(String.valueOf(note.length), column(id, "size_bytes"), "the server's file, whole");
            assertEquals("text/plain", column(id, "content_type").split(";")[0]);
        }
        assertEquals(1, files.requests("/notes/ok.txt"), "fetched once");
    }

    /**
     * Files by URL of several applications whose storage is slow (a slow volume): each such upload held a database
     * connection from its start through its file's storage (the listener opened one session around the whole upload),
     * so five applications' four fetch lanes each took the pool's 20 connections, the next uploads never reached the
     * store, and every other request needing the database waited. Now an upload holds a connection only for its
     * database steps: all 24 reach the store, and another key's list is answered meanwhile.
     */
    @Test
    void heldUploadsOfFilesByUrlLeaveTheDatabaseToEveryoneElse() throws Exception {
        int lanes = 4; // osfria.ingest.fetch.max-in-flight-per-application
        SlowVolume.release = new CountDownLatch(1);
        java.util.concurrent.ExecutorService client = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            for (int a = 0; a < HELD_APPS; a++) {
                for (int i = 0; i < lanes; i++) {
                    String path = "/held/" + a + "-" + i + "-" + UUID.randomUUID() + ".txt";
                    files.file(path, (SlowBlobWriteDelaysOnlyItsOwnUploadTest.SLOW + UUID.randomUUID()
                            + " Une note de service à ranger.").getBytes(StandardCharsets.UTF_8));
                    String correlation = "held-" + a + "-" + i;
                    TopicProbe.send(Topics.appDocuments("app-held-" + a), correlation,
                            byUrl(correlation, url(ScriptedDns.FILES, path)));
                }
            }
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertEquals(HELD_APPS * lanes,
                    SlowVolume.STORING_SLOW.get(), "every held upload in the store"));
            java.util.concurrent.Future<Integer> list = client.submit(() -> given()
                    .header("Authorization", TestKeys.bearer(TestKeys.FINANCE))
                    .get("/v1/documents?collection=" + KB + "&limit=1").then().extract().statusCode());
            assertEquals(200, list.get(5, java.util.concurrent.TimeUnit.SECONDS), "another key's list, answered at once");
        } finally {
            SlowVolume.release.countDown();
            client.shutdownNow();
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> SlowVolume.STORING_SLOW.get() == 0);
    }

    @Test
    void hostileAndBrokenUrlsFailWithACoarseReasonAndNeverHoldUpTheNextRecord() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        files.redirectTo("http://127.0.0.1:" + port("elsewhere") + "/stolen");
        int port = port("files");
        Map<String, String[]> cases = new LinkedHashMap<>();
        // the slow ones first: the others, and an inline record, must not wait behind them
        cases.put("drip", new String[] {url(ScriptedDns.FILES, "/drip"), "fetch_timeout"});
        cases.put("silent", new String[] {url(ScriptedDns.FILES, "/silent"), "fetch_timeout"});
        cases.put("unlisted", new String[] {"http://localhost:" + port + "/notes/ok.txt", Fetched.NOT_ALLOWED});
        cases.put("other-port", new String[] {"http://" + ScriptedDns.FILES + ":" + port("elsewhere") + "/x",
                Fetched.NOT_ALLOWED});
        cases.put("userinfo", new String[] {"http://" + ScriptedDns.FILES + ":" + port + "@127.0.0.1:"
                + port("elsewhere") + "/stolen", Fetched.NOT_ALLOWED});
        cases.put("file-scheme", new String[] {"file:///etc/passwd", Fetched.NOT_ALLOWED});
        cases.put("ftp", new String[] {"ftp://" + ScriptedDns.FILES + ":" + port + "/x", Fetched.NOT_ALLOWED});
        cases.put("decimal", new String[] {"http://2130706433:" + port + "/notes/ok.txt", Fetched.NOT_ALLOWED});
        cases.put("v6-loopback", new String[] {"http://[::1]:" + port + "/notes/ok.txt", Fetched.NOT_ALLOWED});
        cases.put("loopback", new String[] {url("127.0.0.1", "/notes/ok.txt"), Fetched.REFUSED});
        cases.put("rebound", new String[] {url(ScriptedDns.REBOUND, "/notes/ok.txt"), Fetched.REFUSED});
        cases.put("metadata", new String[] {url(ScriptedDns.METADATA, "/latest/meta-data/"), Fetched.REFUSED});
        // a name server that does not answer: send again later, not a refused URL (and before the fetch's deadline)
        cases.put("hanging", new String[] {url(ScriptedDns.HANGING, "/notes/ok.txt"), Fetched.LOOKUP_TIMEOUT});
        cases.put("redirect", new String[] {url(ScriptedDns.FILES, "/redirect"), "redirect_refused"});
        cases.put("missing", new String[] {url(ScriptedDns.FILES, "/missing.txt"), "http_404"});
        cases.put("endless", new String[] {url(ScriptedDns.FILES, "/endless"), "file_too_large"});
        files.file("/notes/ok.txt", text());
        int okRequestsBefore = files.requests("/notes/ok.txt");

        try (TopicProbe results = TopicProbe.open(Topics.appResults(APP))) {
            String topic = Topics.appDocuments(APP);
            for (Map.Entry<String, String[]> c : cases.entrySet()) {
                TopicProbe.send(topic, c.getKey(), byUrl(c.getKey() + "-" + run, c.getValue()[0]));
            }
            long sent = System.nanoTime();
            String next = "next-" + run;
            TopicProbe.send(topic, next, inline(next, text()));

            // the inline record behind them is stored while the drip and the silence still hold their fetches
            ConsumerRecord<String, String> accepted = resultRecord(results, next, "accepted",
                    Duration.ofSeconds(DEADLINE + 30));
            assertNotNull(data(accepted).getString("document_id"));
            for (Map.Entry<String, String[]> c : cases.entrySet()) {
                JsonObject failed = result(results, c.getKey() + "-" + run, "failed", Duration.ofSeconds(DEADLINE + 45));
                String reason = failed.getString("reason");
                assertTrue(reason.startsWith(c.getValue()[1]), c.getKey() + ": " + reason);
                assertNull(failed.getString("document_id"), "nothing stored: " + failed.encode());
                // nothing of the network in the reason: no address, no lookup or socket error
                for (String leak : List.of("127.0.0.1", "169.254", "::1", "Connection", "Exception", "timed out",
                        "resolve", String.valueOf(port("elsewhere")))) {
                    assertFalse(reason.contains(leak), c.getKey() + " leaks '" + leak + "': " + reason);
                }
            }
            // the slow fetches ended at the deadline, not at the server's pace (the drip lasts 10 min), and after
            // the inline record sent behind them was answered
            assertTrue(Duration.ofNanos(System.nanoTime() - sent).toSeconds() < DEADLINE + 40);
            for (String slow : List.of("drip", "silent")) {
                long failedAt = resultRecord(results, slow + "-" + run, "failed", Duration.ZERO).timestamp();
                assertTrue(accepted.timestamp() < failedAt, slow + " answered before the next record: " + failedAt);
            }
        }
        assertEquals(0, elsewhere.requests(), "the redirect and the credentials' host were never followed");
        assertEquals(okRequestsBefore, files.requests("/notes/ok.txt"),
                "refused URLs made no request, whatever their host resolves to");
        // the fetch failures are audited under the application's key
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> given()
                .header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).queryParam("key", APP)
                .queryParam("action", "document.upload").queryParam("limit", 1000).get("/v1/audit").then().statusCode(200)
                .body("data.findAll { it.outcome == 'invalid' && it.detail != null && it.detail.startsWith('http_404') }.size()",
                        org.hamcrest.Matchers.greaterThanOrEqualTo(1)));
    }

    @Test
    void anApplicationHasOnlyTheFilesUnderItsOwnPrefixesFetchedAndNothingBeforeItsRightsAreChecked() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        files.file("/notes/ok.txt", text()); // another application's file, on a host the operator lists
        files.file("/public/ok.txt", text());
        int requestsBefore = files.requests();
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("others-file", url(ScriptedDns.FILES, "/notes/ok.txt"));
        cases.put("dot-dot", url(ScriptedDns.FILES, "/public/../notes/ok.txt"));
        cases.put("encoded-dot-dot", url(ScriptedDns.FILES, "/public/%2e%2e/notes/ok.txt"));
        cases.put("encoded-slash", url(ScriptedDns.FILES, "/public%2f..%2fnotes/ok.txt"));
        cases.put("neighbour", url(ScriptedDns.FILES, "/public-other/ok.txt"));
        cases.put("missing", url(ScriptedDns.FILES, "/missing.txt"));
        cases.put("other-host", url(ScriptedDns.REBOUND, "/public/ok.txt"));
        try (TopicProbe results = TopicProbe.open(Topics.appResults(OTHER));
             TopicProbe readerResults = TopicProbe.open(Topics.appResults(READER))) {
            for (Map.Entry<String, String> c : cases.entrySet()) {
                TopicProbe.send(Topics.appDocuments(OTHER), c.getKey(), byUrl(c.getKey() + "-" + run, c.getValue()));
            }
            // no write right: refused for that, whether the file exists or not, whatever its size or type
            TopicProbe.send(Topics.appDocuments(READER), "no-right", byUrl("no-right-" + run,
                    url(ScriptedDns.FILES, "/missing.txt")));
            TopicProbe.send(Topics.appDocuments(READER), "no-right-2", byUrl("no-right-2-" + run,
                    url(ScriptedDns.FILES, "/public/ok.txt")));
            // an invalid record is refused before its URL is even looked at
            TopicProbe.send(Topics.appDocuments(OTHER), "bad-collection", byUrl("bad-collection-" + run,
                    url(ScriptedDns.FILES, "/public/missing.txt"), "no such collection"));

            for (String c : cases.keySet()) {
                JsonObject failed = result(results, c + "-" + run, "failed", Duration.ofSeconds(45));
                assertTrue(failed.getString("reason").startsWith(Fetched.NOT_ALLOWED), c + ": " + failed.encode());
            }
            for (String c : List.of("no-right-", "no-right-2-")) {
                JsonObject rejected = result(readerResults, c + run, "rejected", Duration.ofSeconds(45));
                assertTrue(rejected.getString("reason").startsWith("this key may not write to collection " + KB),
                        rejected.encode());
            }
            JsonObject invalid = result(results, "bad-collection-" + run, "rejected", Duration.ofSeconds(45));
            assertTrue(invalid.getString("reason").startsWith("'collection' is"), invalid.encode());

            // within its prefix, the same application's file is fetched
            String mine = "mine-" + run;
            TopicProbe.send(Topics.appDocuments(OTHER), mine, byUrl(mine, url(ScriptedDns.FILES, "/public/ok.txt")));
            assertNotNull(result(results, mine, "accepted", Duration.ofSeconds(45)).getString("document_id"));
        }
        assertEquals(requestsBefore + 1, files.requests(), "only the file under the prefix was requested");
    }

    @Test
    void aNameRepointedAfterItsCheckIsFetchedFromTheAddressThatWasChecked() throws Exception {
        files.file("/notes/flip.txt", text());
        ScriptedDns.resetFlip();
        try (TopicProbe results = TopicProbe.open(Topics.appResults(APP))) {
            String correlation = "flip-" + UUID.randomUUID();
            TopicProbe.send(Topics.appDocuments(APP), correlation, byUrl(correlation,
                    url(ScriptedDns.FLIP, "/notes/flip.txt")));
            // the second answer (cloud metadata) would time out or be refused: accepted means the checked address
            assertNotNull(result(results, correlation, "accepted", Duration.ofSeconds(45)).getString("document_id"));
        }
        assertEquals(1, files.requests("/notes/flip.txt"), "the file server, at the checked address");
        assertEquals(1, ScriptedDns.flipLookups(), "the name was looked up once, by the check");
    }

    @Test
    void aKeyRevokedWhileItsRecordWaitsForAFetchUploadsNothing() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        files.file("/notes/late.txt", text());
        int before = files.requests("/notes/late.txt");
        int silentBefore = files.requests("/silent");
        try (TopicProbe results = TopicProbe.open(Topics.appResults(REVOKED))) {
            // the lane's four places held by silent servers: the next record waits for one (one Kafka key: one
            // partition, read in order)
            for (int i = 0; i < 4; i++) {
                TopicProbe.send(Topics.appDocuments(REVOKED), run, byUrl("hold-" + i + "-" + run,
                        url(ScriptedDns.FILES, "/silent")));
            }
            String late = "late-" + run;
            TopicProbe.send(Topics.appDocuments(REVOKED), run, byUrl(late, url(ScriptedDns.FILES, "/notes/late.txt")));
            await().atMost(Duration.ofSeconds(DEADLINE - 2)).until(() -> files.requests("/silent") >= silentBefore + 4);
            java.io.PrintStream quiet = new java.io.PrintStream(java.io.OutputStream.nullOutputStream());
            assertEquals(0, KeysCli.run(new String[] {"revoke", REVOKED}, TestKeys.FILE.toString(), quiet, quiet));
            keys.reload();

            JsonObject rejected = result(results, late, "rejected", Duration.ofSeconds(DEADLINE + 45));
            assertTrue(rejected.getString("reason").contains("no active Kafka application key"), rejected.encode());
        }
        assertEquals(before, files.requests("/notes/late.txt"), "never fetched for a revoked key");
    }

    @Test
    void aFileTheDiskDoesNotHoldWholeIsNoFetchedFile() {
        byte[] big = new byte[256 * 1024];
        java.util.Arrays.fill(big, (byte) 'a');
        files.file("/notes/big.txt", big);
        // a real write failure: every write to /dev/full fails with "no space left on device"
        Fetched fetched = fetcher.fetch(APP, url(ScriptedDns.FILES, "/notes/big.txt"), java.nio.file.Path.of("/dev/full"),
                LIMIT).await().atMost(Duration.ofSeconds(DEADLINE + 5));
        assertFalse(fetched.ok(), "a file the disk refused is not fetched: " + fetched);
        assertEquals(Fetched.UNREACHABLE, fetched.failure());
    }

    @Test
    void largeConfidentialFilesAtOnceWaitForRoomInsteadOfExhaustingTheHeap() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        List<String> correlations = new java.util.ArrayList<>();
        try (TopicProbe results = TopicProbe.open(Topics.appResults(APP))) {
            for (int i = 0; i < 4; i++) {
                byte[] big = (("Rapport confidentiel " + run + " partie " + i + ". ").repeat(18_000))
                        .getBytes(StandardCharsets.UTF_8); // about 700 KB: two need more than the budget
                files.file("/big/" + run + "-" + i + ".txt", big);
                String correlation = "big-" + i + "-" + run;
                correlations.add(correlation);
                TopicProbe.send(Topics.appDocuments(APP), correlation, byUrl(correlation,
                        url(ScriptedDns.FILES, "/big/" + run + "-" + i + ".txt")).replace("\"file_url\"",
                        "\"confidential\":true,\"file_url\""));
            }
            for (String correlation : correlations) {
                assertNotNull(result(results, correlation, "accepted", Duration.ofSeconds(60)).getString("document_id"));
            }
        }
        UploadMemory memory = uploads.memory();
        assertEquals(UPLOAD_MEMORY, memory.capacityBytes());
        assertTrue(memory.maxInUseBytes() > 0, "the confidential files took their share");
        assertTrue(memory.maxInUseBytes() <= UPLOAD_MEMORY, "never more at once than the budget: "
                + memory.maxInUseBytes());
    }

    @Test
    void aRecordWithBothAFileAndAUrlOrWithNeitherIsRejectedAndDeadLettered() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String both = inline("both-" + run, text()).replace("\"file_base64\"",
                "\"file_url\":\"" + url(ScriptedDns.FILES, "/notes/ok.txt") + "\",\"file_base64\"");
        String neither = byUrl("neither-" + run, "x").replace(",\"file_url\":\"x\"", "");
        try (TopicProbe results = TopicProbe.open(Topics.appResults(APP));
             TopicProbe dlq = TopicProbe.open(Topics.appDeadLetter(APP))) {
            TopicProbe.send(Topics.appDocuments(APP), "both", both);
            TopicProbe.send(Topics.appDocuments(APP), "neither", neither);
            for (String correlation : List.of("both-" + run, "neither-" + run)) {
                JsonObject rejected = result(results, correlation, "rejected", Duration.ofSeconds(45));
                assertTrue(rejected.getString("reason").startsWith("exactly one of 'file_base64'"), rejected.encode());
                ConsumerRecord<String, String> letter = dlq.await(r -> r.value().contains(correlation),
                        Duration.ofSeconds(45));
                AsyncApiContract.assertValid("DeadLetter", letter.value());
            }
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
}
