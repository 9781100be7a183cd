package fr.osfria.ingest.isolation;

import static fr.osfria.ingest.IngestTestSupport.KB;
import static fr.osfria.ingest.IngestTestSupport.upload;
import static fr.osfria.ingest.isolation.SlowBlobWriteDelaysOnlyItsOwnUploadTest.FAILS;
import static fr.osfria.ingest.isolation.SlowBlobWriteDelaysOnlyItsOwnUploadTest.SLOW;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.ingest.isolation.SlowBlobWriteDelaysOnlyItsOwnUploadTest.SlowVolume;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ExtractableResponse;
import io.restassured.response.Response;
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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One key holder sending uploads in parallel (or slow-to-store ones) took every worker thread the uploads run on,
 * and every other key's uploads waited behind them. A key now has at most {@code uploads.per-key} uploads in
 * progress: past that it is answered 429 at once, while the other keys' uploads go on; and the places are given back
 * whatever becomes of an upload (refused, failed, its client gone), so a key is never locked out.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class UploadFloodCostsOnlyItsKeyTest {

    private static final Duration AT_ONCE = Duration.ofSeconds(5);

    @ConfigProperty(name = "osfria.ingest.uploads.per-key", defaultValue = "16")
    int perKey;

    @Inject
    MeterRegistry metrics;

    @TestHTTPResource("/")
    URL base;

    private final ExecutorService clients = Executors.newCachedThreadPool();

    @AfterEach
    void releaseTheVolume() {
        SlowVolume.release.countDown();
        clients.shutdownNow();
    }

    @Test
    void uploadsPastTheKeysCapAnswer429AtOnceWhileAnotherKeysAreAccepted() throws Exception {
        SlowVolume.release = new CountDownLatch(1);
        double refusedBefore = refusals("key_busy");
        int past = 3;
        List<Future<ExtractableResponse<Response>>> flood = new ArrayList<>();
        for (int i = 0; i < perKey + past; i++) {
            flood.add(clients.submit(() -> upload(TestKeys.FINANCE, "flood.txt", held(), KB, null).extract()));
        }
        // the cap's uploads are held in the store; exactly the ones past it are answered, at once
        await().atMost(Duration.ofSeconds(60)).until(() -> SlowVolume.STORING_SLOW.get() == perKey
                && flood.stream().filter(Future::isDone).count() == past);
        for (Future<ExtractableResponse<Response>> done : flood.stream().filter(Future::isDone).toList()) {
            ExtractableResponse<Response> refused = done.get();
            assertEquals(429, refused.statusCode(), refused.asString());
            assertEquals("1", refused.header("Retry-After"));
            assertEquals("rate_limit_error", refused.path("error.type"));
            assertEquals("too_many_uploads", refused.path("error.code"));
        }
        assertEquals(past, refusals("key_busy") - refusedBefore, 0.0, "refusals counted by reason");
        assertEquals(perKey, inProgress(), "the key's held uploads are in progress");
        given().get("/q/metrics").then().body(containsString("osfria_ingest_uploads_in_progress " + perKey + ".0"))
                .body(containsString("osfria_ingest_upload_refusals_total{reason=\"key_busy\""));

        // one more of that key's, not held: refused at once all the same
        long start = System.nanoTime();
        upload(TestKeys.FINANCE, "one-more.txt", unique("Une note de plus."), KB, null).statusCode(429);
        assertTrue(Duration.ofNanos(System.nanoTime() - start).compareTo(AT_ONCE) < 0, "answered at once");

        // another key is not held back by it
        upload(TestKeys.HR, "autre.txt", unique("Une note d'un autre service."), KB, null).statusCode(202);
        assertEquals(perKey, SlowVolume.STORING_SLOW.get(), "the flood was still being stored meanwhile");

        SlowVolume.release.countDown();
        for (Future<ExtractableResponse<Response>> held : flood.stream().filter(f -> !isRefused(f)).toList()) {
            assertEquals(202, held.get(60, TimeUnit.SECONDS).statusCode(), "a held upload is stored in the end");
        }
        // every place given back: the key uploads again
        upload(TestKeys.FINANCE, "après.txt", unique("Une note après la vague."), KB, null).statusCode(202);
        await().atMost(Duration.ofSeconds(10)).until(() -> inProgress() == 0);
    }

    /**
     * An upload used to hold a database connection from its start (its session opened before its place was even
     * taken) through its file's checks and storage: two keys' held uploads (new versions included) took every
     * connection of the pool (20), and every other request needing the database waited for one, a refusal too. Now
     * held uploads hold none: another key's list is answered, and a refusal at once, while they are held.
     */
    @Test
    void heldUploadsLeaveTheDatabaseToEveryoneElse() throws Exception {
        String hrDocument = upload(TestKeys.HR, "versions.txt", unique("Une note des RH à refaire."), KB, null)
                .statusCode(202).extract().path("document_id");
        SlowVolume.release = new CountDownLatch(1);
        List<Future<ExtractableResponse<Response>>> held = new ArrayList<>();
        for (int i = 0; i < perKey; i++) {
            held.add(clients.submit(() -> upload(TestKeys.FINANCE, "tenue.txt", held(), KB, null).extract()));
            held.add(clients.submit(() -> given().header("Authorization", TestKeys.bearer(TestKeys.HR))
                    .multiPart("file", "versions.txt", held(), "application/octet-stream")
                    .put("/v1/documents/" + hrDocument).then().extract()));
        }
        // before: the pool's 20 connections went to the first 20, the others waited for one, never reaching the store
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertEquals(2 * perKey, SlowVolume.STORING_SLOW.get(),
                "every held upload in the store (" + inProgress() + " in progress)"));

        Future<Integer> list = clients.submit(() -> given().header("Authorization", TestKeys.bearer(TestKeys.READER))
                .queryParam("collection", KB).get("/v1/documents").then().extract().statusCode());
        assertEquals(200, list.get(AT_ONCE.toSeconds(), TimeUnit.SECONDS), "another key's list, answered at once");
        Future<Integer> refused = clients.submit(() -> upload(TestKeys.FINANCE, "de-trop.txt", unique("De trop."), KB, null)
                .extract().statusCode());
        assertEquals(429, refused.get(AT_ONCE.toSeconds(), TimeUnit.SECONDS), "a refusal, answered at once");

        SlowVolume.release.countDown();
        for (Future<ExtractableResponse<Response>> upload : held) {
            assertEquals(202, upload.get(60, TimeUnit.SECONDS).statusCode(), "a held upload is stored in the end");
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> inProgress() == 0);
    }

    /**
     * Uploads refused as invalid (400, 413, 415) or denied (403), failed in the store (500), or whose client hangs up
     * while its file is being stored, more of them than the cap: none is ever answered 429, and the key uploads
     * again afterwards. A client that hangs up does not free its place while its upload's work goes on: that would
     * let it start uploads without bound.
     */
    @Test
    void everyUploadGivesItsPlaceBackWhateverBecomesOfIt() throws Exception {
        for (int i = 0; i < perKey + 2; i++) {
            int status = switch (i % 5) {
                case 0 -> upload(TestKeys.FINANCE, "sans-collection.txt", unique("Sans collection."), null, null)
                        .extract().statusCode();
                case 1 -> upload(TestKeys.FINANCE, "image.png", png(), KB, null).extract().statusCode();
                case 2 -> upload(TestKeys.FINANCE, "rh.txt", unique("Une note des RH."), KB, "{\"department\":\"hr\"}")
                        .extract().statusCode();
                case 3 -> upload(TestKeys.FINANCE, "panne.txt", (FAILS + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8),
                        KB, null).extract().statusCode();
                default -> upload(TestKeys.FINANCE, "gros.txt", new byte[8 * 1024 * 1024 + 1], KB, null)
                        .extract().statusCode();
            };
            assertNotEquals(429, status, "refused or failed uploads gave their place back (upload " + i + ")");
            assertTrue(status >= 400, "upload " + i + " was refused or failed: " + status);
        }
        assertEquals(0, inProgress());

        SlowVolume.release = new CountDownLatch(1);
        for (int i = 0; i < perKey; i++) {
            hangUpWhileStored(i + 1);
        }
        // their uploads are still being stored: their places are still held
        upload(TestKeys.FINANCE, "encore.txt", unique("Encore une."), KB, null).statusCode(429);
        SlowVolume.release.countDown();
        await().atMost(Duration.ofSeconds(60)).until(() -> inProgress() == 0);
        upload(TestKeys.FINANCE, "enfin.txt", unique("Enfin une note."), KB, null).statusCode(202);
    }

    /** Sends an upload held in the store, waits until {@code held} files are held, then resets the connection. */
    private void hangUpWhileStored(int held) throws IOException {
        String boundary = "flood";
        byte[] body = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"collection\"\r\n\r\n" + KB + "\r\n"
                + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"parti.txt\"\r\n"
                + "Content-Type: text/plain\r\n\r\n" + new String(held(), StandardCharsets.UTF_8) + "\r\n--" + boundary
                + "--\r\n").getBytes(StandardCharsets.UTF_8);
        try (Socket socket = new Socket("127.0.0.1", base.getPort())) {
            socket.setSoLinger(true, 0); // closed with a reset, as a client that gives up
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/documents HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + TestKeys.bearer(TestKeys.FINANCE)
                    + "\r\nContent-Type: multipart/form-data; boundary=" + boundary + "\r\nContent-Length: " + body.length
                    + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            await().atMost(Duration.ofSeconds(30)).until(() -> SlowVolume.STORING_SLOW.get() == held);
        }
    }

    private static boolean isRefused(Future<ExtractableResponse<Response>> upload) {
        try {
            return upload.isDone() && upload.get().statusCode() == 429;
        } catch (Exception e) {
            return false;
        }
    }

    /** A text file held in the store until the test releases it, unique (no duplicate of another). */
    private static byte[] held() {
        return (SLOW + "Note " + UUID.randomUUID() + " : le rapport annuel, long à écrire.").getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] unique(String text) {
        return (text + " " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] png() {
        byte[] png = new byte[64];
        System.arraycopy(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, 0, png, 0, 8);
        return png;
    }

    private double refusals(String reason) {
        var counter = metrics.find("osfria.ingest.upload.refusals").tag("reason", reason).counter();
        return counter == null ? 0 : counter.count();
    }

    private double inProgress() {
        var gauge = metrics.find("osfria.ingest.uploads.in.progress").gauge();
        return gauge == null ? -1 : gauge.value();
    }
}
