package fr.osfria.ingest.security;

import static fr.osfria.ingest.IngestTestSupport.KB;
import static fr.osfria.ingest.IngestTestSupport.rawAnswer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Someone without a key (or with a wrong or revoked one) sends uploads of 8 MiB and trickles their bodies: the 401
 * comes from the headers, before any byte of the body is read, and nothing is written to the uploads directory
 * (Quarkus checks the key first on every endpoint that needs one, {@code default-roles-allowed}); a client that sends
 * its whole body before reading reads the 401 all the same. A guard: this held before it was written, and must stay so.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class UnknownCallersBodiesAttackTest {

    private static final Path UPLOADS = Path.of("target/test-data/uploads");
    private static final int ANNOUNCED = 8 * 1024 * 1024;

    @TestHTTPResource("/")
    URL base;

    @Test
    void anUploadWithoutAValidKeyIsRefusedBeforeItsBodyIsRead() throws Exception {
        Set<String> before = uploadFiles();
        for (String authorization : new String[] {null, "Bearer sk-osfria-not-a-key-of-this-platform-000000000000000",
                "Basic dXNlcjpwYXNz", TestKeys.bearer(TestKeys.REVOKED)}) {
            try (Socket socket = new Socket("127.0.0.1", base.getPort())) {
                socket.setSoTimeout(5_000);
                OutputStream out = socket.getOutputStream();
                out.write(("POST /v1/documents HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        + (authorization == null ? "" : "Authorization: " + authorization + "\r\n")
                        + "Content-Type: multipart/form-data; boundary=attack\r\nContent-Length: " + ANNOUNCED + "\r\n\r\n"
                        + "--attack\r\nContent-Disposition: form-data; name=\"collection\"\r\n\r\n" + KB + "\r\n"
                        + "--attack\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.txt\"\r\n"
                        + "Content-Type: text/plain\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(new byte[64 * 1024]); // then nothing: the rest of the 8 MiB never comes
                out.flush();
                String answer = rawAnswer(socket.getInputStream());
                assertTrue(answer.startsWith("HTTP/1.1 401"), authorization + ": " + answer);
                assertTrue(answer.toLowerCase().contains("www-authenticate: bearer"), answer);
                assertTrue(answer.contains(authorization == null ? "\"missing_api_key\"" : "\"invalid_api_key\""), answer);
            }
        }
        Set<String> written = uploadFiles();
        written.removeAll(before);
        assertEquals(Set.of(), written, "request bodies written to the uploads directory");
    }

    /**
     * A client that reads its answer only once it has sent the whole body (Python's http.client does) reads the 401,
     * not a reset connection, and the connection serves its next request.
     */
    @Test
    void aClientThatSendsItsWholeBodyFirstReadsThe401() throws Exception {
        byte[] body = new byte[4 * 1024 * 1024];
        try (Socket socket = new Socket("127.0.0.1", base.getPort())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/documents HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=attack"
                    + "\r\nContent-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            String answer = rawAnswer(socket.getInputStream());
            assertTrue(answer.startsWith("HTTP/1.1 401"), answer);
            out.write("GET /q/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            byte[] next = new byte[12];
            int read = 0;
            for (int n; read < next.length && (n = socket.getInputStream().read(next, read, next.length - read)) > 0; ) {
                read += n;
            }
            assertEquals("HTTP/1.1 200", new String(next, 0, read, StandardCharsets.US_ASCII), "the next request");
        }
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
