package fr.osfria.ingest.security;

import static fr.osfria.ingest.IngestTestSupport.KB;
import static fr.osfria.ingest.IngestTestSupport.get;
import static fr.osfria.ingest.IngestTestSupport.row;
import static fr.osfria.ingest.IngestTestSupport.upload;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ExtractableResponse;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The attack: HR holds a file it suspects Finance has filed as confidential. It uploads the same bytes and reads
 * the answer: a 409 "identical document already exists", or a duplicate's id, would prove the file is there in a
 * document HR cannot see. And whoever reads the database could confirm a guessed file by its plain SHA-256.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class DuplicateProbeAttackTest {

    @Inject
    AgroalDataSource database;

    @Test
    void anotherDepartmentUploadingTheSameBytesLearnsNothingAndKeepsItsCopy() throws Exception {
        byte[] file = ("Projet de rachat, note confidentielle " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
        String secret = upload(TestKeys.FINANCE, "rachat.txt", file, KB, "{\"department\":\"finance\",\"confidential\":true}")
                .statusCode(202).extract().path("document_id");

        ExtractableResponse<Response> probe = upload(TestKeys.HR, "rachat.txt", file, KB, "{\"department\":\"hr\"}")
                .statusCode(202).header("X-Osfria-Duplicate", nullValue()).extract();
        String copy = probe.path("document_id");
        assertNotEquals(secret, copy, "HR got its own document, not a pointer to Finance's");
        get(TestKeys.HR, copy).statusCode(200).body("metadata.department", equalTo("hr"));
        get(TestKeys.HR, secret).statusCode(404);

        // the same bytes again, by a key that may read the first copy: that one is the duplicate
        upload(TestKeys.FINANCE, "encore.txt", file, KB, "{\"department\":\"finance\",\"confidential\":true}")
                .statusCode(200).header("X-Osfria-Duplicate", "true").body("document_id", equalTo(secret));
    }

    @Test
    void theDatabaseHoldsNoPlainHashToConfirmAGuessedFile() throws Exception {
        byte[] file = ("Plan social, liste nominative " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
        String secret = upload(TestKeys.FINANCE, "plan.txt", file, KB, "{\"department\":\"finance\",\"confidential\":true}")
                .statusCode(202).extract().path("document_id");
        String copy = upload(TestKeys.HR, "plan.txt", file, KB, "{\"department\":\"hr\"}").extract().path("document_id");
        String plainHash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(file));
        for (String id : copy == null ? new String[] {secret} : new String[] {secret, copy}) {
            String row = row(database, id);
            assertTrue(row.contains(id));
            assertFalse(row.toLowerCase().contains(plainHash), "the plain SHA-256 of the file is stored with " + id);
        }
    }
}
