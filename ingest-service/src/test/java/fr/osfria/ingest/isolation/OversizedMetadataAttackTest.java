package fr.osfria.ingest.isolation;

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
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Metadata a key holder can make unbounded (one 40,000-character value stopped all indexing) is refused at the
 * door with a 400 naming the limit, at upload and at update; metadata within the limits is accepted.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class OversizedMetadataAttackTest {

    private static byte[] text() {
        return ("Une note de service " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
    }

    private static String object(int keys, int valueChars) {
        return IntStream.range(0, keys).mapToObj(i -> "\"k" + i + "\":\"" + "v".repeat(valueChars) + "\"")
                .collect(Collectors.joining(",", "{\"department\":\"finance\",", "}"));
    }

    @Test
    void oversizedMetadataIsRefusedAtUploadAndUpdate() {
        refused("{\"department\":\"finance\",\"notes\":\"" + "x".repeat(40_000) + "\"}",
                "'metadata' value of 'notes' is 40000 characters; the limit is 2048");
        refused(object(64, 1), "'metadata' has 65 keys; the limit is 64");
        refused("{\"department\":\"finance\",\"" + "k".repeat(200) + "\":1}", "'metadata' keys are 1-128 characters");
        refused("{\"department\":\"finance\",\"a\":{\"b\":[\"" + "x".repeat(3_000) + "\"]}}", "'metadata' value of 'b' is 3000");
        refused("{\"department\":\"finance\",\"tags\":[" + IntStream.range(0, 300).mapToObj(String::valueOf)
                .collect(Collectors.joining(",")) + "]}", "'metadata' list 'tags' has 300 items");
        refused("{\"department\":\"finance\",\"a\":{\"b\":{\"c\":{\"d\":{\"e\":1}}}}}", "'metadata' nests deeper than 4 levels");
        refused(object(10, 2_000), "'metadata' is ");
        refused("{\"department\":\"" + "f".repeat(200) + "\"}", "'metadata' value of 'department' is 200 characters");

        String id = upload(TestKeys.FINANCE, "note.txt", text(), KB, object(20, 500)).statusCode(202)
                .extract().path("document_id");
        given().header("Authorization", TestKeys.bearer(TestKeys.FINANCE))
                .multiPart("file", "note.txt", text(), "application/octet-stream")
                .multiPart("metadata", "{\"department\":\"finance\",\"notes\":\"" + "x".repeat(40_000) + "\"}")
                .put("/v1/documents/" + id).then().statusCode(400)
                .body("error.message", startsWith("'metadata' value of 'notes' is 40000 characters"));
        get(TestKeys.FINANCE, id).statusCode(200).body("version", equalTo(1));
    }

    private static void refused(String metadata, String message) {
        upload(TestKeys.FINANCE, "note.txt", text(), KB, metadata).statusCode(400)
                .body("error.type", equalTo("invalid_request_error"))
                .body("error.message", startsWith(message));
    }
}
