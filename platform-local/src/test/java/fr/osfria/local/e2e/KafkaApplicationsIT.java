package fr.osfria.local.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.testing.AsyncApiContract;
import com.sun.net.httpserver.HttpServer;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.StringReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.quota.ClientQuotaFilter;
import org.apache.kafka.common.quota.ClientQuotaFilterComponent;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * On the shared platform: internal applications on Kafka with nothing but the settings
 * {@code ./osfria keys create NAME --kafka} prints. Application A, a plain Kafka client authenticated with SCRAM on
 * the broker's SASL listener, submits a document and reads {@code accepted} then {@code indexed} with its
 * correlation id; a record for a collection its key may not write is {@code rejected} with the reason, and a poison
 * record does not hold up the next one. A batch of 50 chat requests on A's inference topic is answered once per
 * custom_id and charged to A's key. Application B cannot write A's documents, inference or events topics nor read
 * A's results (authorization errors). A publishes a declared event on its events topic: a subscription of A's key
 * receives it as a signed webhook, while an undeclared type and a type under B's prefix land on A's dead-letter
 * topic with the reason and reach nobody. Once B's key is revoked, its credentials no longer open the broker. No
 * key or password reaches a log. The listener speaks TLS only ({@link #theAppsListenerSpeaksTlsOnly}).
 */
class KafkaApplicationsIT {

    /** What {@code keys create --kafka} printed: the API key and the client settings. */
    private record App(String name, String key, Properties settings) {
    }

    @Test
    void anApplicationIndexesThroughKafkaAndAnotherCannotTouchItsTopics() throws Exception {
        SharedPlatform platform = SharedPlatform.get();
        long start = System.nanoTime();
        String suffix = Long.toString(System.nanoTime() % 1_000_000, 36);
        // the operator lists the ITs' file server and gives A its exports, and only those, to have fetched
        String filesHost = platform.env().get("OSFRIA_INGEST_FETCH_ALLOWED_HOSTS");
        App a = create("billing-" + suffix, "--write", "kafka-a", "--read", "kafka-a", "--event-types",
                "invoice.created,invoice.paid", "--fetch-from", "http://" + filesHost + "/exports/");
        App b = create("intruder-" + suffix, "--write", "kafka-b", "--read", "kafka-b", "--event-types", "invoice.created");
        assertEquals("SASL_SSL", a.settings().getProperty("security.protocol"));
        assertEquals("SCRAM-SHA-512", a.settings().getProperty("sasl.mechanism"));
        assertEquals("PEM", a.settings().getProperty("ssl.truststore.type"));

        String documents = "osfria.app." + a.name() + ".documents.v1";
        String results = "osfria.app." + a.name() + ".results.v1";
        try (KafkaProducer<String, String> producer = producer(a);
             KafkaConsumer<String, String> consumer = consumer(a, "osfria.app." + a.name() + ".e2e", results)) {
            String poison = "poison-" + UUID.randomUUID();
            String denied = "denied-" + UUID.randomUUID();
            String good = "good-" + UUID.randomUUID();
            producer.send(new ProducerRecord<>(documents, poison, "{not json")).get(30, TimeUnit.SECONDS);
            producer.send(new ProducerRecord<>(documents, denied, submission(denied, "finance"))).get(30, TimeUnit.SECONDS);
            producer.send(new ProducerRecord<>(documents, good, submission(good, "kafka-a"))).get(30, TimeUnit.SECONDS);

            List<JsonObject> seen = new ArrayList<>();
            JsonObject rejected = await(consumer, seen, denied, "rejected");
            assertTrue(rejected.getString("reason").contains("may not write to collection finance"), rejected.encode());
            JsonObject accepted = await(consumer, seen, good, "accepted");
            JsonObject indexed = await(consumer, seen, good, "indexed");
            assertEquals(accepted.getString("document_id"), indexed.getString("document_id"));
            assertTrue(seen.stream().anyMatch(r -> "rejected".equals(r.getString("status")) && r.getString("reason")
                    .startsWith("the record is not JSON")), "the poison record's rejection: " + seen);

            // the document is A's, seen through the REST API with A's key, and indexed there too
            PlatformApi api = new PlatformApi(platform.url(), a.key());
            var doc = api.get("/v1/documents/" + indexed.getString("document_id"));
            assertEquals(200, doc.statusCode(), doc.body());
            assertEquals("indexed", new JsonObject(doc.body()).getString("status"));

            // a file by URL, from an internal file server the operator listed: fetched and indexed the same way
            String byUrl = "by-url-" + UUID.randomUUID();
            HttpServer files = HttpServer.create(new InetSocketAddress("127.0.0.1",
                    Integer.parseInt(filesHost.substring(filesHost.indexOf(':') + 1))), 8);
            byte[] file = ("Bon de commande " + byUrl + " : livraison sous quinze jours.").getBytes(StandardCharsets.UTF_8);
            files.createContext("/exports/order.txt", exchange -> {
                try (exchange) {
                    exchange.sendResponseHeaders(200, file.length);
                    exchange.getResponseBody().write(file);
                }
            });
            files.start();
            try {
                String record = submission(byUrl, "kafka-a").replaceFirst("\"file_base64\":\"[^\"]*\"",
                        "\"file_url\":\"http://" + filesHost + "/exports/order.txt\"");
                AsyncApiContract.assertValid("DocumentSubmitted", record);
                producer.send(new ProducerRecord<>(documents, byUrl, record)).get(30, TimeUnit.SECONDS);
                String id = await(consumer, seen, byUrl, "accepted").getString("document_id");
                assertEquals(id, await(consumer, seen, byUrl, "indexed").getString("document_id"));
                JsonObject view = new JsonObject(api.get("/v1/documents/" + id).body());
                assertEquals("indexed", view.getString("status"));
                assertEquals(byUrl + ".txt", view.getString("filename"));
            } finally {
                files.stop(0);
            }
        }

        batchInference(platform, a);
        applicationEventsBecomeSignedWebhooks(platform, a, b);

        // B, authenticated as itself, against A's topics
        try (KafkaProducer<String, String> intruder = producer(b)) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> intruder.send(new ProducerRecord<>(
                    documents, "x", submission("intrusion", "kafka-a"))).get(30, TimeUnit.SECONDS));
            assertInstanceOf(TopicAuthorizationException.class, e.getCause());
            ExecutionException batch = assertThrows(ExecutionException.class, () -> intruder.send(new ProducerRecord<>(
                    "osfria.app." + a.name() + ".inference.v1", "x", inferenceLine("intrusion"))).get(30, TimeUnit.SECONDS));
            assertInstanceOf(TopicAuthorizationException.class, batch.getCause());
            ExecutionException ev = assertThrows(ExecutionException.class, () -> intruder.send(new ProducerRecord<>(
                    "osfria.app." + a.name() + ".events.v1", "x", appEvent("app." + a.name() + ".invoice.created", "forged")))
                    .get(30, TimeUnit.SECONDS));
            assertInstanceOf(TopicAuthorizationException.class, ev.getCause());
        }
        try (KafkaConsumer<String, String> spy = consumer(b, "osfria.app." + b.name() + ".spy", results)) {
            assertThrows(TopicAuthorizationException.class, () -> {
                for (int i = 0; i < 100; i++) {
                    spy.poll(Duration.ofMillis(200));
                }
            });
        }
        // a group outside its prefix is refused as well, even on its own results
        try (KafkaConsumer<String, String> stray = consumer(b, "osfria.app." + a.name() + ".steal",
                "osfria.app." + b.name() + ".results.v1")) {
            assertThrows(KafkaException.class, () -> {
                for (int i = 0; i < 100; i++) {
                    stray.poll(Duration.ofMillis(200));
                }
            });
        }

        // one application cannot fill the broker every service shares: A's topic is bounded, A is throttled, and
        // there is no topic for it to write that nothing reads
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                "127.0.0.1:" + platform.env().get("OSFRIA_KAFKA_PORT")))) {
            ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, documents);
            Config config = admin.describeConfigs(List.of(topic)).all().get(30, TimeUnit.SECONDS).get(topic);
            assertEquals(String.valueOf(24L * 3600_000), config.get("retention.ms").value());
            assertEquals(String.valueOf(1024L * 1024 * 1024), config.get("retention.bytes").value());
            Map<ClientQuotaEntity, Map<String, Double>> quotas = admin.describeClientQuotas(ClientQuotaFilter.containsOnly(
                    List.of(ClientQuotaFilterComponent.ofEntity(ClientQuotaEntity.USER, a.name())))).entities()
                    .get(30, TimeUnit.SECONDS);
            assertEquals(4.0 * 1024 * 1024, quotas.values().iterator().next().get("producer_byte_rate"), quotas.toString());
            ConfigResource events = new ConfigResource(ConfigResource.Type.TOPIC, "osfria.app." + a.name() + ".events.v1");
            Config eventsConfig = admin.describeConfigs(List.of(events)).all().get(30, TimeUnit.SECONDS).get(events);
            assertEquals(String.valueOf(128 * 1024), eventsConfig.get("max.message.bytes").value());
            assertEquals(String.valueOf(256L * 1024 * 1024), eventsConfig.get("retention.bytes").value());

            // revoked: B's credentials no longer open the broker, and its topics (files in clear) are gone
            assertEquals(0, osfria(platform, "keys", "revoke", b.name()).exitCode);
            // a deletion the controller has taken can reach the broker's metadata a moment later: a topic that stays
            // (or comes back) fails this within 10 s
            Set<String> left = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (left.stream().anyMatch(t -> t.startsWith("osfria.app." + b.name() + ".")) && System.nanoTime() < until) {
                Thread.sleep(200);
                left = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            }
            assertTrue(left.stream().noneMatch(t -> t.startsWith("osfria.app." + b.name() + ".")), left.toString());
        }
        try (KafkaProducer<String, String> revoked = producer(b)) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> revoked.send(new ProducerRecord<>(
                    "osfria.app." + b.name() + ".documents.v1", "x", submission("after-revoke", "kafka-b")))
                    .get(30, TimeUnit.SECONDS));
            assertInstanceOf(SaslAuthenticationException.class, e.getCause(), e.toString());
        }

        // no key or password in any log of the platform
        try (Stream<Path> logs = Files.list(platform.dataDir().resolve("logs"))) {
            for (Path log : logs.toList()) {
                String text = Files.readString(log, StandardCharsets.ISO_8859_1);
                for (App app : List.of(a, b)) {
                    assertFalse(text.contains(app.key()), "API key in " + log);
                    assertFalse(text.contains(password(app)), "Kafka password in " + log);
                }
            }
        }
        System.out.printf("KAFKA-API e2e in %d s%n", TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start));
    }

    /**
     * The APPS listener over TLS, as a hostile application on another machine tries it: the printed settings work
     * (TLS 1.3, the certificate stored in the data directory); the same credentials in plaintext get no data; a
     * client that does not trust the platform's CA, or that reaches the listener under a name not in its
     * certificate, fails the handshake. The CA's and the listener's keys and their password are owner-only files,
     * and appear in no output or log of {@code up} or {@code keys create}, nor on any process's command line.
     */
    @Test
    void theAppsListenerSpeaksTlsOnly() throws Exception {
        SharedPlatform platform = SharedPlatform.get();
        String suffix = Long.toString(System.nanoTime() % 1_000_000, 36);
        List<String> keysOutput = new ArrayList<>();
        App c = create("tls-" + suffix, keysOutput, "--write", "kafka-c", "--read", "kafka-c");
        String own = "osfria.app." + c.name() + ".documents.v1";
        int port = Integer.parseInt(platform.env().get("OSFRIA_KAFKA_APPS_PORT"));
        assertEquals("localhost:" + port, c.settings().getProperty("bootstrap.servers"));

        // the printed settings, as printed
        try (Admin admin = Admin.create(withTimeouts(c.settings()))) {
            assertEquals(own, admin.describeTopics(List.of(own)).allTopicNames().get(30, TimeUnit.SECONDS).get(own).name());
        }
        // the same credentials in plaintext: nothing served
        Properties plaintext = withTimeouts(c.settings());
        plaintext.put("security.protocol", "SASL_PLAINTEXT");
        try (Admin admin = Admin.create(plaintext)) {
            assertThrows(ExecutionException.class, () -> admin.describeTopics(List.of(own)).allTopicNames()
                    .get(30, TimeUnit.SECONDS));
        }
        try (java.net.Socket raw = new java.net.Socket("127.0.0.1", port)) { // a Kafka request, no TLS: no Kafka answer
            raw.setSoTimeout(10_000);
            byte[] apiVersions = {0, 0, 0, 14, 0, 18, 0, 0, 0, 0, 0, 1, 0, 4, 'e', '2', 'e', '!'};
            raw.getOutputStream().write(apiVersions);
            byte[] answer = new byte[8];
            int n;
            try {
                n = raw.getInputStream().read(answer);
            } catch (java.net.SocketException reset) {
                n = -1;
            }
            assertTrue(n <= 0 || answer[0] == 0x15, "only a TLS alert or nothing, not " + n + " bytes starting "
                    + answer[0]);
        }
        // a client that does not trust the platform's CA (the JDK's own trust store)
        Properties untrusting = withTimeouts(c.settings());
        untrusting.remove("ssl.truststore.type");
        untrusting.remove("ssl.truststore.certificates");
        try (Admin admin = Admin.create(untrusting)) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> admin.describeTopics(List.of(own))
                    .allTopicNames().get(30, TimeUnit.SECONDS));
            assertInstanceOf(org.apache.kafka.common.errors.SslAuthenticationException.class, e.getCause(), e.toString());
        }

        // the listener's certificate, as the broker presents it: the stored one, under its names only
        Path tls = platform.dataDir().resolve("kafka-tls");
        String password = Files.readString(tls.resolve("store.password")).trim();
        javax.net.ssl.SSLContext trusting = trusting(c.settings().getProperty("ssl.truststore.certificates"));
        javax.net.ssl.SSLSession session = handshake(trusting, port, "localhost");
        assertEquals("TLSv1.3", session.getProtocol());
        assertEquals(fingerprint(session.getPeerCertificates()[0]), fingerprint(storedCertificate(tls, password)));
        assertThrows(javax.net.ssl.SSLHandshakeException.class, () -> handshake(trusting, port, "not-in-the-certificate.example"));
        javax.net.ssl.SSLContext tls12Only = javax.net.ssl.SSLContext.getInstance("TLSv1.2");
        tls12Only.init(null, trustManagers(c.settings().getProperty("ssl.truststore.certificates")), null);
        assertEquals("TLSv1.2", handshake(tls12Only, port, "localhost").getProtocol(), "TLS 1.2 is still served");
        // no older TLS, no plaintext protocol on APPS: the broker's configuration as written (the JDK refuses TLS 1.1
        // on both ends anyway, so no client here could even offer it)
        String brokerConfig = Files.readString(platform.dataDir().resolve("kafka/server.properties"));
        assertTrue(brokerConfig.contains("\nlistener.name.apps.ssl.enabled.protocols=TLSv1.3,TLSv1.2\n"), brokerConfig);
        assertTrue(brokerConfig.contains(",APPS:SASL_SSL\n"), brokerConfig);

        // owner-only files; no key nor password in the terminal, the logs, keys create's output or a command line
        for (String file : List.of("ca.p12", "server.p12", "store.password")) {
            assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(tls.resolve(file))), file);
        }
        assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(tls)));
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(platform.dataDir().resolve("kafka/server.properties"))));
        List<String> secrets = secrets(tls, password);
        List<String> outputs = new ArrayList<>(platform.launched().lines());
        outputs.addAll(keysOutput);
        try (Stream<Path> logs = Files.list(platform.dataDir().resolve("logs"))) {
            for (Path log : logs.toList()) {
                outputs.add(Files.readString(log, StandardCharsets.ISO_8859_1));
            }
        }
        ProcessHandle.allProcesses().forEach(p -> p.info().commandLine().ifPresent(outputs::add));
        for (String secret : secrets) {
            assertTrue(outputs.stream().noneMatch(o -> o.contains(secret)), "a TLS secret in an output, log or command line");
        }
        assertTrue(platform.launched().lines().stream().anyMatch(l -> l.contains("Kafka TLS: made a CA and the APPS certificate for localhost")), "the first start says it made the CA, in one line");
    }

    private static Properties withTimeouts(Properties settings) {
        Properties props = new Properties();
        props.putAll(settings);
        props.remove("max.request.size");
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
        return props;
    }

    private static javax.net.ssl.TrustManager[] trustManagers(String inlinePem) throws Exception {
        // the printed value joins the PEM's lines with spaces: its base64 body, between the markers
        String body = inlinePem.replace("-----BEGIN CERTIFICATE-----", "").replace("-----END CERTIFICATE-----", "")
                .replaceAll("\\s", "");
        java.security.cert.Certificate ca = java.security.cert.CertificateFactory.getInstance("X.509")
                .generateCertificate(new java.io.ByteArrayInputStream(Base64.getDecoder().decode(body)));
        java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("osfria-ca", ca);
        javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance("PKIX");
        tmf.init(trust);
        return tmf.getTrustManagers();
    }

    private static javax.net.ssl.SSLContext trusting(String inlinePem) throws Exception {
        javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLSv1.3");
        context.init(null, trustManagers(inlinePem), null);
        return context;
    }

    /** A handshake with the listener on 127.0.0.1 under {@code host}, checked as Kafka's clients check it. */
    private static javax.net.ssl.SSLSession handshake(javax.net.ssl.SSLContext context, int port, String host) throws Exception {
        java.net.Socket plain = new java.net.Socket();
        plain.connect(new java.net.InetSocketAddress("127.0.0.1", port), 5000);
        try (javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) context.getSocketFactory()
                .createSocket(plain, host, port, true)) {
            javax.net.ssl.SSLParameters params = socket.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS");
            socket.setSSLParameters(params);
            socket.setSoTimeout(10_000);
            socket.startHandshake();
            return socket.getSession();
        }
    }

    private static java.security.cert.Certificate storedCertificate(Path tls, String password) throws Exception {
        java.security.KeyStore store = java.security.KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(tls.resolve("server.p12"))) {
            store.load(in, password.toCharArray());
        }
        return store.getCertificate("server");
    }

    private static String fingerprint(java.security.cert.Certificate certificate) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(certificate.getEncoded()));
    }

    /** The stores' password and pieces of both private keys, as PEM (base64 of PKCS#8 past its header) or hex. */
    private static List<String> secrets(Path tls, String password) throws Exception {
        List<String> secrets = new ArrayList<>(List.of(password));
        for (String file : List.of("ca.p12", "server.p12")) {
            java.security.KeyStore store = java.security.KeyStore.getInstance("PKCS12");
            try (var in = Files.newInputStream(tls.resolve(file))) {
                store.load(in, password.toCharArray());
            }
            java.security.interfaces.ECPrivateKey key = (java.security.interfaces.ECPrivateKey) store.getKey(
                    store.aliases().nextElement(), password.toCharArray());
            secrets.add(Base64.getEncoder().encodeToString(key.getEncoded()).substring(48, 88));
            secrets.add(java.util.HexFormat.of().formatHex(key.getS().toByteArray()).substring(0, 40));
        }
        return secrets;
    }

    /**
     * A batch of 50 chat requests on A's {@code inference.v1}: every custom_id answered once (read_committed, as the
     * guide says), and the tokens charged to A's key, as its own usage shows.
     */
    private static void batchInference(SharedPlatform platform, App a) throws Exception {
        int requests = 50;
        Set<String> sent = new java.util.TreeSet<>();
        try (KafkaProducer<String, String> producer = producer(a)) {
            for (int i = 0; i < requests; i++) {
                String id = "batch-" + i;
                sent.add(id);
                producer.send(new ProducerRecord<>("osfria.app." + a.name() + ".inference.v1", id, inferenceLine(id)));
            }
            producer.flush();
        }
        Map<String, JsonObject> answers = new java.util.TreeMap<>();
        List<String> repeated = new ArrayList<>();
        Properties committed = new Properties();
        committed.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        try (KafkaConsumer<String, String> consumer = consumer(a, "osfria.app." + a.name() + ".batch", "osfria.app."
                + a.name() + ".results.v1", committed)) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (answers.size() < requests && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(300))) {
                    JsonObject event = new JsonObject(r.value());
                    if ("fr.osfria.app.inference.result".equals(event.getString("type"))
                            && answers.put(r.key(), event.getJsonObject("data")) != null) {
                        repeated.add(r.key());
                    }
                }
            }
        }
        assertEquals(sent, answers.keySet());
        assertEquals(List.of(), repeated);
        for (JsonObject answer : answers.values()) {
            assertEquals(200, answer.getJsonObject("response").getInteger("status_code"), answer.encode());
            assertEquals(4, answer.getJsonObject("usage").getInteger("completion_tokens"), answer.encode());
        }
        // A's key paid for them: its usage, through the REST API with its own key (the tallies arrive each second)
        PlatformApi api = new PlatformApi(platform.url(), a.key());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        long counted = 0;
        while (counted < requests && System.nanoTime() < deadline) {
            var usage = api.get("/v1/usage");
            if (usage.statusCode() == 200) {
                counted = new JsonObject(usage.body()).getJsonArray("data").getJsonObject(0).getLong("total_requests");
            }
            if (counted < requests) {
                Thread.sleep(500);
            }
        }
        assertEquals(requests, counted, "requests counted to " + a.name());
    }

    private static String inferenceLine(String customId) {
        return new JsonObject().put("custom_id", customId).put("method", "POST").put("url", "/v1/chat/completions")
                .put("body", new JsonObject().put("model", SharedPlatform.MODELS.get(1)).put("max_tokens", 4)
                        .put("messages", new io.vertx.core.json.JsonArray().add(new JsonObject().put("role", "user")
                                .put("content", "Résume la facture " + customId)))).encode();
    }

    /**
     * A's key subscribes to its own declared type through the entry port; A publishes an undeclared type, a type
     * under B's prefix, then a declared event: the receiver gets only the last, signed with the subscription's
     * secret, and the other two are on A's dead-letter topic (read by the operators, on the services' listener).
     */
    private static void applicationEventsBecomeSignedWebhooks(SharedPlatform platform, App a, App b) throws Exception {
        String type = "app." + a.name() + ".invoice.created";
        String secret = "whsec_" + Base64.getEncoder().encodeToString(("e2e-secret-" + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8));
        List<Map<String, String>> received = new java.util.concurrent.CopyOnWriteArrayList<>();
        com.sun.net.httpserver.HttpServer receiver = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress("127.0.0.1", 0), 16);
        receiver.createContext("/hook", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            received.add(Map.of("body", body, "id", exchange.getRequestHeaders().getFirst("webhook-id"),
                    "timestamp", exchange.getRequestHeaders().getFirst("webhook-timestamp"),
                    "signature", exchange.getRequestHeaders().getFirst("webhook-signature")));
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        receiver.start();
        try (KafkaProducer<String, String> producer = producer(a);
             KafkaConsumer<String, String> dlq = operatorConsumer(platform, "osfria.app." + a.name() + ".dlq.v1")) {
            PlatformApi api = new PlatformApi(platform.url(), a.key());
            String subscription = new JsonObject().put("url", "http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook")
                    .put("events", List.of(type)).put("secret", secret).encode();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            var created = api.post("/v1/webhooks", subscription);
            while (created.statusCode() != 201 && System.nanoTime() < deadline) { // the key file is read every few seconds
                Thread.sleep(300);
                created = api.post("/v1/webhooks", subscription);
            }
            assertEquals(201, created.statusCode(), created.body());

            String events = "osfria.app." + a.name() + ".events.v1";
            String undeclared = appEvent("app." + a.name() + ".invoice.refunded", "undeclared");
            String foreign = appEvent("app." + b.name() + ".invoice.created", "foreign");
            String good = appEvent(type, "good");
            AsyncApiContract.assertValid("ApplicationEvent", good);
            for (String record : List.of(undeclared, foreign, good)) {
                producer.send(new ProducerRecord<>(events, "invoice-2026-0042", record)).get(30, TimeUnit.SECONDS);
            }

            Map<String, String> reasons = new java.util.HashMap<>();
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while ((received.isEmpty() || reasons.size() < 2) && System.nanoTime() < until) {
                for (ConsumerRecord<String, String> r : dlq.poll(Duration.ofMillis(300))) {
                    AsyncApiContract.assertValid("DeadLetter", r.value());
                    JsonObject letter = new JsonObject(r.value());
                    if (!events.equals(letter.getString("topic"))) {
                        continue; // the refused documents above share the dead-letter topic
                    }
                    reasons.put(letter.getJsonObject("record").getString("subject"), letter.getString("reason"));
                }
            }
            assertTrue(reasons.getOrDefault("undeclared", "").contains("is not declared by application " + a.name()), reasons.toString());
            assertTrue(reasons.getOrDefault("foreign", "").contains("is not under this application's prefix"), reasons.toString());
            assertFalse(received.isEmpty(), "no webhook for the declared event within 60 s");
            Thread.sleep(1000); // nothing else arrives: the refused events reach nobody
            assertEquals(1, received.size(), received.toString());
            Map<String, String> r = received.get(0);
            assertEquals(type, new JsonObject(r.get("body")).getString("event"));
            assertEquals("good", new JsonObject(r.get("body")).getJsonObject("data").getString("label"));
            javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
            mac.init(new javax.crypto.spec.SecretKeySpec(Base64.getDecoder().decode(secret.substring("whsec_".length())), "HmacSHA256"));
            String signed = r.get("id") + "." + r.get("timestamp") + "." + r.get("body");
            assertEquals("v1," + Base64.getEncoder().encodeToString(mac.doFinal(signed.getBytes(StandardCharsets.UTF_8))),
                    r.get("signature"));
        } finally {
            receiver.stop(0);
        }
    }

    private static String appEvent(String type, String label) {
        return new JsonObject().put("specversion", "1.0").put("id", UUID.randomUUID().toString())
                .put("source", "/e2e/billing").put("type", type).put("subject", label)
                .put("data", new JsonObject().put("invoice", "2026-0042").put("label", label)).encode();
    }

    /** A consumer on the services' loopback listener, as the platform's operators read a dead-letter topic. */
    private static KafkaConsumer<String, String> operatorConsumer(SharedPlatform platform, String topic) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + platform.env().get("OSFRIA_KAFKA_PORT"));
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "e2e-operator-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
        consumer.subscribe(List.of(topic));
        return consumer;
    }

    private static JsonObject await(KafkaConsumer<String, String> consumer, List<JsonObject> seen, String correlation,
                                    String status) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            for (JsonObject r : seen) {
                if (correlation.equals(r.getString("correlation_id")) && status.equals(r.getString("status"))) {
                    return r;
                }
            }
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(300))) {
                JsonObject event = new JsonObject(r.value());
                assertEquals("fr.osfria.app.document.result", event.getString("type"), r.value());
                seen.add(event.getJsonObject("data"));
            }
        }
        throw new AssertionError("no " + status + " result for " + correlation + " within 60 s; saw " + seen);
    }

    private static String submission(String correlation, String collection) {
        String text = "Facture " + correlation + " : paiement à trente jours, pénalités de retard au taux légal.";
        return new JsonObject().put("specversion", "1.0").put("id", UUID.randomUUID().toString())
                .put("source", "/e2e/billing").put("type", "fr.osfria.app.document.submitted")
                .put("data", new JsonObject().put("correlation_id", correlation).put("collection", collection)
                        .put("filename", correlation + ".txt")
                        .put("file_base64", Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8))))
                .encode();
    }

    private static KafkaProducer<String, String> producer(App app) {
        Properties props = new Properties();
        props.putAll(app.settings());
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "20000");
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "25000");
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    private static KafkaConsumer<String, String> consumer(App app, String group, String topic) {
        return consumer(app, group, topic, new Properties());
    }

    private static KafkaConsumer<String, String> consumer(App app, String group, String topic, Properties extra) {
        Properties props = new Properties();
        props.putAll(app.settings());
        props.putAll(extra);
        props.remove("max.request.size");
        props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
        consumer.subscribe(List.of(topic));
        return consumer;
    }

    private static String password(App app) {
        String jaas = app.settings().getProperty("sasl.jaas.config");
        int at = jaas.indexOf("password=\"") + "password=\"".length();
        return jaas.substring(at, jaas.indexOf('"', at));
    }

    /** {@code ./osfria keys create NAME --kafka OPTIONS}, as a user runs it, on the shared platform's data. */
    private static App create(String name, String... options) throws IOException, InterruptedException {
        return create(name, new ArrayList<>(), options);
    }

    private static App create(String name, List<String> outputs, String... options) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("keys", "create", name, "--kafka"));
        args.addAll(List.of(options));
        Run run = osfria(SharedPlatform.get(), args.toArray(String[]::new));
        outputs.add(run.out + run.err);
        assertEquals(0, run.exitCode, run.out);
        String[] lines = run.out.split("\n", 2);
        assertTrue(lines[0].startsWith("sk-osfria-"), run.out);
        Properties settings = new Properties();
        settings.load(new StringReader(lines[1]));
        assertNotEquals(null, settings.getProperty("sasl.jaas.config"), run.out);
        return new App(name, lines[0].trim(), settings);
    }

    private record Run(int exitCode, String out, String err) {
    }

    private static Run osfria(SharedPlatform platform, String... args) throws IOException, InterruptedException {
        Path home = Path.of("").toAbsolutePath().getParent();
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-Dosfria.home=" + home, "-jar", home.resolve("platform-local/target/platform-local.jar").toString()));
        command.addAll(List.of(args));
        Path err = Files.createTempFile("osfria-keys", ".err"); // stderr apart: the key and settings are stdout
        ProcessBuilder builder = new ProcessBuilder(command).redirectError(err.toFile());
        builder.environment().putAll(platform.env());
        builder.environment().put("OSFRIA_DATA", platform.dataDir().toString());
        Process process = builder.start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("osfria " + String.join(" ", args) + " did not end: " + out);
        }
        String errors = Files.readString(err);
        Files.delete(err);
        return new Run(process.exitValue(), process.exitValue() == 0 ? out : out + errors, errors);
    }
}
