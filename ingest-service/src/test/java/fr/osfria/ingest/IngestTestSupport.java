package fr.osfria.ingest;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;

import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.Topics;
import fr.osfria.events.document.ChunksIndexed;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.agroal.api.AgroalDataSource;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.restassured.RestAssured;
import io.restassured.response.ValidatableResponse;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/** Calls of this module's tests: uploads, reads, and embed-service's answer played by the test. */
public final class IngestTestSupport {

    public static final String KB = "knowledge-base";
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    public static ValidatableResponse upload(String key, String filename, byte[] bytes, String collection, String metadata) {
        var request = given().header("Authorization", TestKeys.bearer(key))
                .multiPart("file", filename, bytes, "application/octet-stream");
        if (collection != null) {
            request.multiPart("collection", collection);
        }
        if (metadata != null) {
            request.multiPart("metadata", metadata);
        }
        return request.post("/v1/documents").then();
    }

    public static ValidatableResponse get(String key, String id) {
        return given().header("Authorization", TestKeys.bearer(key)).get("/v1/documents/" + id).then();
    }

    /** What embed-service would say once it has indexed (or failed to index) a version's chunks. */
    public static void indexResult(String documentId, int version, int chunks, String error) {
        TopicProbe.send(Topics.INDEX_RESULTS, documentId, EventJson.encode(CloudEvent.of("/osfria/embed-service",
                EventTypes.CHUNKS_INDEXED, documentId, new ChunksIndexed(documentId, version, chunks, error == null, error))));
    }

    public static void awaitStatus(String key, String id, String status) {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> status.equals(get(key, id).extract().path("status")));
    }

    /** A finance document of {@link #KB}, parsed and chunked: processing until the test gives embed-service's verdict. */
    public static String chunkedDocument() {
        String id = upload(TestKeys.FINANCE, "attente.txt", ("Une note à indexer " + UUID.randomUUID())
                .getBytes(StandardCharsets.UTF_8), KB, "{\"department\":\"finance\"}").statusCode(202)
                .extract().path("document_id");
        await().atMost(Duration.ofSeconds(60)).until(
                () -> get(TestKeys.FINANCE, id).extract().<Integer>path("chunks_count"), n -> n != null && n > 0);
        return id;
    }

    /** An answer of {@code GET /v1/documents/{id}?wait=} and when it arrived. */
    public record Answer(int status, JsonObject body, Instant at) {
    }

    /** {@code GET /v1/documents/{id}?wait=seconds}, sent without blocking the test. */
    public static CompletableFuture<Answer> waitFor(String key, String id, int seconds) {
        return waitFor(key, id, String.valueOf(seconds));
    }

    /** The same with {@code wait} as written in the query (URL-encoded). */
    public static CompletableFuture<Answer> waitFor(String key, String id, String wait) {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://localhost:" + RestAssured.port
                        + "/v1/documents/" + id + "?wait=" + wait))
                .header("Authorization", TestKeys.bearer(key)).timeout(Duration.ofSeconds(90)).build();
        return HTTP.sendAsync(request, HttpResponse.BodyHandlers.ofString())
                .thenApply(r -> new Answer(r.statusCode(), new JsonObject(r.body()), Instant.now()));
    }

    /** When the document's status was last written (indexed, failed). */
    public static Instant changedAt(AgroalDataSource database, String id) throws SQLException {
        return documentValue(database, "SELECT updated_at FROM document WHERE id = ?", id, rs -> rs.getTimestamp(1).toInstant());
    }

    /** A document's whole row as JSON text, whatever its columns are called: what a reader of the database sees. */
    public static String row(AgroalDataSource database, String id) throws SQLException {
        return documentValue(database, "SELECT row_to_json(d)::text FROM document d WHERE id = ?", id, rs -> rs.getString(1));
    }

    /** The number {@code query} selects, its one parameter {@code parameter} (a count, a sum). */
    public static long number(AgroalDataSource database, String query, String parameter) throws SQLException {
        return documentValue(database, query, parameter, rs -> rs.getLong(1));
    }

    /** What {@code value} reads from the one row {@code query} selects for document {@code id}. */
    private static <T> T documentValue(AgroalDataSource database, String query, String id, Value<T> value) throws SQLException {
        try (Connection c = database.getConnection(); PreparedStatement s = c.prepareStatement(query)) {
            s.setString(1, id);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    throw new AssertionError("no row for " + id);
                }
                return value.read(rs);
            }
        }
    }

    private interface Value<T> {
        T read(ResultSet row) throws SQLException;
    }

    /**
     * Waits woken so far by their document's announcement, not by the regular check: what tells a notification's
     * wake from the safety net's, whatever the timing on a busy machine.
     */
    public static double wokenByNotification(MeterRegistry metrics) {
        Counter wakes = metrics.find("osfria.ingest.document.wait.wakes").tag("by", "notification").counter();
        return wakes == null ? 0 : wakes.count();
    }

    private IngestTestSupport() {
    }

    /**
     * An answer read from a raw socket: its head and body, read until the body's JSON ends; a time-out (the socket's)
     * means none came while the request's body was still awaited.
     */
    public static String rawAnswer(java.io.InputStream in) throws java.io.IOException {
        java.io.ByteArrayOutputStream read = new java.io.ByteArrayOutputStream();
        try {
            for (int b; (b = in.read()) >= 0; ) {
                read.write(b);
                String text = read.toString(StandardCharsets.UTF_8);
                if (text.contains("\r\n\r\n") && text.trim().endsWith("}}")) {
                    break;
                }
            }
        } catch (java.net.SocketTimeoutException e) {
            return "no answer while the body was not sent; read: " + read.toString(StandardCharsets.UTF_8);
        }
        return read.toString(StandardCharsets.UTF_8);
    }
}
