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
import io.restassured.response.ValidatableResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;

/** Calls of this module's tests: uploads, reads, and embed-service's answer played by the test. */
public final class IngestTestSupport {

    public static final String KB = "knowledge-base";

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

    /** A document's whole row as JSON text, whatever its columns are called: what a reader of the database sees. */
    public static String row(AgroalDataSource database, String id) throws SQLException {
        try (Connection c = database.getConnection();
             PreparedStatement s = c.prepareStatement("SELECT row_to_json(d)::text FROM document d WHERE id = ?")) {
            s.setString(1, id);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    throw new AssertionError("no row for " + id);
                }
                return rs.getString(1);
            }
        }
    }

    private IngestTestSupport() {
    }
}
