package fr.osfria.ingest.security;

import static fr.osfria.ingest.IngestTestSupport.KB;
import static fr.osfria.ingest.IngestTestSupport.get;
import static fr.osfria.ingest.IngestTestSupport.row;
import static fr.osfria.ingest.IngestTestSupport.upload;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.ingest.OperatedInstall;
import fr.osfria.security.crypto.Envelope;
import fr.osfria.security.crypto.KeyedHash;
import fr.osfria.security.crypto.ResealReport;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.TestKeys;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * After a KEK rotation (kek-1 retired, kek-2 active; a profile of its own, so that no test of the default
 * configuration meets kek-2's keys): what was stored under kek-1, or before
 * confidential names and metadata were sealed, keeps its protection.
 */
@QuarkusTest
@TestProfile(OperatedInstall.class)
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
class KekRotatedDocumentsTest {

    /** The default test configuration's KEK, now retired. */
    static final String KEK_1 = OperatedInstall.KEK_1;
    static final String KEK_2 = OperatedInstall.KEK_2;

    @Inject
    AgroalDataSource database;

    @Inject
    io.vertx.mutiny.sqlclient.Pool db;

    @Test
    void theSameBytesUploadedAfterTheRotationAreStillADuplicateAndTheResealRehashesThem() throws Exception {
        byte[] file = ("Procédure d'astreinte " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
        byte[] sealedFile = ("Astreinte de la direction " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
        String first = upload(TestKeys.ADMIN, "astreinte.txt", file, KB, "{\"department\":\"hr\"}")
                .statusCode(202).extract().path("document_id");
        String sealed = upload(TestKeys.ADMIN, "astreinte-dg.txt", sealedFile, KB, "{\"department\":\"hr\",\"confidential\":true}")
                .statusCode(202).extract().path("document_id");
        // as they were stored before the rotation: hashed under kek-1 (named, and as older rows have it, bare)
        assertEquals(1, update("UPDATE document SET content_hmac = ? WHERE id = ?", "kek-1:" + hash(KEK_1, file), first));
        assertEquals(1, update("UPDATE document SET content_hmac = ? WHERE id = ?", hash(KEK_1, sealedFile), sealed));

        upload(TestKeys.ADMIN, "astreinte (copie).txt", file, KB, "{\"department\":\"hr\"}")
                .statusCode(200).header("X-Osfria-Duplicate", "true").body("document_id", equalTo(first));
        upload(TestKeys.ADMIN, "copie.txt", sealedFile, KB, "{\"department\":\"hr\",\"confidential\":true}")
                .statusCode(200).header("X-Osfria-Duplicate", "true").body("document_id", equalTo(sealed));
        // and still only among what the caller may read
        upload(TestKeys.FINANCE, "astreinte.txt", file, KB, "{\"department\":\"finance\"}")
                .statusCode(202).header("X-Osfria-Duplicate", nullValue());

        // the re-seal computes them again under kek-2 from the stored files (the sealed one opened in memory), so
        // that they are still found once kek-1 is pruned
        given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).post(ResealReport.PATH).then()
                .statusCode(200).body("remaining", equalTo(0));
        assertEquals("kek-2:" + hash(KEK_2, file), contentHash(first));
        assertEquals("kek-2:" + hash(KEK_2, sealedFile), contentHash(sealed));
    }

    @Test
    void theResealSealsTheNameAndMetadataOfAnOlderConfidentialDocument() throws Exception {
        String canary = "canari-" + UUID.randomUUID();
        String id = upload(TestKeys.ADMIN, canary + ".txt", ("Note " + canary).getBytes(StandardCharsets.UTF_8), KB,
                "{\"department\":\"finance\",\"confidential\":true,\"projet\":\"" + canary + "\",\"annee\":48213579}")
                .statusCode(202).extract().path("document_id");
        // as a confidential document was stored before names and metadata were sealed
        update("UPDATE document SET filename = ?, metadata_json = ? WHERE id = ?", canary + ".txt",
                "{\"department\":\"finance\",\"confidential\":true,\"projet\":\"" + canary + "\",\"annee\":48213579}", id);
        assertTrue(row(database, id).contains(canary), "positive control: the older row holds the name in clear");
        given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).post(ResealReport.PATH).then()
                .statusCode(200).body("remaining", equalTo(0)).body("resealed", greaterThanOrEqualTo(1));
        // the non-admin's re-seal is refused
        given().header("Authorization", TestKeys.bearer(TestKeys.FINANCE)).post(ResealReport.PATH).then().statusCode(403);

        String row = row(database, id);
        assertFalse(row.contains(canary), "the name or a metadata value is still in clear: " + row);
        assertFalse(row.contains("48213579"), "a numeric metadata value is still in clear: " + row);
        get(TestKeys.ADMIN, id).statusCode(200).body("filename", equalTo(canary + ".txt"))
                .body("metadata.projet", equalTo(canary)).body("metadata.annee", equalTo(48213579))
                .body("metadata.department", equalTo("finance"));
    }

    /**
     * A document update (a pipeline step: chunks recorded, a verdict) that read the row before the re-seal rewrote
     * its sealed columns, and writes after it: it used to write every column back as it had read them, undoing the
     * re-seal (a name in clear again, or a data key wrapped by the retired KEK: unreadable once it is pruned). It
     * writes only what it changed. The interleaving is made here on purpose; the suite met it by chance.
     */
    @Test
    void anUpdateReadBeforeTheResealDoesNotUndoIt() throws Throwable {
        String id = upload(TestKeys.ADMIN, "course.txt", ("Course d'orientation " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8),
                KB, "{\"department\":\"hr\",\"confidential\":true}").statusCode(202).extract().path("document_id");
        // the pipeline's own step on this row (its chunks recorded) done first: it would race the one made here
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> !row(database, id).contains("\"chunked_at\":null"));
        String resealed = "reseal-" + UUID.randomUUID() + ".txt";
        io.quarkus.vertx.VertxContextSupport.subscribeAndAwait(() -> io.quarkus.hibernate.reactive.panache.Panache.withTransaction(
                () -> fr.osfria.ingest.document.Document.<fr.osfria.ingest.document.Document>findById(id)
                        // the re-seal's statement lands between this read and this write
                        .call(doc -> db.preparedQuery("UPDATE document SET filename = $1 WHERE id = $2")
                                .execute(io.vertx.mutiny.sqlclient.Tuple.of(resealed, id)))
                        .invoke(doc -> doc.updatedAt = java.time.Instant.now())));
        assertTrue(row(database, id).contains(resealed), "the update wrote back the name it had read: " + row(database, id));
    }

    /** The keyed hash of the knowledge base and {@code file} under a KEK, as duplicate detection computes it. */
    private static String hash(String kek, byte[] file) throws Exception {
        return KeyedHash.derive(Envelope.parse(kek).orElseThrow(), "osfria-content-hash-v1").of(KB, new ByteArrayInputStream(file));
    }

    private String contentHash(String id) throws Exception {
        try (Connection c = database.getConnection();
             PreparedStatement s = c.prepareStatement("SELECT content_hmac FROM document WHERE id = ?")) {
            s.setString(1, id);
            try (java.sql.ResultSet rs = s.executeQuery()) {
                assertTrue(rs.next(), "no row for " + id);
                return rs.getString(1);
            }
        }
    }

    private int update(String sql, String... values) throws Exception {
        try (Connection c = database.getConnection(); PreparedStatement s = c.prepareStatement(sql)) {
            for (int i = 0; i < values.length; i++) {
                s.setString(i + 1, values[i]);
            }
            return s.executeUpdate();
        }
    }
}
