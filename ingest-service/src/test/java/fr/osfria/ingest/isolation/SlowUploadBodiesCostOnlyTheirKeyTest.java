package fr.osfria.ingest.isolation;

import static fr.osfria.ingest.IngestTestSupport.KB;
import static fr.osfria.ingest.IngestTestSupport.rawAnswer;
import static fr.osfria.ingest.IngestTestSupport.upload;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.events.Topics;
import fr.osfria.ingest.document.service.UploadPlaces;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
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
 * A key holder opens as many uploads as it likes and sends their bodies slowly. The service used to receive and spool
 * every body to the end before counting the upload against the key's cap, so one key could hold any number of files
 * of up to the body limit in reception at once. An upload's place is now taken from its headers: past its key's cap
 * the next one is answered 429 before its body is read, other keys upload as before (the bodies still arriving do
 * not count against the replica's cap, which shares out work), the places come back once the slow clients leave,
 * and a key that may write nothing is answered 403 without its body being received at all.
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
            for (int i = 0; i < perKey - 1; i++) {
                trickling.add(trickle(TestKeys.HR, "POST /v1/documents"));
            }
            // a new version's body counts among them (any id: the place is taken before the document is looked up)
            trickling.add(trickle(TestKeys.HR, "PUT /v1/documents/" + UUID.randomUUID()));
            await("the slow uploads hold their key's places").atMost(Duration.ofSeconds(10))
                    .until(() -> places.inProgress("test-hr") == perKey);
            // they hold none of the replica's work: other keys' uploads are not held to one at a time by them
            assertEquals(0, places.inProgress(), "bodies still arriving are no work of the replica's");
            assertEquals(perKey, places.receiving());

            try (Socket oneMore = trickle(TestKeys.HR, "POST /v1/documents")) {
                String answer = rawAnswer(oneMore.getInputStream());
                assertTrue(answer.startsWith("HTTP/1.1 429"), "past the key's cap, before the body: " + answer);
                assertTrue(answer.toLowerCase().contains("retry-after: 1"), answer);
                assertTrue(answer.contains("\"too_many_uploads\""), answer);
            }
            // a client that sends its whole body before reading (Python's http.client does) reads the 429 too
            String answer = sendWhole(TestKeys.HR, new byte[4 * 1024 * 1024]);
            assertTrue(answer.startsWith("HTTP/1.1 429"), answer);
            // another key is not held up by them
            upload(TestKeys.FINANCE, "note-" + UUID.randomUUID() + ".txt", "Une note des finances.".getBytes(StandardCharsets.UTF_8),
                    KB, "{\"department\":\"finance\"}").statusCode(202);
        } finally {
            for (Socket s : trickling) {
                s.close();
            }
        }
        // the clients left mid-body: their places come back
        await("the places of the clients that left come back").atMost(Duration.ofSeconds(10))
                .until(() -> places.inProgress("test-hr") == 0 && places.receiving() == 0);
        upload(TestKeys.HR, "note-" + UUID.randomUUID() + ".txt", "Une note des RH.".getBytes(StandardCharsets.UTF_8), KB,
                "{\"department\":\"hr\"}").statusCode(202);
    }

    /**
     * A key that may write no collection held its places and had its bodies received and spooled, to be answered 403
     * once they had arrived; it is answered from its headers now, audited, and holds no place.
     */
    @Test
    void aKeyThatMayWriteNothingIsAnsweredFromItsHeaders() throws Exception {
        try (TopicProbe audit = TopicProbe.open(Topics.AUDIT);
             Socket refused = trickle(TestKeys.READER, "POST /v1/documents")) {
            String answer = rawAnswer(refused.getInputStream());
            assertTrue(answer.startsWith("HTTP/1.1 403"), "before its body: " + answer);
            assertTrue(answer.contains("may not write to any collection"), answer);
            String record = audit.await(r -> r.value().contains("\"test-reader\"") && r.value().contains("document.upload")
                    && r.value().contains("may write no collection"), Duration.ofSeconds(20)).value();
            assertTrue(record.contains("\"denied\""), record);
        }
        try (Socket refused = trickle(TestKeys.READER, "PUT /v1/documents/" + UUID.randomUUID())) {
            assertTrue(rawAnswer(refused.getInputStream()).startsWith("HTTP/1.1 403"), "a new version as well");
        }
        assertEquals(0, places.inProgress("test-reader"), "no place held");
    }

    /**
     * Malformed multipart bodies answered 500 with an error logged, as if the service had failed: they are the
     * client's, answered 400, and give their places back.
     */
    @Test
    void malformedFormsAre400AndGiveTheirPlacesBack() throws Exception {
        String[] malformed = {
            "not a multipart form", // ends before its closing boundary
            "--slow\r\nContent-Disposition form-data name=file\r\n\r\nx\r\n--slow--\r\n", // a part header without its colon
            "--slow\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n"
                    + "Content-Transfer-Encoding: base64\r\n\r\n!!!!not base64!!!!\r\n--slow--\r\n",
            "--slow\r\nContent-Disposition: form-data; name=\"collection\"\r\nContent-Type: text/plain; charset=bogus\r\n\r\n"
                    + "knowledge-base\r\n--slow--\r\n", // a text part in a charset nobody knows
        };
        for (String body : malformed) {
            String answer = sendWhole(TestKeys.HR, body.getBytes(StandardCharsets.US_ASCII));
            assertTrue(answer.startsWith("HTTP/1.1 400"), body + " -> " + answer);
            assertTrue(answer.contains("not a well-formed multipart/form-data form"), answer);
        }
        await("every place given back").atMost(Duration.ofSeconds(10)).until(() -> places.inProgress("test-hr") == 0);
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

    /** An upload ({@code request}: method and path) of 8 MiB announced, its headers and first 64 KiB sent, the rest never. */
    private Socket trickle(String key, String request) throws IOException {
        Socket socket = new Socket("127.0.0.1", base.getPort());
        socket.setSoTimeout(5_000);
        OutputStream out = socket.getOutputStream();
        out.write((request + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + TestKeys.bearer(key) + "\r\n"
                + "Content-Type: multipart/form-data; boundary=slow\r\nContent-Length: " + ANNOUNCED + "\r\n\r\n"
                + "--slow\r\nContent-Disposition: form-data; name=\"collection\"\r\n\r\n" + KB + "\r\n"
                + "--slow\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.txt\"\r\n"
                + "Content-Type: text/plain\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(new byte[64 * 1024]);
        out.flush();
        return socket;
    }
}
