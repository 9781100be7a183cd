package fr.osfria.ingest.isolation;

import static fr.osfria.ingest.IngestTestSupport.KB;
import static fr.osfria.ingest.IngestTestSupport.awaitStatus;
import static fr.osfria.ingest.IngestTestSupport.get;
import static fr.osfria.ingest.IngestTestSupport.indexResult;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static fr.osfria.ingest.IngestTestSupport.upload;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.events.Topics;
import fr.osfria.ingest.OperatedInstall;
import fr.osfria.ingest.appkafka.AppDocumentListener;
import fr.osfria.ingest.appkafka.AppRecordSweeper;
import fr.osfria.security.error.DatabaseUnavailable;
import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.key.KeysCli;
import fr.osfria.testing.EmbeddedPostgres;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.Ports;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.vertx.VertxContextSupport;
import io.vertx.core.json.JsonObject;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.Base64;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL out of reach (connections refused, open ones cut, as when the server is down): an upload used to answer
 * 500 "internal error", which tells a client nothing it can act on. It answers 503 with {@code Retry-After}, keeps no
 * file of the refused upload, and the next upload once the database is back is accepted. Records consumed meanwhile
 * wait for the database instead of being dead-lettered.
 */
@QuarkusTest
@TestProfile(OperatedInstall.class)
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
public class PostgresOutageUploadTest {

    /** "true" or "false", in a system property: the profile's and the test's class loaders both see it. */
    private static final String SWITCH = "osfria.test.postgres-reachable";
    /** "true" once the relay, switched off, has closed its port and cut every open connection. */
    /**
     * A text: the relay cuts the connection whose transaction sent it, right after it has passed that transaction's
     * COMMIT on, its answer withheld: the commit took place and the service cannot know it.
     */
    private static final String CUT_AFTER_COMMIT_OF = "osfria.test.postgres-cut-after-commit-of";
    /** How long a Kafka application's record waits for PostgreSQL here (8 minutes in production). */
    static final Duration DEADLINE = Duration.ofSeconds(10);
    /** A Kafka application that may write knowledge-base for the finance department. */
    static final String APP = "app-outage";
    static final String APP_KEY;

    static {
        try {
            APP_KEY = KeysCli.create(TestKeys.FILE, new KeyEntry(APP, null, null, Set.of("user"), List.of(KB),
                    List.of(KB), List.of("finance"), false, null, null, null, null, null, null, true));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Inject
    AgroalDataSource database;

    @ConfigProperty(name = "osfria.ingest.uploads.per-key")
    int perKey;

    @Inject
    AppRecordSweeper sweeper;

    /**
     * The service reaches the real embedded PostgreSQL through a TCP relay the test can cut (Flyway goes straight
     * to the server at start): settings of {@link OperatedInstall}.
     */
    public static Map<String, String> databaseBehindASwitch() {
        int port = EmbeddedPostgres.port();
        EmbeddedPostgres.ensureDatabase("ingest");
        System.setProperty(SWITCH, "true");
        int relay = Relay.start(port);
        return Map.of("osfria.ingest.app-record-deadline", DEADLINE.toSeconds() + "s",
                "quarkus.datasource.reactive.url", "postgresql://127.0.0.1:" + relay + "/ingest",
                "quarkus.datasource.jdbc.url", "jdbc:postgresql://127.0.0.1:" + port + "/ingest",
                "quarkus.datasource.username", EmbeddedPostgres.USER,
                "quarkus.datasource.password", EmbeddedPostgres.PASSWORD);
    }

    /**
     * The record-memory sweep while PostgreSQL is out of reach: the pass ends in a failure at once (the scheduled
     * run logs it), it neither hangs nor removes anything by halves, and the next pass once the database is back
     * removes what the first could not.
     */
    @Test
    void theRecordMemorySweepDuringAnOutageStopsAndTheNextPassDoesItsWork() throws Exception {
        String app = "outage-" + UUID.randomUUID().toString().substring(0, 8);
        try (Connection c = database.getConnection(); PreparedStatement s = c.prepareStatement(
                "INSERT INTO app_record (app_name, event_id, taken_at) SELECT ?, 'old-' || i, now() - interval '10 days'"
                        + " FROM generate_series(1, 20) i")) {
            s.setString(1, app);
            s.executeUpdate();
        }
        cutDatabase();
        try {
            CompletableFuture<Long> pass = CompletableFuture.supplyAsync(() -> {
                try {
                    return VertxContextSupport.subscribeAndAwait(sweeper::sweep);
                } catch (Throwable e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            });
            ExecutionException failed = assertThrows(ExecutionException.class, () -> pass.get(60, TimeUnit.SECONDS));
            assertTrue(DatabaseUnavailable.causes(failed), failed.toString());
        } finally {
            System.setProperty(SWITCH, "true");
        }
        assertEquals(20, oldRecords(app), "nothing removed while the database was away");
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            try {
                VertxContextSupport.subscribeAndAwait(sweeper::sweep);
            } catch (Throwable e) { // a connection pooled before the outage, found cut
                return false;
            }
            return oldRecords(app) == 0;
        });
    }

    /**
     * Switches the relay off and waits until it has cut the open connections: a statement sent on a pooled connection
     * in the moment before (the relay looks at its switch every few tens of milliseconds) would still be answered.
     */
    static void cutDatabase() {
        System.setProperty(SWITCH, "false");
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10))
                .until(Relay::allCut);
    }

    /** PostgreSQL within reach again. */
    static void restoreDatabase() {
        System.setProperty(SWITCH, "true");
    }

    private long oldRecords(String app) throws Exception {
        try (Connection c = database.getConnection();
             PreparedStatement s = c.prepareStatement("SELECT count(*) FROM app_record WHERE app_name = ?")) {
            s.setString(1, app);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    @Test
    void anUploadWhilePostgresqlIsDownGets503WithRetryAfterAndLeavesNothingBehind() throws Exception {
        upload(TestKeys.FINANCE, "avant.txt", ("Avant la panne " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8),
                KB, "{\"department\":\"finance\"}").statusCode(202);
        Set<String> blobsBefore = blobDirectories();

        cutDatabase();
        try {
            // the first finds pooled connections cut, the next ones cannot connect; more of them than a key may have
            // in progress: each gives its place back (none is answered 429)
            for (int i = 0; i <= perKey; i++) {
                upload(TestKeys.FINANCE, "panne-" + i + ".txt", ("Pendant la panne " + UUID.randomUUID())
                        .getBytes(StandardCharsets.UTF_8), KB, "{\"department\":\"finance\"}")
                        .statusCode(503)
                        .header("Retry-After", notNullValue())
                        .body("error.code", equalTo("database_unavailable"));
            }
            assertEquals(blobsBefore, blobDirectories(), "a refused upload left its file behind");
        } finally {
            System.setProperty(SWITCH, "true");
        }
        // back: a connection the pool kept from before the outage is found cut when next used (one 503 for it, with
        // Retry-After), then uploads go through
        String after = "Après la panne " + UUID.randomUUID();
        await().atMost(Duration.ofSeconds(30)).until(() -> upload(TestKeys.FINANCE, "apres.txt",
                after.getBytes(StandardCharsets.UTF_8), KB, "{\"department\":\"finance\"}").extract().statusCode() == 202);
    }

    /**
     * A connection cut while PostgreSQL commits an upload: the document is stored, the service only sees the
     * connection go (503, the client sends it again). Its file used to be removed as if nothing had been stored: the
     * document then failed at parsing, its original lost. The file stays; the orphan-file sweep would remove it only
     * once the database answers that no document holds it.
     */
    @Test
    void anUploadWhoseCommitIsCutKeepsItsFile() throws Exception {
        String filename = "coupure-" + UUID.randomUUID() + ".txt";
        byte[] file = ("Validé, puis la connexion coupée " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
        System.setProperty(CUT_AFTER_COMMIT_OF, filename); // the file name is a parameter of the document's insert
        try {
            upload(TestKeys.FINANCE, filename, file, KB, "{\"department\":\"finance\"}")
                    .statusCode(503).header("Retry-After", notNullValue())
                    .body("error.code", equalTo("database_unavailable"))
                    .body("error.message", org.hamcrest.Matchers.containsString("it may be stored"));
        } finally {
            System.clearProperty(CUT_AFTER_COMMIT_OF);
        }
        String id;
        try (Connection c = database.getConnection();
             PreparedStatement s = c.prepareStatement("SELECT id FROM document WHERE filename = ?")) {
            s.setString(1, filename);
            try (ResultSet rs = s.executeQuery()) {
                assertTrue(rs.next(), "the commit did not take place: the test cut nothing");
                id = rs.getString(1);
            }
        }
        // parsed from its file: chunks published, waiting for the index (failed, 0 chunks, when the file was removed)
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            String status = get(TestKeys.FINANCE, id).statusCode(200).extract().path("status");
            assertEquals("processing", status, "the stored document, after its commit was cut");
            assertTrue(get(TestKeys.FINANCE, id).extract().<Integer>path("chunks_count") > 0);
        });
        assertTrue(blobDirectories().contains(id), "the stored document's file was removed");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> given()
                .header("Authorization", TestKeys.bearer(TestKeys.ADMIN))
                .queryParam("action", "document.upload").queryParam("outcome", "unknown").queryParam("limit", 1000)
                .get("/v1/audit").then().statusCode(200).body("data.target", org.hamcrest.Matchers.hasItem(id)));
        // the client sends it again, as told: the upload is found, not stored twice
        upload(TestKeys.FINANCE, filename, file, KB, "{\"department\":\"finance\"}")
                .statusCode(200).body("document_id", equalTo(id));
    }

    /**
     * embed-service's verdict arriving while PostgreSQL is down used to go to the dead-letter topic: the document
     * stayed {@code processing} until the stall sweeper ran it again, ten minutes later. It waits for the database.
     */
    @Test
    void aVerdictArrivingWhilePostgresqlIsDownIsAppliedOnceItIsBack() throws Exception {
        String id = upload(TestKeys.FINANCE, "verdict.txt", ("Un verdict pendant la panne " + UUID.randomUUID())
                .getBytes(StandardCharsets.UTF_8), KB, "{\"department\":\"finance\"}").statusCode(202)
                .extract().path("document_id");
        int chunks = await().atMost(Duration.ofSeconds(60)).until(
                () -> get(TestKeys.FINANCE, id).extract().<Integer>path("chunks_count"), n -> n != null && n > 0);

        cutDatabase();
        try {
            indexResult(id, 1, chunks, null);
            Thread.sleep(3_000); // read and tried while the database is out of reach
        } finally {
            System.setProperty(SWITCH, "true");
        }
        awaitStatus(TestKeys.FINANCE, id, "indexed");
    }

    /** An audit record read while PostgreSQL is down waited for nothing and went to the dead-letter topic, out of the trail. */
    @Test
    void anAuditRecordArrivingWhilePostgresqlIsDownReachesTheTrailOnceItIsBack() throws Exception {
        String marker = "during-the-outage-" + UUID.randomUUID();
        cutDatabase();
        try {
            fr.osfria.testing.TopicProbe.send("osfria.audit.v1", "test-finance", fr.osfria.events.EventJson.encode(
                    fr.osfria.events.CloudEvent.of("/osfria/embed-service", fr.osfria.events.EventTypes.AUDIT_RECORDED,
                            "test-finance", new fr.osfria.events.audit.AuditRecord("embed-service", "test-finance", "search",
                                    null, KB, "ok", java.time.Instant.now(), marker))));
            Thread.sleep(3_000); // read and tried while the database is out of reach
        } finally {
            System.setProperty(SWITCH, "true");
        }
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> io.restassured.RestAssured.given()
                .header("Authorization", TestKeys.bearer(TestKeys.ADMIN))
                .queryParam("key", "test-finance").queryParam("action", "search").queryParam("limit", 1000)
                .get("/v1/audit").then().statusCode(200).body("data.detail", org.hamcrest.Matchers.hasItem(marker)));
    }

    /**
     * A Kafka application's record read again (a rebalance) while PostgreSQL is down: its second reading waits for the
     * database, then names the document the first reading made; it is neither rejected nor a second document.
     */
    @Test
    void aRecordReadAgainWhilePostgresqlIsDownNamesItsDocumentOnceItIsBack() throws Exception {
        await().atMost(Duration.ofSeconds(60)).until(() -> given().header("Authorization", TestKeys.bearer(APP_KEY))
                .get("/v1/documents?collection=" + KB + "&limit=1").then().extract().statusCode() == 200);
        String correlation = "outage-" + UUID.randomUUID();
        String record = record(correlation, "Relu pendant la panne " + UUID.randomUUID());
        try (TopicProbe results = TopicProbe.open(Topics.appResults(APP))) {
            TopicProbe.send(Topics.appDocuments(APP), correlation, record);
            String id = data(results.await(r -> correlation.equals(data(r).getString("correlation_id")),
                    Duration.ofSeconds(45))).getString("document_id");

            cutDatabase();
            try {
                TopicProbe.send(Topics.appDocuments(APP), correlation, record); // read again
                Thread.sleep(3_000); // read and looked up while the database is out of reach
            } finally {
                System.setProperty(SWITCH, "true");
            }
            JsonObject again = data(results.await(r -> correlation.equals(data(r).getString("correlation_id"))
                    && "duplicate".equals(data(r).getString("status")), Duration.ofSeconds(60)));
            assertEquals(id, again.getString("document_id"));
            assertEquals(Set.of(id), results.drain(Duration.ofSeconds(2)).stream().map(PostgresOutageUploadTest::data)
                    .filter(d -> correlation.equals(d.getString("correlation_id")))
                    .map(d -> d.getString("document_id")).collect(Collectors.toSet()), "one document, named each time");
        }
    }

    /**
     * A record that arrives during an outage longer than its deadline is answered {@code rejected} at the deadline
     * (the application may send it again), not held until the consumer's health turns DOWN; it stored nothing, so
     * the same record read again once PostgreSQL is back is uploaded.
     */
    @Test
    void aRecordWaitsForPostgresqlUntilItsDeadlineThenIsAnsweredAndMayComeAgain() throws Exception {
        await().atMost(Duration.ofSeconds(60)).until(() -> given().header("Authorization", TestKeys.bearer(APP_KEY))
                .get("/v1/documents?collection=" + KB + "&limit=1").then().extract().statusCode() == 200);
        String correlation = "deadline-" + UUID.randomUUID();
        String record = record(correlation, "Arrivé pendant une longue panne " + UUID.randomUUID());
        try (TopicProbe results = TopicProbe.open(Topics.appResults(APP))) {
            long sent;
            JsonObject rejected;
            cutDatabase();
            try {
                sent = System.nanoTime();
                TopicProbe.send(Topics.appDocuments(APP), correlation, record);
                rejected = data(results.await(r -> correlation.equals(data(r).getString("correlation_id")),
                        DEADLINE.plusSeconds(45)));
            } finally {
                System.setProperty(SWITCH, "true");
            }
            Duration waited = Duration.ofNanos(System.nanoTime() - sent);
            assertEquals("rejected", rejected.getString("status"), rejected.encode());
            assertEquals(AppDocumentListener.DATABASE_DOWN, rejected.getString("reason"));
            // waited for the database, not answered at once (it gives up when its next try would pass the deadline)
            assertTrue(waited.compareTo(DEADLINE.dividedBy(2)) >= 0, "answered long before its deadline: " + waited);

            TopicProbe.send(Topics.appDocuments(APP), correlation, record); // sent again, or read again
            JsonObject accepted = data(results.await(r -> correlation.equals(data(r).getString("correlation_id"))
                    && "accepted".equals(data(r).getString("status")), Duration.ofSeconds(60)));
            assertNotNull(accepted.getString("document_id"));
        }
    }

    private static String record(String correlation, String text) {
        return "{\"specversion\":\"1.0\",\"id\":\"" + UUID.randomUUID() + "\",\"source\":\"/test/app\","
                + "\"type\":\"fr.osfria.app.document.submitted\",\"data\":{\"correlation_id\":\"" + correlation
                + "\",\"collection\":\"" + KB + "\",\"filename\":\"note.txt\",\"metadata\":{\"department\":\"finance\"},"
                + "\"file_base64\":\"" + Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8)) + "\"}}";
    }

    private static JsonObject data(ConsumerRecord<String, String> r) {
        return new JsonObject(r.value()).getJsonObject("data");
    }

    private static Set<String> blobDirectories() throws IOException {
        Path root = Path.of("target/test-data/blobs");
        if (!Files.isDirectory(root)) {
            return Set.of();
        }
        try (Stream<Path> dirs = Files.list(root)) {
            return dirs.filter(d -> {
                try (Stream<Path> files = Files.list(d)) {
                    return files.anyMatch(Files::isRegularFile);
                } catch (IOException e) {
                    return false;
                }
            }).map(d -> d.getFileName().toString()).collect(java.util.stream.Collectors.toSet());
        }
    }

    /**
     * A loopback TCP relay to PostgreSQL. While the switch is off it listens no more (connections are refused) and
     * cuts the open ones, as a server that went down does; switched on, it listens again on the same port.
     */
    static final class Relay {

        /**
         * Whether each relay started has cut its connections, by port. Quarkus asks a profile for its settings more
         * than once, so several relays run (the service uses one of them): an idle one reported "cut" at once, before
         * the one in use had cut its connections, and a statement sent in that moment was still answered.
         */
        private static final Map<Integer, Boolean> CUT = new java.util.concurrent.ConcurrentHashMap<>();

        static boolean allCut() {
            return !CUT.isEmpty() && CUT.values().stream().allMatch(Boolean::booleanValue);
        }

        static int start(int target) {
            // below the ephemeral range: while the switch is off, an outgoing connection could take the port
            int port = Ports.free();
            Thread relay = new Thread(() -> run(port, target), "postgres-relay");
            relay.setDaemon(true);
            relay.start();
            return port;
        }

        private static void run(int port, int target) {
            List<Socket> open = new java.util.concurrent.CopyOnWriteArrayList<>();
            ServerSocket server = null;
            while (true) {
                try {
                    if (!Boolean.parseBoolean(System.getProperty(SWITCH))) {
                        if (server != null) {
                            server.close();
                            server = null;
                        }
                        open.forEach(Relay::closeQuietly);
                        open.clear();
                        CUT.put(port, true);
                        Thread.sleep(20);
                        continue;
                    }
                    if (server == null) {
                        server = bind(port);
                        server.setSoTimeout(50);
                        CUT.put(port, false);
                    }
                    Socket client = server.accept();
                    Socket upstream = new Socket("127.0.0.1", target);
                    open.add(client);
                    open.add(upstream);
                    java.util.concurrent.atomic.AtomicBoolean withheld = new java.util.concurrent.atomic.AtomicBoolean();
                    toServer(client, upstream, withheld);
                    pipe(upstream, client, withheld);
                } catch (java.net.SocketTimeoutException e) {
                    // look at the switch again
                } catch (IOException | UncheckedIOException e) {
                    closeQuietly(server);
                    server = null;
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        private static ServerSocket bind(int port) {
            try {
                ServerSocket server = new ServerSocket();
                server.setReuseAddress(true);
                server.bind(new InetSocketAddress("127.0.0.1", port));
                return server;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** Passes the server's answers on, none once {@code withheld}. */
        private static void pipe(Socket from, Socket to, java.util.concurrent.atomic.AtomicBoolean withheld) {
            relay(from, to, (in, out) -> {
                byte[] buffer = new byte[16_384];
                for (int n; (n = in.read(buffer)) >= 0 && !withheld.get(); ) {
                    out.write(buffer, 0, n);
                }
            });
        }

        /**
         * Passes the service's statements on; the COMMIT of a transaction that sent the text {@link #CUT_AFTER_COMMIT_OF}
         * names is passed on with its answer withheld, and the connection cut once the server has had time to commit.
         */
        private static void toServer(Socket from, Socket to, java.util.concurrent.atomic.AtomicBoolean withheld) {
            relay(from, to, (in, out) -> {
                boolean marked = false;
                byte[] buffer = new byte[16_384];
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    String text = new String(buffer, 0, n, StandardCharsets.ISO_8859_1);
                    String mark = System.getProperty(CUT_AFTER_COMMIT_OF);
                    marked |= mark != null && text.contains(mark); // ASCII: the same in ISO-8859-1 and UTF-8
                    boolean commit = text.contains("COMMIT");
                    if (commit && marked && mark != null) {
                        System.clearProperty(CUT_AFTER_COMMIT_OF); // once
                        withheld.set(true);
                        out.write(buffer, 0, n);
                        out.flush();
                        Thread.sleep(500);
                        return;
                    }
                    out.write(buffer, 0, n);
                    if (commit || text.contains("ROLLBACK")) {
                        marked = false;
                    }
                }
            });
        }

        private interface Copy {
            void run(InputStream in, OutputStream out) throws IOException, InterruptedException;
        }

        /** Runs {@code copy} on a thread of its own; when it ends, both sides are closed (the connection is cut). */
        private static void relay(Socket from, Socket to, Copy copy) {
            Thread t = new Thread(() -> {
                try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                    copy.run(in, out);
                } catch (IOException e) {
                    // cut
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    closeQuietly(from);
                    closeQuietly(to);
                }
            }, "postgres-relay-pipe");
            t.setDaemon(true);
            t.start();
        }

        private static void closeQuietly(java.io.Closeable c) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (IOException e) {
                // already closed
            }
        }
    }
}
