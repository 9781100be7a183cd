package fr.osfria.ingest.document.rest;

import static fr.osfria.ingest.IngestTestSupport.KB;
import static fr.osfria.ingest.IngestTestSupport.get;
import static fr.osfria.ingest.IngestTestSupport.upload;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;

import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.Arrays;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Bad uploads get a clear 4xx; documents already accepted are untouched; the service carries on. */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class UploadRejectionTest {

    private static final String NUL = String.valueOf((char) 0);

    @Inject
    AgroalDataSource database;

    private static byte[] text() {
        return ("Une note " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void badUploadsAreRefusedWithTheReason() {
        String kept = upload(TestKeys.FINANCE, "garde.txt", text(), KB, "{\"department\":\"finance\"}")
                .statusCode(202).extract().path("document_id");

        upload(TestKeys.FINANCE, "vide.txt", new byte[0], KB, null).statusCode(400).body("error.message", equalTo("the file is empty"));
        byte[] tooBig = new byte[8 * 1024 * 1024 + 10]; // the test limit is 8 MiB, the body's 9 MB
        Arrays.fill(tooBig, (byte) 'a');
        upload(TestKeys.FINANCE, "gros.txt", tooBig, KB, null).statusCode(413).body("error.code", equalTo("file_too_large"));
        upload(TestKeys.FINANCE, "enorme.txt", new byte[10 * 1024 * 1024], KB, null).statusCode(413);
        byte[] exe = new byte[512];
        exe[0] = 'M';
        exe[1] = 'Z';
        exe[60] = (byte) 0x80;
        System.arraycopy("PE\0\0".getBytes(StandardCharsets.ISO_8859_1), 0, exe, 0x80, 4);
        upload(TestKeys.FINANCE, "facture.pdf", exe, KB, null).statusCode(415)
                .body("error.message", startsWith("unsupported type application/x-"));
        upload(TestKeys.FINANCE, "a.txt", text(), KB, "{not json").statusCode(400).body("error.message", startsWith("'metadata' must be a JSON object"));
        upload(TestKeys.FINANCE, "a.txt", text(), KB, "[\"finance\"]").statusCode(400);
        upload(TestKeys.FINANCE, "a.txt", text(), null, null).statusCode(400).body("error.message", equalTo("'collection' is required"));
        upload(TestKeys.FINANCE, "a.txt", text(), "../../etc", null).statusCode(400);
        given().header("Authorization", TestKeys.bearer(TestKeys.FINANCE)).multiPart("collection", KB)
                .post("/v1/documents").then().statusCode(400).body("error.message", equalTo("the form has no 'file' part"));
        given().header("Authorization", TestKeys.bearer(TestKeys.FINANCE)).contentType("application/json").body("{}")
                .post("/v1/documents").then().statusCode(415);
        get(TestKeys.FINANCE, "doc_" + "f".repeat(24)).statusCode(404);
        get(TestKeys.FINANCE, "../../etc/passwd").statusCode(404);

        get(TestKeys.FINANCE, kept).statusCode(200).body("filename", equalTo("garde.txt"));
    }

    /**
     * A NUL character, which PostgreSQL text cannot hold: in a metadata value it was accepted (kept as JSON's escape in
     * the row's metadata, though not in the department's own column), in a file name silently dropped ("invoice.pdf" NUL ".exe" became
     * "invoice.pdf.exe"), and a lone surrogate stored as '?'. Each is a 400 naming the field, at upload and at a new
     * version, and nothing is stored. A collection that is no collection name is refused, and its refusal audited
     * (the name itself is not: the audit store could not hold it, and lost the refusal).
     */
    @Test
    void textADatabaseCannotHoldIsRefusedNamingTheField() throws Exception {
        String finance = "{\"department\":\"finance\"}";
        long before = count("SELECT count(*) FROM document");
        upload(TestKeys.FINANCE, "note.txt", text(), KB, "{\"department\":\"finance\",\"note\":\"a\\u0000b\"}")
                .statusCode(400).body("error.message", startsWith("'metadata' value of 'note' holds a NUL character"));
        upload(TestKeys.FINANCE, "note.txt", text(), KB, "{\"department\":\"finance\",\"tags\":[\"a\\u0000\"]}")
                .statusCode(400).body("error.message", startsWith("'metadata' value of 'tags' holds a NUL character"));
        upload(TestKeys.FINANCE, "note.txt", text(), KB, "{\"department\":\"finance\",\"note\":\"\\udc00\"}")
                .statusCode(400).body("error.message", startsWith("'metadata' value of 'note' holds a lone UTF-16 surrogate"));
        upload(TestKeys.FINANCE, "invoice.pdf" + NUL + ".exe", text(), KB, finance)
                .statusCode(400).body("error.message", startsWith("'filename' holds a NUL character"));
        String refusals = "SELECT count(*) FROM audit_record WHERE key_name = 'test-finance' AND outcome = 'invalid'"
                + " AND detail LIKE '''collection'' is 1-128%'";
        long refusedBefore = count(refusals);
        upload(TestKeys.FINANCE, "note.txt", text(), KB + NUL, finance)
                .statusCode(400).body("error.message", startsWith("'collection' is 1-128 letters"));
        assertEquals(before, count("SELECT count(*) FROM document"), "nothing stored");

        String id = upload(TestKeys.FINANCE, "note.txt", text(), KB, finance).statusCode(202).extract().path("document_id");
        given().header("Authorization", TestKeys.bearer(TestKeys.FINANCE))
                .multiPart("file", "note.txt", text(), "application/octet-stream")
                .multiPart("metadata", "{\"department\":\"finance\",\"note\":\"a\\u0000b\"}")
                .put("/v1/documents/" + id).then().statusCode(400)
                .body("error.message", startsWith("'metadata' value of 'note' holds a NUL character"));
        get(TestKeys.FINANCE, id).statusCode(200).body("version", equalTo(1));
        await().atMost(Duration.ofSeconds(60)).until(() -> count(refusals) == refusedBefore + 1);
    }

    private long count(String sql) throws Exception {
        try (Connection c = database.getConnection(); PreparedStatement s = c.prepareStatement(sql);
             ResultSet rs = s.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void hostileFileNamesAreMadeHarmless() {
        upload(TestKeys.FINANCE, "../../etc/passwd.txt", text(), KB, "{\"department\":\"finance\"}")
                .statusCode(202).body("filename", equalTo("passwd.txt"));
        upload(TestKeys.FINANCE, "rapport\u0007\u001b[31m.txt", text(), KB, "{\"department\":\"finance\"}")
                .statusCode(202).body("filename", equalTo("rapport[31m.txt"));
        String longName = "n".repeat(300) + ".txt";
        upload(TestKeys.FINANCE, longName, text(), KB, "{\"department\":\"finance\"}")
                .statusCode(202).body("filename", equalTo("n".repeat(251) + ".txt"));
    }
}
