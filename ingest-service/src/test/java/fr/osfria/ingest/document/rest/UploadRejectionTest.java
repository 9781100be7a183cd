package fr.osfria.ingest.document.rest;

import static fr.osfria.ingest.IngestTestSupport.KB;
import static fr.osfria.ingest.IngestTestSupport.get;
import static fr.osfria.ingest.IngestTestSupport.upload;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;

import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Bad uploads get a clear 4xx; documents already accepted are untouched; the service carries on. */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class UploadRejectionTest {

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
