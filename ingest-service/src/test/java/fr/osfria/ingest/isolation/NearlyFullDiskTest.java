package fr.osfria.ingest.isolation;

import static fr.osfria.ingest.IngestTestSupport.KB;
import static fr.osfria.ingest.IngestTestSupport.number;
import static fr.osfria.ingest.IngestTestSupport.upload;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The volume the files are kept on nearly full (here: the service is told to keep more free than any disk has). On
 * one machine PostgreSQL and Kafka write to it too, and stop when it is full; the keys' quotas together may exceed
 * it. Uploads are refused, 507 {@code insufficient_storage}, before anything is written; reading goes on.
 */
@QuarkusTest
@TestProfile(NearlyFullDiskTest.KeepsMoreFreeThanAnyDisk.class)
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class NearlyFullDiskTest {

    public static class KeepsMoreFreeThanAnyDisk implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("osfria.ingest.storage.min-free", "1000T");
        }
    }

    @Inject
    AgroalDataSource database;

    @Test
    void uploadsAreRefusedBeforeAnythingIsWrittenAndReadingGoesOn() throws Exception {
        String name = "disque-plein-" + UUID.randomUUID() + ".txt";
        upload(TestKeys.FINANCE, name, ("Le disque est presque plein " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8),
                KB, "{\"department\":\"finance\"}").statusCode(507)
                .body("error.code", equalTo("insufficient_storage"))
                .body("error.message", containsString("nearly full"));
        assertEquals(0, number(database, "SELECT count(*) FROM document WHERE filename = ?", name),
                "the refused upload was recorded");

        given().header("Authorization", TestKeys.bearer(TestKeys.FINANCE)).queryParam("collection", KB)
                .get("/v1/documents").then().statusCode(200);
    }
}
