package fr.osfria.ingest.isolation;

import static fr.osfria.ingest.IngestTestSupport.KB;
import static fr.osfria.ingest.IngestTestSupport.rawAnswer;
import static fr.osfria.ingest.IngestTestSupport.upload;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.ingest.document.service.UploadPlaces;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/**
 * A key holder (here one that may upload nothing at all) opens as many uploads as it likes and sends their bodies
 * slowly: the service received and spooled every body to the end before counting the upload against the key's
 * cap, so one key could hold any number of files of up to the body limit in reception at once. An upload's place
 * is now taken from its headers: past its key's cap the next one is answered 429 before its body is read, other
 * keys upload as before, and the places come back once the slow clients leave.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class SlowUploadBodiesCostOnlyTheirKeyTest {

    private static final int ANNOUNCED = 8 * 1024 * 1024;

    @ConfigProperty(name = "osfria.ingest.uploads.per-key", defaultValue = "16")
    int perKey;

    @Inject
    UploadPlaces places;

    @TestHTTPResource("/")
    URL base;

    @Test
    void uploadsPastTheKeysCapAreRefusedBeforeTheirBodiesAndTheirPlacesComeBackWhenTheyLeave() throws Exception {
        List<Socket> trickling = new ArrayList<>();
        try {
            for (int i = 0; i < perKey; i++) {
                trickling.add(trickle(TestKeys.READER));
            }
            await("the slow uploads hold their key's places").atMost(Duration.ofSeconds(10))
                    .until(() -> places.inProgress("test-reader") == perKey);

            try (Socket oneMore = trickle(TestKeys.READER)) {
                String answer = rawAnswer(oneMore.getInputStream());
                assertTrue(answer.startsWith("HTTP/1.1 429"), "past the key's cap, before the body: " + answer);
                assertTrue(answer.toLowerCase().contains("retry-after: 1"), answer);
                assertTrue(answer.contains("\"too_many_uploads\""), answer);
            }
            // a client that sends its whole body before reading (Python's http.client does) reads the 429 too
            String answer = sendWhole(TestKeys.READER, new byte[4 * 1024 * 1024]);
            assertTrue(answer.startsWith("HTTP/1.1 429"), answer);
            // another key is not held up by them
            upload(TestKeys.HR, "note-" + UUID.randomUUID() + ".txt", "Une note des RH.".getBytes(StandardCharsets.UTF_8),
                    KB, "{\"department\":\"hr\"}").statusCode(202);
        } finally {
            for (Socket s : trickling) {
                s.close();
            }
        }
        // the clients left mid-body: their places come back, and the key is answered on its rights again
        await("the places of the clients that left come back").atMost(Duration.ofSeconds(10))
                .until(() -> places.inProgress("test-reader") == 0);
        upload(TestKeys.READER, "note.txt", "Une note.".getBytes(StandardCharsets.UTF_8), KB, "{\"department\":\"hr\"}")
                .statusCode(403);
        // a body that is no multipart form at all is refused as such (it was a 500), and gives its place back too
        String answer = sendWhole(TestKeys.READER, "not a multipart form".getBytes(StandardCharsets.US_ASCII));
        assertTrue(answer.startsWith("HTTP/1.1 400"), answer); // the form ends before its closing boundary: not a 500
        assertTrue(answer.contains("not a complete multipart/form-data form"), answer);
        await("every place given back").atMost(Duration.ofSeconds(10)).until(() -> places.inProgress("test-reader") == 0);
    }

    /** An upload whose whole body is sent before its answer is read, as Python's http.client does. */
    private String sendWhole(String key, byte[] body) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", base.getPort())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/documents HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + TestKeys.bearer(key)
                    + "\r\nContent-Type: multipart/form-data; boundary=slow\r\nContent-Length: " + body.length
                    + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            return rawAnswer(socket.getInputStream());
        }
    }

    /** An upload of 8 MiB announced, its headers and its first 64 KiB sent, the rest never. */
    private Socket trickle(String key) throws IOException {
        Socket socket = new Socket("127.0.0.1", base.getPort());
        socket.setSoTimeout(5_000);
        OutputStream out = socket.getOutputStream();
        out.write(("POST /v1/documents HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + TestKeys.bearer(key) + "\r\n"
                + "Content-Type: multipart/form-data; boundary=slow\r\nContent-Length: " + ANNOUNCED + "\r\n\r\n"
                + "--slow\r\nContent-Disposition: form-data; name=\"collection\"\r\n\r\n" + KB + "\r\n"
                + "--slow\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.txt\"\r\n"
                + "Content-Type: text/plain\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(new byte[64 * 1024]);
        out.flush();
        return socket;
    }
}
