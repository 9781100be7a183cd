package fr.osfria.ingest.isolation;

import static fr.osfria.ingest.IngestTestSupport.KB;
import static fr.osfria.ingest.IngestTestSupport.number;
import static fr.osfria.ingest.IngestTestSupport.upload;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.ingest.blob.BlobStore;
import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.key.KeyRegistry;
import fr.osfria.security.key.KeysCli;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.time.Duration;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A key with write rights used to store as much as it liked: one key could fill the disk every other key's documents
 * are stored on. Each key now has a storage quota (here 64 KiB for this key, {@code osfria.ingest.storage.keys}; a
 * document costs its size and its metadata): an upload or a new version past it is answered 507 and leaves nothing
 * stored (a version refused once its file was written has the file removed at once, not an hour later by the orphan
 * sweep), its uploads at once cannot overshoot it together, and deleting a document makes room. Other keys are not
 * affected.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class StorageQuotaTest {

    static final String NAME = "storage-quota-test";
    static final String KEY;

    static {
        try {
            KEY = KeysCli.create(TestKeys.FILE, new KeyEntry(NAME, null, null, Set.of("user"), List.of(KB), List.of(KB),
                    List.of("finance"), false, null, null, null, null, null, null));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Inject
    AgroalDataSource database;

    @Inject
    KeyRegistry keys;

    @Inject
    BlobStore blobs;

    /** A text of {@code kib} KiB, different each time (no duplicate). */
    private static byte[] text(int kib) {
        StringBuilder text = new StringBuilder("Quota " + UUID.randomUUID() + "\n");
        while (text.length() < kib * 1024) {
            text.append("Une ligne de texte pour remplir le quota de stockage de cette cle.\n");
        }
        return text.substring(0, kib * 1024).getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aKeyStoresNoMoreThanItsQuotaEvenAtOnceAndDeletingMakesRoom() throws Exception {
        keys.reload(); // the key was added to the file after the service started (another test class's, maybe)
        String first = upload(KEY, "premier.txt", text(40), KB, "{\"department\":\"finance\"}").statusCode(202)
                .extract().path("document_id");

        // 40 of 64 KiB: another 40 does not fit; nothing of it is stored
        String refused = "refusé-" + UUID.randomUUID() + ".txt";
        upload(KEY, refused, text(40), KB, "{\"department\":\"finance\"}").statusCode(507)
                .body("error.code", equalTo("storage_quota_exceeded"))
                .body("error.type", equalTo("insufficient_quota"))
                .body("error.message", containsString("delete documents"));
        assertEquals(0, documentsNamed(refused));

        // four of 16 KiB at once, room for one: the key's uploads are counted one at a time
        List<CompletableFuture<Integer>> atOnce = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            String name = "ensemble-" + i + ".txt";
            atOnce.add(CompletableFuture.supplyAsync(() -> upload(KEY, name, text(16), KB, "{\"department\":\"finance\"}")
                    .extract().statusCode()));
        }
        List<Integer> statuses = atOnce.stream().map(CompletableFuture::join).sorted().toList();
        assertEquals(List.of(202, 507, 507, 507), statuses);
        assertEquals(56 * 1024, storedBy(NAME));

        // a new version of the first past the quota (40 KiB counted, 60 asked: 76 of 64) is refused, the document kept
        given().header("Authorization", TestKeys.bearer(KEY))
                .multiPart("file", "premier-v2.txt", text(60), "application/octet-stream")
                .put("/v1/documents/" + first).then().statusCode(507).body("error.code", equalTo("storage_quota_exceeded"));
        given().header("Authorization", TestKeys.bearer(KEY)).get("/v1/documents/" + first).then().statusCode(200)
                .body("version", equalTo(1)).body("filename", equalTo("premier.txt"));
        List<String> files = blobFiles(first);
        assertEquals(1, files.size(), "the refused version's file was left on disk: " + files);
        assertTrue(files.get(0).startsWith("v1-"), files.toString());
        // one that fits in place of the old content (40 given back, 47 asked: 63 of 64, metadata included) is taken
        given().header("Authorization", TestKeys.bearer(KEY))
                .multiPart("file", "premier-v2.txt", text(47), "application/octet-stream")
                .put("/v1/documents/" + first).then().statusCode(202);

        // another key is not held by this one's quota
        upload(TestKeys.FINANCE, "voisin.txt", text(40), KB, "{\"department\":\"finance\"}").statusCode(202);

        // deleting makes room
        given().header("Authorization", TestKeys.bearer(KEY)).delete("/v1/documents/" + first).then().statusCode(204);
        String after = upload(KEY, "apres.txt", text(40), KB, "{\"department\":\"finance\"}").statusCode(202)
                .extract().path("document_id");

        // a new version that fits when it is sent (56 taken, 40 given back, 44 asked) but no longer once its turn
        // comes, an upload of the key's committed meanwhile (played here by 20 KB more on its other document, while the
        // test holds the key's lock): refused in its transaction, once its file was written; the file goes at once
        try (Connection c = database.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement lock = c.prepareStatement("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))::text")) {
                lock.setString(1, "storage\n" + NAME);
                lock.execute();
            }
            CompletableFuture<Integer> version = CompletableFuture.supplyAsync(() -> given()
                    .header("Authorization", TestKeys.bearer(KEY))
                    .multiPart("file", "apres-v2.txt", text(44), "application/octet-stream")
                    .put("/v1/documents/" + after).then().extract().statusCode());
            await().atMost(Duration.ofSeconds(30)).until(() -> blobFiles(after).size() == 2
                    && number(database, "SELECT count(*) FROM pg_stat_activity WHERE wait_event = ?", "advisory") > 0);
            try (PreparedStatement grow = c.prepareStatement("UPDATE document SET size_bytes = size_bytes + 20000"
                    + " WHERE uploaded_by = ? AND filename LIKE 'ensemble-%'")) {
                grow.setString(1, NAME);
                assertEquals(1, grow.executeUpdate());
            }
            c.commit();
            assertEquals(507, version.get(30, TimeUnit.SECONDS));
        }
        List<String> left = blobFiles(after);
        assertEquals(1, left.size(), "the version refused in its transaction left its file: " + left);
        assertTrue(left.get(0).startsWith("v1-"), left.toString());
    }

    /** The files kept for a document: one per version stored. */
    private List<String> blobFiles(String id) throws IOException {
        try (var files = java.nio.file.Files.list(blobs.path(id))) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    private long storedBy(String key) throws Exception {
        return number(database, "SELECT coalesce(sum(size_bytes), 0) FROM document WHERE uploaded_by = ?", key);
    }

    private long documentsNamed(String filename) throws Exception {
        return number(database, "SELECT count(*) FROM document WHERE filename = ?", filename);
    }
}
