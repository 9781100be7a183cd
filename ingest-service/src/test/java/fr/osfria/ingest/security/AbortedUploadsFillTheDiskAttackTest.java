package fr.osfria.ingest.security;

import static fr.osfria.ingest.IngestTestSupport.KB;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import fr.osfria.ingest.blob.OrphanFileSweeper;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.vertx.VertxContextSupport;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A key holder who may upload sends uploads and hangs up (connection reset) before the answer, or in the middle of
 * the body, again and again. The request's chain was cancelled when the connection closed, between writing the
 * original and committing its row: each such upload left a file that no document references, which nobody can see
 * or delete, so aborted uploads filled the disk; and a body cut short stays in the uploads directory for good. Each
 * upload read whole now either becomes a document or leaves nothing, and cut bodies are swept.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class AbortedUploadsFillTheDiskAttackTest {

    private static final Path BLOBS = Path.of("target/test-data/blobs");
    private static final Path UPLOADS = Path.of("target/test-data/uploads");

    @TestHTTPResource("/")
    URL base;

    @Inject
    AgroalDataSource database;

    @Inject
    OrphanFileSweeper sweeper;

    @Test
    void uploadsAbandonedBeforeTheAnswerLeaveNoFileWithoutItsDocument() throws Exception {
        Set<String> before = storedFiles();
        long answered = answerMillis(body(1_500_000));
        for (int i = 0; i < 40; i++) {
            byte[] body = body(1_500_000);
            // the whole body, then a reset at a different moment of the answer's time each time: while the bytes are
            // read, hashed, stored, recorded
            send(body, body.length, answered * i / 30);
        }
        await().atMost(Duration.ofSeconds(60)).during(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(200))
                .untilAsserted(() -> assertEquals(Set.of(), unreferenced(before), "files no document references"));
    }

    /**
     * The HTTP layer (Quarkus REST) never removes the spooled body of a connection reset mid-upload; the request-body
     * sweep does, once it has not been written for {@code file-sweep.body-grace} (2 s here, 10 min by default).
     */
    @Test
    void uploadsCutMidBodyLeaveNothing() throws Throwable {
        Set<String> blobsBefore = storedFiles();
        Set<String> uploadsBefore = uploadFiles();
        for (int i = 0; i < 10; i++) {
            byte[] body = body(1_500_000);
            send(body, body.length / 2, 50);
        }
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            VertxContextSupport.subscribeAndAwait(() -> sweeper.sweepBodies());
            Set<String> left = uploadFiles();
            left.removeAll(uploadsBefore);
            assertEquals(Set.of(), left, "request bodies left in the uploads directory");
        });
        assertEquals(Set.of(), unreferenced(blobsBefore), "files no document references");
    }

    /** A multipart upload of a unique text file of about {@code size} bytes to the knowledge base, as finance. */
    private static byte[] body(int size) {
        String boundary = "attack";
        StringBuilder text = new StringBuilder("Note " + UUID.randomUUID() + ". ");
        while (text.length() < size) {
            text.append("Le remboursement des frais de mission suit la procédure habituelle du service. ");
        }
        return ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"collection\"\r\n\r\n" + KB + "\r\n"
                + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{\"department\":\"finance\"}\r\n"
                + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"note.txt\"\r\n"
                + "Content-Type: text/plain\r\n\r\n" + text + "\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8);
    }

    /** How long an upload of this body takes to be answered, in milliseconds (at least 1). */
    private long answerMillis(byte[] body) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", base.getPort())) {
            long start = System.nanoTime();
            socket.getOutputStream().write(headers(body.length));
            socket.getOutputStream().write(body);
            socket.getOutputStream().flush();
            if (socket.getInputStream().read() < 0) {
                throw new IOException("no answer");
            }
            return Math.max(1, (System.nanoTime() - start) / 1_000_000);
        }
    }

    private static byte[] headers(int length) {
        return ("POST /v1/documents HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + TestKeys.bearer(TestKeys.FINANCE)
                + "\r\nContent-Type: multipart/form-data; boundary=attack\r\nContent-Length: " + length + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
    }

    /** Sends the headers and {@code length} bytes of the body, waits {@code millis}, then resets the connection. */
    private void send(byte[] body, int length, long millis) throws IOException, InterruptedException {
        try (Socket socket = new Socket("127.0.0.1", base.getPort())) {
            socket.setSoLinger(true, 0); // close with a reset, as a client that gives up does
            OutputStream out = socket.getOutputStream();
            out.write(headers(body.length));
            out.write(body, 0, length);
            out.flush();
            Thread.sleep(millis);
        }
    }

    /** The stored files ({@code <document>/v<n>}) not in {@code before} that no document row references. */
    private Set<String> unreferenced(Set<String> before) throws Exception {
        Set<String> files = storedFiles();
        files.removeAll(before);
        Set<String> left = new TreeSet<>(files);
        try (Connection c = database.getConnection();
             PreparedStatement s = c.prepareStatement("SELECT blob_key FROM document WHERE blob_key = ANY (?)")) {
            s.setArray(1, c.createArrayOf("text", files.toArray()));
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    left.remove(rs.getString(1));
                }
            }
        }
        return left;
    }

    private static Set<String> storedFiles() throws IOException {
        Set<String> keys = new HashSet<>();
        if (!Files.isDirectory(BLOBS)) {
            return keys;
        }
        try (Stream<Path> files = Files.walk(BLOBS, 2)) {
            files.filter(Files::isRegularFile)
                    .forEach(f -> keys.add(f.getParent().getFileName() + "/" + f.getFileName()));
        } catch (java.io.UncheckedIOException e) {
            return storedFiles(); // a file removed while listed: list again
        }
        return keys;
    }

    private static Set<String> uploadFiles() throws IOException {
        if (!Files.isDirectory(UPLOADS)) {
            return new HashSet<>();
        }
        try (Stream<Path> files = Files.list(UPLOADS)) {
            return new HashSet<>(files.map(f -> f.getFileName().toString()).toList());
        }
    }
}
