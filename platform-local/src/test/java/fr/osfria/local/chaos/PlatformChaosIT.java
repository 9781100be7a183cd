package fr.osfria.local.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.local.e2e.LaunchedPlatform;
import fr.osfria.local.e2e.PlatformApi;
import fr.osfria.local.e2e.SharedPlatform;
import fr.osfria.testing.LoadAverage;
import fr.osfria.testing.OpenAiSimulator;
import fr.osfria.testing.Ports;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.common.GroupState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The chaos suite of issue 14, on the real local platform the ITs share ({@link SharedPlatform}: started as
 * {@code ./osfria up} does, with two OpenAI simulators as the router's backends). Each scenario asserts no loss, no
 * duplicate, nothing stuck, and prints one {@code CHAOS} line with its figures. To keep the suite within its budget,
 * scenarios overlap where they cannot disturb what the other proves: the webhook receiver's 60 s downtime runs under
 * a and b (it receives their {@code document.indexed} events), and the chat load (e) runs beside c (the router needs
 * no database).
 *
 * <p>It kills the platform's processes and ends with Ctrl-C, so it runs after every other IT of the module
 * ({@code @Order(Integer.MAX_VALUE)}, see {@code junit-platform.properties}).
 */
@Order(Integer.MAX_VALUE)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PlatformChaosIT {

    private static final String MODEL = SharedPlatform.MODELS.get(0);

    private static SharedPlatform shared;
    private static Path data;
    private static LaunchedPlatform platform;
    private static PlatformApi api;
    private static int entryPort;
    private static OpenAiSimulator first;
    private static OpenAiSimulator second;
    private static WebhookReceiver receiver;
    private static long receiverDownAt;
    private static volatile long receiverUpAt;
    private static final java.util.concurrent.ScheduledExecutorService receiverUp = Executors.newSingleThreadScheduledExecutor();
    /** Blob directories without a document right after a (its SIGKILLs mid-upload leave some; the sweep removes them). */
    private static Set<String> orphansAfterA = Set.of();
    /** e.'s chat load, started by c (beside it), asserted by e's test. */
    private static volatile java.util.concurrent.CompletableFuture<ChatFigures> chatRun;
    /** Every document accepted by any scenario: each must be announced to the receiver exactly once. */
    private static final Set<String> accepted = ConcurrentHashMap.newKeySet();

    @BeforeAll
    static void up() throws Exception {
        shared = SharedPlatform.get();
        data = shared.dataDir();
        platform = shared.launched();
        api = shared.adminApi();
        entryPort = shared.entryPort();
        first = shared.firstBackend();
        second = shared.secondBackend();
        Stream.of(first, second).forEach(OpenAiSimulator::reset); // whatever an earlier IT switched on
        receiver = new WebhookReceiver(Ports.block(1));
        System.out.printf("CHAOS platform up in %d s%n", shared.upSeconds());

        // d. the receiver is down from the start; it comes back 60 s later (see webhookReceiverDownFor60s)
        HttpResponse<String> subscribed = api.post("/v1/webhooks", new JsonObject().put("url", receiver.url())
                .put("events", List.of("document.indexed")).put("secret", "chaos-secret-0123456789").encode());
        assertEquals(201, subscribed.statusCode(), subscribed.body());
        receiverDownAt = System.nanoTime();
        receiverUp.schedule(() -> {
            receiver.up();
            receiverUpAt = System.nanoTime();
            return null;
        }, 60, TimeUnit.SECONDS);
    }

    private long testStart;

    @org.junit.jupiter.api.BeforeEach
    void startClock() {
        testStart = System.nanoTime();
    }

    /** Where the suite's time goes, scenario by scenario. */
    @org.junit.jupiter.api.AfterEach
    void stopClock(org.junit.jupiter.api.TestInfo test) {
        System.out.printf("CHAOS time %s: %.1f s (load %s)%n", test.getTestMethod().map(m -> m.getName()).orElse("?"),
                seconds(Duration.ofNanos(System.nanoTime() - testStart)), LoadAverage.now());
    }

    @AfterAll
    static void down() throws IOException {
        receiverUp.shutdownNow();
        if (platform != null) {
            // the platform's terminal, for whoever reads a failure (SharedPlatform stops it if the suite did not)
            Files.write(Path.of("target/PlatformChaosIT-platform.log"), platform.lines());
        }
        if (receiver != null) {
            receiver.close();
        }
    }

    /** a. 300 uploads while ingest-service, then embed-service, are killed with SIGKILL. */
    @Test
    @Order(1)
    void uploadsSurviveIngestAndEmbedKilledWithSigkill() throws Exception {
        ExecutorService clients = Executors.newFixedThreadPool(6);
        PlatformApi.Answers answers = new PlatformApi.Answers();
        List<String> ids = new CopyOnWriteArrayList<>();
        AtomicInteger done = new AtomicInteger();
        long start = System.nanoTime();
        List<Future<?>> uploads = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            int n = i;
            uploads.add(clients.submit(() -> {
                String id = api.upload("chaos-a", "a-" + n + ".txt", text("a", n), answers, Duration.ofSeconds(180));
                if (id != null) {
                    ids.add(id);
                }
                done.incrementAndGet();
                return null;
            }));
        }
        awaitCount(done, 60);
        Set<String> ingestMembers = groupMembers("ingest-service");
        Duration ingestBack = killAndAwaitReady("ingest-service");
        Duration ingestConsuming = untilGroupWithout("ingest-service", ingestMembers);
        assertTrue(platform.lines().stream().anyMatch(l -> l.contains("osfria: ingest-service exited (code 137); restarting it in 1 s")),
                "the terminal says so in one line:\n" + platform.tail(40));
        awaitCount(done, 180);
        Set<String> embedMembers = groupMembers("embed-service");
        Duration embedBack = killAndAwaitReady("embed-service");
        Duration embedConsuming = untilGroupWithout("embed-service", embedMembers);
        for (Future<?> upload : uploads) {
            upload.get(5, TimeUnit.MINUTES);
        }
        clients.shutdown();
        accepted.addAll(ids);
        long uploaded = System.nanoTime();
        Check check = awaitIndexedOnce("chaos-a", ids, Duration.ofSeconds(240));
        orphansAfterA = orphanBlobs();
        System.out.printf("CHAOS a. kill ingest+embed: %d uploads accepted (answers %s), ingest-service ready again %.1f s after"
                        + " SIGKILL (its partitions back %.1f s after it was ready), embed-service %.1f s (%.1f s); all"
                        + " uploaded %.1f s and all %d indexed %.1f s after the first upload; %d chunks in the index,"
                        + " duplicates %d, documents in the collection %d, blobs without a document (for the sweep) %d%n",
                ids.size(), answers, seconds(ingestBack), seconds(ingestConsuming), seconds(embedBack), seconds(embedConsuming),
                seconds(Duration.ofNanos(uploaded - start)), check.indexed, seconds(Duration.ofNanos(check.at - start)), check.chunks,
                check.duplicates, check.documents, orphansAfterA.size());
        assertEquals(300, ids.size(), "every upload accepted: " + answers);
        assertEquals(0, answers.get("500"), answers + errorsInLogs(answers));
        check.assertClean(300);
        // a killed consumer's partitions wait for its session to run out (10 s from the kill) before the restarted
        // service gets them: with Kafka's default 45 s each sat ready and idle for half a minute
        assertTrue(ingestConsuming.toSeconds() < 10, "ingest-service got its partitions " + seconds(ingestConsuming)
                + " s after it was ready");
        assertTrue(embedConsuming.toSeconds() < 10, "embed-service got its partitions " + seconds(embedConsuming)
                + " s after it was ready");
    }

    /**
     * The README's run command, before any fault: every service answers through the one entry port (and its own
     * endpoints only on its loopback port), keys are required, and a user's first upload is indexed and found.
     */
    @Test
    @Order(-1)
    void upServesEveryServiceThroughOneEntryPort() throws Exception {
        HttpResponse<String> health = api.get("/q/health");
        assertEquals(200, health.statusCode(), health.body());
        HttpClient http = api.client();
        for (fr.osfria.local.LocalSettings.Service service : fr.osfria.local.LocalSettings.SERVICES) {
            assertTrue(health.body().contains("{\"name\":\"" + service.name() + "\",\"status\":\"UP\"}"), health.body());
            assertEquals(200, http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + (entryPort + service.portOffset())
                    + "/q/health/ready")).build(), HttpResponse.BodyHandlers.discarding()).statusCode(), service.name());
            assertEquals(404, api.get("/" + service.name() + "/q/health/ready").statusCode(), service.name());
        }
        assertEquals(200, api.get("/v1/models").statusCode());
        assertEquals(401, http.send(HttpRequest.newBuilder(URI.create(api.url() + "/v1/models")).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode());
        assertEquals(404, api.get("/v1/documents/doc_missing").statusCode());
        assertEquals(404, api.get("/nowhere").statusCode());

        PlatformApi.Answers answers = new PlatformApi.Answers();
        String id = api.upload("guides", "frais.txt", "La procédure de remboursement des frais : remplir le formulaire.",
                answers, Duration.ofSeconds(60));
        assertNotNull(id, answers.toString());
        accepted.add(id);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        String status = "";
        while (!status.contains("\"status\":\"indexed\"") && System.nanoTime() < deadline) {
            Thread.sleep(500);
            status = api.get("/v1/documents/" + id).body();
        }
        assertTrue(status.contains("\"status\":\"indexed\""), "not indexed in time: " + status);
        HttpResponse<String> found = api.post("/v1/search", "{\"query\":\"rembourser mes frais\",\"collection\":\"guides\"}");
        assertEquals(200, found.statusCode(), found.body());
        assertTrue(found.body().contains("\"document_id\":\"" + id + "\""), found.body());
    }

    /**
     * Ctrl-C leaves no process behind, and a second start ({@code up --detach}) finds its data: the key file, not a new
     * admin key; {@code status} lists its processes. Then its launcher is killed with SIGKILL: {@code status} says its
     * processes run without it, and {@code down} stops every one of them and frees the ports.
     */
    @Test
    @Order(99)
    void ctrlCStopsEverythingAndASecondStartKeepsItsData() throws Exception {
        List<ProcessHandle> children = platform.descendants();
        assertTrue(children.size() >= 6, "expected Kafka and five services, saw " + children.size());
        String certificate = appsListenerCertificate(data);
        long interrupted = System.nanoTime();
        assertTrue(platform.interrupt(90), "the platform did not stop within 90 s:\n" + platform.tail(40));
        double stopSeconds = seconds(Duration.ofNanos(System.nanoTime() - interrupted));
        Thread.sleep(500);
        assertTrue(children.stream().noneMatch(ProcessHandle::isAlive), "a process of the platform still runs after Ctrl-C");
        assertTrue(platform.postmaster().isEmpty(), "PostgreSQL still runs after Ctrl-C");

        // the second start in the background, as `./osfria up --detach`, stopped by `./osfria down`
        long started = System.nanoTime();
        fr.osfria.local.e2e.OsfriaCommand.Result up = fr.osfria.local.e2e.OsfriaCommand.run(data, shared.env(), 300, "up", "--detach");
        try {
            double upSeconds = seconds(Duration.ofNanos(System.nanoTime() - started));
            assertEquals(0, up.code(), "up --detach returns once the platform is up:\n" + up.output());
            assertTrue(up.output().contains("Osfria is up at") && up.output().contains("runs in the background"), up.output());
            assertFalse(up.output().contains("Admin API key"), "the admin key is shown on the first start only:\n" + up.output());
            assertEquals(200, api.get("/v1/models").statusCode(), "the key file survived the restart");
            // the Kafka listener's certificate too: the applications' printed settings still hold
            assertEquals(certificate, appsListenerCertificate(data), "the APPS listener's certificate survived the restart");
            assertFalse(up.output().contains("Kafka TLS:"), "nothing made again at a restart:\n" + up.output());
            fr.osfria.local.e2e.OsfriaCommand.Result status = fr.osfria.local.e2e.OsfriaCommand.run(data, shared.env(), 60, "status");
            assertEquals(0, status.code(), status.output());
            List<ProcessHandle> itsProcesses = status.output().lines().filter(l -> l.matches("\\S+( port)?\\s+up\\s+\\d+\\s+\\d+\\s.*"))
                    .map(l -> ProcessHandle.of(Long.parseLong(l.replaceFirst("entry port", "entry-port").split("\\s+")[3])))
                    .flatMap(java.util.Optional::stream).toList();
            assertEquals(8, itsProcesses.size(), "PostgreSQL, Kafka, five services, the launcher:\n" + status.output());

            // the launcher killed with SIGKILL (a person's kill -9, an OOM kill): its seven children run on without it;
            // status must say so and down must stop them from their records (ChildRecords). The same with stand-in
            // processes, and down of a live launcher: LauncherKilledChaosTest
            long launcherPid = launcherPid(data);
            ProcessHandle launcher = ProcessHandle.of(launcherPid).orElseThrow();
            List<ProcessHandle> left = itsProcesses.stream().filter(p -> p.pid() != launcherPid).toList();
            assertEquals(7, left.size(), "the launcher is one of the processes status lists:\n" + status.output());
            LaunchedPlatform.sigkill(launcher);
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !launcher.isAlive());
            assertTrue(left.stream().allMatch(ProcessHandle::isAlive), "the children outlive a killed launcher");
            fr.osfria.local.e2e.OsfriaCommand.Result orphans = fr.osfria.local.e2e.OsfriaCommand.run(data, shared.env(), 60, "status");
            assertEquals(1, orphans.code(), orphans.output());
            assertTrue(orphans.output().contains("launcher is not running (was it killed?), but 7 of its processes still run"),
                    orphans.output());
            interrupted = System.nanoTime();
            fr.osfria.local.e2e.OsfriaCommand.Result down = fr.osfria.local.e2e.OsfriaCommand.run(data, shared.env(), 150, "down");
            double downSeconds = seconds(Duration.ofNanos(System.nanoTime() - interrupted));
            System.out.printf("CHAOS restart: Ctrl-C stopped the platform in %.1f s, the second start (--detach) was up in"
                    + " %.1f s; its launcher killed with SIGKILL, `down` stopped the seven processes it left in %.1f s%n",
                    stopSeconds, upSeconds, downSeconds);
            assertEquals(0, down.code(), down.output());
            assertTrue(down.output().contains("The launcher is gone") && down.output().contains("its ports are free"), down.output());
            // nothing waits on a fixed time-out when nothing is in flight: before, each Kafka consumer slept 2 s at
            // its service's stop (ingest-service, five consumers: 10 s), and Ctrl-C took 15-18 s, down 20 s
            assertTrue(stopSeconds < 12, "Ctrl-C took " + stopSeconds + " s");
            assertTrue(downSeconds < 16, "down took " + downSeconds + " s");
            assertTrue(itsProcesses.stream().noneMatch(ProcessHandle::isAlive), "a process still runs after down:\n" + status.output());
            assertEquals(3, fr.osfria.local.e2e.OsfriaCommand.run(data, shared.env(), 60, "status").code(), "status after down");
        } finally {
            fr.osfria.local.e2e.OsfriaCommand.run(data, shared.env(), 150, "down");
        }
    }

    /** The SHA-256 fingerprint of the APPS listener's certificate, as stored in the data directory. */
    private static String appsListenerCertificate(Path data) throws Exception {
        java.nio.file.Path tls = data.resolve("kafka-tls");
        char[] password = java.nio.file.Files.readString(tls.resolve("store.password")).trim().toCharArray();
        java.security.KeyStore store = java.security.KeyStore.getInstance("PKCS12");
        try (var in = java.nio.file.Files.newInputStream(tls.resolve("server.p12"))) {
            store.load(in, password);
        }
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(store.getCertificate("server").getEncoded()));
    }

    /**
     * e. one of two backends dies under 50 chat requests/s, and comes back. The load runs beside c (see
     * {@link #chatRun}): the router needs no database, and c's load is light (two uploaders, 503s).
     */
    @Test
    @Order(4)
    void chatSurvivesABackendKilled() throws Exception {
        ChatFigures figures = join(chatRun != null ? chatRun : inBackground(PlatformChaosIT::chatWhileABackendDies));
        System.out.println("CHAOS e. " + figures);
        figures.assertClean();
    }

    /**
     * b. the Kafka broker (the launcher's child JVM) killed with SIGKILL mid-ingest; the supervisor restarts it. Not
     * overlapped with a's indexing: tried, the broker's outage stalled a's larger backlog too and the pair took longer
     * (199 s at load 5) than one after the other.
     */
    @Test
    @Order(2)
    void uploadsSurviveKafkaKilledWithSigkill() throws Exception {
        KafkaOutcome b = kafkaScenario();
        System.out.println(b.line());
        assertEquals(100, b.ids(), "every upload accepted: " + b.answers());
        assertEquals(0, b.answers().get("500"), b.answers().toString());
        b.check().assertClean(100);
    }

    record KafkaOutcome(String line, int ids, PlatformApi.Answers answers, Check check) {
    }

    private static KafkaOutcome kafkaScenario() throws Exception {
        ExecutorService clients = Executors.newFixedThreadPool(4);
        PlatformApi.Answers answers = new PlatformApi.Answers();
        List<String> ids = new CopyOnWriteArrayList<>();
        AtomicInteger done = new AtomicInteger();
        List<Future<?>> uploads = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            int n = i;
            uploads.add(clients.submit(() -> {
                String id = api.upload("chaos-b", "b-" + n + ".txt", text("b", n), answers, Duration.ofSeconds(180));
                if (id != null) {
                    ids.add(id);
                }
                done.incrementAndGet();
                return null;
            }));
        }
        awaitCount(done, 30);
        ProcessHandle kafka = platform.child("kafka.Kafka");
        long killed = System.nanoTime();
        LaunchedPlatform.sigkill(kafka);
        ProcessHandle again = awaitNewChild("kafka.Kafka", kafka, Duration.ofSeconds(60));
        Duration kafkaBack = Duration.ofNanos(System.nanoTime() - killed);
        for (Future<?> upload : uploads) {
            upload.get(5, TimeUnit.MINUTES);
        }
        clients.shutdown();
        accepted.addAll(ids);
        Check check = awaitIndexedOnce("chaos-b", ids, Duration.ofSeconds(240));
        String line = String.format("CHAOS b. kill kafka: %d uploads accepted (answers %s), broker restarted"
                        + " (pid %d) %.1f s after SIGKILL; all %d indexed %.1f s after the kill; %d chunks in the index, duplicates %d,"
                        + " documents %d", ids.size(), answers, again.pid(), seconds(kafkaBack), check.indexed,
                seconds(Duration.ofNanos(check.at - killed)), check.chunks, check.duplicates, check.documents);
        return new KafkaOutcome(line, ids.size(), answers, check);
    }

    /**
     * c. PostgreSQL down for 20 s: each incarnation the supervisor starts is killed again with SIGKILL until 20 s
     * have passed. Uploads meanwhile are answered 503 with Retry-After, and nothing is half-written.
     */
    @Test
    @Order(3)
    void uploadsDuringAPostgresqlOutageGet503AndTheRestCompletes() throws Exception {
        chatRun = inBackground(PlatformChaosIT::chatWhileABackendDies); // e., asserted by its own test
        PlatformApi.Answers answers = new PlatformApi.Answers();
        List<String> ids = new CopyOnWriteArrayList<>();
        AtomicInteger n = new AtomicInteger();
        ExecutorService clients = Executors.newFixedThreadPool(2);
        java.util.concurrent.atomic.AtomicLong windowEnd = new java.util.concurrent.atomic.AtomicLong();
        Runnable uploader = () -> {
            try {
                while (windowEnd.get() == 0 || System.nanoTime() < windowEnd.get() + TimeUnit.SECONDS.toNanos(5)) {
                    int i = n.getAndIncrement();
                    String id = api.upload("chaos-c", "c-" + i + ".txt", text("c", i), answers, Duration.ofSeconds(120));
                    if (id != null) {
                        ids.add(id);
                    }
                    Thread.sleep(250);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        List<Future<?>> running = List.of(clients.submit(uploader), clients.submit(uploader));
        awaitCount(n, 6);
        long windowStart = System.nanoTime();
        int kills = 0;
        Set<Long> killedPids = new HashSet<>();
        while (System.nanoTime() < windowStart + TimeUnit.SECONDS.toNanos(20)) {
            var postmaster = platform.postmaster();
            if (postmaster.isPresent() && killedPids.add(postmaster.get().pid())) {
                List<ProcessHandle> backends = postmaster.get().descendants().toList();
                LaunchedPlatform.sigkill(postmaster.get());
                for (ProcessHandle backend : backends) {
                    LaunchedPlatform.sigkill(backend);
                }
                kills++;
            }
            Thread.sleep(50);
        }
        long stoppedKilling = System.nanoTime();
        windowEnd.set(stoppedKilling);
        long back = awaitDatabaseAnswers();
        for (Future<?> f : running) {
            f.get(5, TimeUnit.MINUTES);
        }
        clients.shutdown();
        accepted.addAll(ids);
        Check check = awaitIndexedOnce("chaos-c", ids, Duration.ofSeconds(240));
        // every file a-c left without its document is gone: the sweep's grace here is 15 s, every 5 s (SharedPlatform)
        Set<String> orphans = orphanBlobs();
        long sweepDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
        while (!orphans.isEmpty() && System.nanoTime() < sweepDeadline) {
            Thread.sleep(1_000);
            orphans = orphanBlobs();
        }
        System.out.printf("CHAOS c. postgresql down: %d SIGKILLs over 20 s, answers %s, uploads accepted %d, database answering"
                        + " again %.1f s after the last kill; all %d indexed, %d chunks, duplicates %d, documents %d,"
                        + " blobs without a document (a-c, after the sweep) %d%n", kills, answers, ids.size(),
                seconds(Duration.ofNanos(back - stoppedKilling)), check.indexed, check.chunks, check.duplicates, check.documents,
                orphans.size());
        assertTrue(kills >= 1, "PostgreSQL was never killed");
        assertTrue(answers.get("503+Retry-After") > 0, "no upload was answered 503 with Retry-After during the outage: " + answers);
        assertEquals(0, answers.get("500") + answers.get("503"), "a 500, or a 503 without Retry-After: " + answers
                + errorsInLogs(answers));
        assertTrue(orphans.isEmpty(), "blobs without a document: " + orphans);
        check.assertClean(ids.size());
    }

    /**
     * d. the receiver, down from the subscription on (before a), came back 60 s later (during a): every
     * document.indexed of a–c delivered, once per webhook-id.
     */
    @Test
    @Order(5)
    void webhookReceiverDownFor60sGetsEveryEventOnce() throws Exception {
        while (receiverUpAt == 0) {
            Thread.sleep(100);
        }
        long back = receiverUpAt;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline && !receiver.webhookIdsByDocument.keySet().containsAll(accepted)) {
            Thread.sleep(250);
        }
        long complete = System.nanoTime();
        Thread.sleep(3_000); // a late duplicate would come now
        Set<String> missing = new HashSet<>(accepted);
        missing.removeAll(receiver.webhookIdsByDocument.keySet());
        Map<String, Set<String>> twice = receiver.webhookIdsByDocument.entrySet().stream()
                .filter(e -> e.getValue().size() > 1).collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
        System.out.printf("CHAOS d. receiver down %.0f s: %d of %d events delivered %.1f s after it came back, %d requests"
                        + " (repeats of a webhook-id: %d), documents announced under two webhook-ids (duplicates): %d%n",
                seconds(Duration.ofNanos(back - receiverDownAt)), accepted.size() - missing.size(), accepted.size(),
                seconds(Duration.ofNanos(complete - back)), receiver.requests.get(),
                receiver.received.get() - receiver.documentByWebhookId.size(), twice.size());
        assertTrue(missing.isEmpty(), missing.size() + " documents never announced, e.g. " + missing.stream().limit(5).toList());
        assertTrue(twice.isEmpty(), "announced twice: " + twice);
    }

    // ---- e. chat under a backend's death ----------------------------------------------------------------------

    record ChatFigures(int requests, int errors, int errorsAfterFirstSecond, double backInRotationSeconds,
                       Map<Integer, Integer> statuses, List<String> failures) {
        void assertClean() {
            assertTrue(errors * 100 < requests, "1 % of errors or more: " + this);
            assertEquals(0, errorsAfterFirstSecond, "errors after the first second: " + this);
            assertTrue(backInRotationSeconds >= 0 && backInRotationSeconds <= 5, "back in rotation after " + this);
        }

        @Override
        public String toString() {
            return String.format("one of two backends killed under 50 chat requests/s: %d requests, %d errors (%.2f %%),"
                            + " %d errors later than 1 s after the kill, back in rotation %.1f s after its return, statuses %s (-1: no answer, e.g. %s)",
                    requests, errors, 100.0 * errors / requests, errorsAfterFirstSecond, backInRotationSeconds, statuses, failures);
        }
    }

    /** 50 requests/s for 24 s; the second backend stops at 4 s (as a crashed server: connections refused) and returns at 12 s. */
    private static ChatFigures chatWhileABackendDies() throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
        String body = new JsonObject().put("model", MODEL).put("max_tokens", 8)
                .put("messages", List.of(Map.of("role", "user", "content", "bonjour"))).encode();
        HttpRequest request = HttpRequest.newBuilder(URI.create(api.url() + "/v1/chat/completions"))
                .timeout(Duration.ofSeconds(20)).header("Authorization", "Bearer " + api.key())
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
        // both backends in rotation first
        long warm = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while ((first.served() == 0 || second.served() == 0) && System.nanoTime() < warm) {
            http.send(request, HttpResponse.BodyHandlers.discarding());
            Thread.sleep(100);
        }
        List<long[]> errors = new CopyOnWriteArrayList<>(); // {sent at, status}
        Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
        List<String> failures = new CopyOnWriteArrayList<>();
        List<java.util.concurrent.CompletableFuture<?>> all = new ArrayList<>();
        long start = System.nanoTime();
        long killAt = start + TimeUnit.SECONDS.toNanos(4);
        long returnAt = start + TimeUnit.SECONDS.toNanos(12);
        long end = start + TimeUnit.SECONDS.toNanos(24);
        boolean stopped = false;
        boolean returned = false;
        int servedAtReturn = 0;
        long backAt = -1;
        for (long next = start; next < end; next += TimeUnit.MILLISECONDS.toNanos(20)) {
            long now = System.nanoTime();
            if (next > now) {
                TimeUnit.NANOSECONDS.sleep(next - now);
            }
            if (!stopped && next >= killAt) {
                second.stop();
                stopped = true;
            }
            if (!returned && next >= returnAt) {
                second.restart();
                returned = true;
                servedAtReturn = second.served();
            }
            if (returned && backAt < 0 && second.served() > servedAtReturn) {
                backAt = System.nanoTime();
            }
            long sentAt = System.nanoTime();
            all.add(http.sendAsync(request, HttpResponse.BodyHandlers.discarding()).handle((r, e) -> {
                int status = e != null ? -1 : r.statusCode();
                statuses.merge(status, 1, Integer::sum);
                if (e != null && failures.size() < 3) {
                    failures.add(String.valueOf(e));
                }
                if (status != 200) {
                    errors.add(new long[] {sentAt, status});
                }
                return null;
            }));
        }
        java.util.concurrent.CompletableFuture.allOf(all.toArray(new java.util.concurrent.CompletableFuture[0]))
                .get(60, TimeUnit.SECONDS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (backAt < 0 && System.nanoTime() < deadline) {
            http.send(request, HttpResponse.BodyHandlers.discarding());
            if (second.served() > servedAtReturn) {
                backAt = System.nanoTime();
            }
        }
        long late = errors.stream().filter(e -> e[0] > killAt + TimeUnit.SECONDS.toNanos(1)).count();
        return new ChatFigures(all.size(), errors.size(), (int) late,
                backAt < 0 ? -1 : seconds(Duration.ofNanos(backAt - returnAt)), new java.util.TreeMap<>(statuses), failures);
    }

    // ---- what every upload scenario checks ---------------------------------------------------------------------

    /** The outcome of a collection's documents once none is processing any more. */
    private record Check(int documents, int indexed, int failed, List<String> notAccepted, int chunks, int duplicates,
                         List<String> miscounted, long at) {
        void assertClean(int expected) {
            assertEquals(0, failed, "failed documents");
            assertEquals(expected, indexed, "documents indexed");
            assertEquals(expected, documents, "documents in the collection (a retried upload made a second one?)");
            assertTrue(notAccepted.isEmpty(), "documents no client was told of: " + notAccepted);
            assertEquals(0, duplicates, "chunks twice in the index");
            assertTrue(miscounted.isEmpty(), "index holds other than chunks_count: " + miscounted);
        }
    }

    /** Waits until no document of the collection is processing, then counts each one's chunks in the index. */
    private static Check awaitIndexedOnce(String collection, List<String> ids, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, JsonObject> docs = api.documents(collection);
        while (System.nanoTime() < deadline && (docs.size() < ids.size()
                || docs.values().stream().anyMatch(d -> "processing".equals(d.getString("status"))))) {
            Thread.sleep(1_000);
            docs = api.documents(collection);
        }
        long at = System.nanoTime();
        List<String> stuck = docs.values().stream().filter(d -> "processing".equals(d.getString("status")))
                .map(d -> d.getString("document_id")).toList();
        assertTrue(stuck.isEmpty(), stuck.size() + " documents still processing after " + timeout.toSeconds() + " s, e.g. "
                + stuck.stream().limit(5).toList());
        List<JsonObject> failed = docs.values().stream().filter(d -> "failed".equals(d.getString("status"))).toList();
        failed.stream().limit(5).forEach(d -> System.out.println("CHAOS failed document: " + d.encode()));
        List<String> notAccepted = docs.keySet().stream().filter(id -> !ids.contains(id)).toList();
        int chunks = 0;
        int duplicates = 0;
        List<String> miscounted = new CopyOnWriteArrayList<>();
        ExecutorService searches = Executors.newFixedThreadPool(4);
        Map<String, Future<List<String>>> found = new HashMap<>();
        for (String id : docs.keySet()) {
            found.put(id, searches.submit(() -> api.indexedChunkIds(collection, id)));
        }
        for (Map.Entry<String, Future<List<String>>> e : found.entrySet()) {
            List<String> chunkIds = e.getValue().get(2, TimeUnit.MINUTES);
            int distinct = new HashSet<>(chunkIds).size();
            chunks += chunkIds.size();
            duplicates += chunkIds.size() - distinct;
            JsonObject doc = docs.get(e.getKey());
            if ("indexed".equals(doc.getString("status")) && (distinct != doc.getInteger("chunks_count") || distinct == 0)) {
                miscounted.add(e.getKey() + " (" + chunkIds.size() + " in the index, chunks_count " + doc.getInteger("chunks_count") + ")");
            }
        }
        searches.shutdown();
        int indexed = (int) docs.values().stream().filter(d -> "indexed".equals(d.getString("status"))).count();
        return new Check(docs.size(), indexed, failed.size(), notAccepted, chunks, duplicates, miscounted, at);
    }

    /** A document of about two chunks, unique (identical bytes would be answered as the same document). */
    private static String text(String scenario, int n) {
        StringBuilder text = new StringBuilder();
        for (int sentence = 0; sentence < 15; sentence++) {
            text.append("Chaos ").append(scenario).append(' ').append(n).append(": la note de frais numéro ").append(sentence)
                    .append(" est remboursée sous trente jours après validation par le responsable du service. ");
        }
        return text.toString();
    }

    /** The members of a service's consumer group, as its coordinator names them. */
    private static Set<String> groupMembers(String group) throws Exception {
        try (Admin admin = kafkaAdmin()) {
            return admin.describeConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS).get(group).members().stream()
                    .map(MemberDescription::consumerId).collect(Collectors.toSet());
        }
    }

    /** How long from now until the group is stable again, with members and without the {@code dead} ones. */
    private static Duration untilGroupWithout(String group, Set<String> dead) throws Exception {
        long from = System.nanoTime();
        try (Admin admin = kafkaAdmin()) {
            while (System.nanoTime() - from < TimeUnit.SECONDS.toNanos(120)) {
                ConsumerGroupDescription now = admin.describeConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS).get(group);
                if (now.groupState() == GroupState.STABLE && !now.members().isEmpty()
                        && now.members().stream().noneMatch(m -> dead.contains(m.consumerId()))) {
                    return Duration.ofNanos(System.nanoTime() - from);
                }
                Thread.sleep(200);
            }
        }
        throw new AssertionError("the group " + group + " did not settle without its killed members within 120 s");
    }

    private static Admin kafkaAdmin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + shared.env().get("OSFRIA_KAFKA_PORT")));
    }

    /** Kills the service's JVM with SIGKILL; returns how long until its replacement is ready. */
    private static Duration killAndAwaitReady(String service) throws Exception {
        ProcessHandle old = platform.service(service);
        long killed = System.nanoTime();
        LaunchedPlatform.sigkill(old);
        int offset = fr.osfria.local.LocalSettings.SERVICES.stream().filter(s -> s.name().equals(service)).findFirst()
                .orElseThrow().portOffset();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        URI ready = URI.create("http://127.0.0.1:" + (entryPort + offset) + "/q/health/ready");
        long deadline = killed + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < deadline) {
            try {
                if (!old.isAlive() && http.send(HttpRequest.newBuilder(ready).timeout(Duration.ofSeconds(3)).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return Duration.ofNanos(System.nanoTime() - killed);
                }
            } catch (IOException e) {
                // not back yet
            }
            Thread.sleep(200);
        }
        throw new AssertionError(service + " not ready again within 180 s:\n" + platform.tail(40));
    }

    private static ProcessHandle awaitNewChild(String marker, ProcessHandle old, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                ProcessHandle now = platform.child(marker);
                if (now.pid() != old.pid()) {
                    return now;
                }
            } catch (AssertionError e) {
                // between two incarnations
            }
            Thread.sleep(100);
        }
        throw new AssertionError(marker + " not restarted within " + timeout.toSeconds() + " s:\n" + platform.tail(40));
    }

    /** When ingest-service can read its database again (a document list answers 200). */
    private static long awaitDatabaseAnswers() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            try {
                if (api.get("/v1/documents?collection=chaos-c&limit=1").statusCode() == 200) {
                    return System.nanoTime();
                }
            } catch (IOException e) {
                // not yet
            }
            Thread.sleep(200);
        }
        throw new AssertionError("ingest-service did not read its database again within 120 s:\n" + platform.tail(40));
    }

    /** Directories of original files whose document does not exist (the admin key reads every document). */
    private static Set<String> orphanBlobs() throws IOException, InterruptedException {
        Set<String> orphans = new HashSet<>();
        for (String id : blobDirectories()) {
            if (api.get("/v1/documents/" + id).statusCode() == 404) {
                orphans.add(id);
            }
        }
        return orphans;
    }

    private static Set<String> blobDirectories() throws IOException {
        Path blobs = data.resolve("ingest-service/blobs");
        if (!Files.isDirectory(blobs)) {
            return Set.of();
        }
        try (Stream<Path> dirs = Files.list(blobs)) {
            return dirs.filter(PlatformChaosIT::holdsAFile).map(p -> p.getFileName().toString())
                    .filter(name -> name.startsWith("doc_")).collect(Collectors.toSet());
        }
    }

    private static boolean holdsAFile(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.anyMatch(Files::isRegularFile);
        } catch (IOException e) {
            return false; // removed meanwhile
        }
    }

    private static void awaitCount(AtomicInteger counter, int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (counter.get() < count && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertTrue(counter.get() >= count, "only " + counter.get() + " uploads done:\n" + platform.tail(40));
    }

    /** A scenario run beside another one, on its own thread. */
    private static <T> java.util.concurrent.CompletableFuture<T> inBackground(java.util.concurrent.Callable<T> scenario) {
        java.util.concurrent.CompletableFuture<T> result = new java.util.concurrent.CompletableFuture<>();
        Thread thread = new Thread(() -> {
            try {
                result.complete(scenario.call());
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        }, "chaos-beside");
        thread.setDaemon(true);
        thread.start();
        return result;
    }

    /** The scenario's outcome, or what it threw (an assertion included), as if it had run on this thread. */
    private static <T> T join(java.util.concurrent.CompletableFuture<T> scenario) throws Exception {
        try {
            return scenario.get(10, TimeUnit.MINUTES);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
    }

    private static double seconds(Duration d) {
        return d.toMillis() / 1000.0;
    }

    /** For each 500's error id, the services' log lines from it on (its stack trace): the data directory goes with the run. */
    private static String errorsInLogs(PlatformApi.Answers answers) {
        StringBuilder found = new StringBuilder();
        java.util.regex.Matcher ids = java.util.regex.Pattern.compile("error id ([0-9a-f-]{36})").matcher(String.join("\n", answers.unexpected));
        while (ids.find()) {
            try (var logs = Files.list(data.resolve("logs"))) {
                for (Path log : logs.filter(f -> f.toString().endsWith(".log")).toList()) {
                    List<String> lines = Files.readAllLines(log);
                    for (int i = 0; i < lines.size(); i++) {
                        if (lines.get(i).contains(ids.group(1))) {
                            found.append("\n").append(log.getFileName()).append(":\n")
                                    .append(String.join("\n", lines.subList(i, Math.min(lines.size(), i + 40))));
                        }
                    }
                }
            } catch (IOException | RuntimeException e) {
                found.append("\n(logs unreadable: ").append(e).append(')');
            }
        }
        return found.toString();
    }

    /** The launcher's pid, as its run file ({@code <data>/osfria.run}) names it. */
    private static long launcherPid(Path data) throws IOException {
        java.util.Properties run = new java.util.Properties();
        try (var reader = Files.newBufferedReader(data.resolve("osfria.run"))) {
            run.load(reader);
        }
        return Long.parseLong(run.getProperty("pid"));
    }
}
