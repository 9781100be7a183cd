package fr.osfria.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.StringReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.apache.kafka.common.security.ssl.DefaultSslEngineFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The APPS listener's certificate authority and certificate, made by the real keytool, without a platform: kept
 * across starts, made again when the names change (same authority), owner-only files, a clear error for a damaged
 * file; and the printed client settings, parsed by Kafka's own SSL factory, trust it with host names verified.
 */
class KafkaAppsTlsTest {

    private static final List<String> NAMES = List.of("localhost", "127.0.0.1");

    @TempDir
    static Path shared;
    private static KafkaAppsTls tls;
    private static final List<String> said = new ArrayList<>();

    @BeforeAll
    static void makeOnce() {
        tls = new KafkaAppsTls(shared, NAMES); // keytool takes about a second per key: one authority for most cases
        tls.ensure(said::add);
    }

    @Test
    void theFirstStartMakesOwnerOnlyFilesAndSaysSoInOneLineWithoutSecrets() throws Exception {
        Path dir = shared.resolve(KafkaAppsTls.DIR);
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
        for (String file : List.of(KafkaAppsTls.CA_STORE, KafkaAppsTls.SERVER_STORE, KafkaAppsTls.PASSWORD)) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(file))), file);
        }
        try (var files = Files.list(dir)) {
            assertEquals(List.of("ca.crt", "ca.p12", "server.p12", "store.password"),
                    files.map(f -> f.getFileName().toString()).sorted().toList(), "no work file left");
        }
        assertEquals(1, said.size(), said.toString());
        assertTrue(said.get(0).contains("localhost, 127.0.0.1"), said.get(0));
        for (String secret : secrets(dir)) {
            assertFalse(said.get(0).contains(secret));
        }
    }

    @Test
    void aRestartKeepsTheCertificateAndSaysNothing() {
        String before = KafkaAppsTls.fingerprint(tls.serverCertificate());
        List<String> lines = new ArrayList<>();
        new KafkaAppsTls(shared, NAMES).ensure(lines::add);
        assertEquals(before, KafkaAppsTls.fingerprint(tls.serverCertificate()));
        assertEquals(List.of(), lines);
    }

    @Test
    void aChangedNameMakesANewCertificateSignedByTheSameAuthority(@TempDir Path data) throws Exception {
        KafkaAppsTls first = new KafkaAppsTls(data, NAMES);
        // as a local user watching ps: keytool's command lines while it makes the CA and the certificate
        java.util.Set<String> keytoolCommands = java.util.concurrent.ConcurrentHashMap.newKeySet();
        java.util.concurrent.atomic.AtomicBoolean making = new java.util.concurrent.atomic.AtomicBoolean(true);
        Thread watcher = new Thread(() -> {
            while (making.get()) {
                ProcessHandle.current().descendants().forEach(p -> p.info().commandLine()
                        .filter(c -> c.contains("keytool")).ifPresent(keytoolCommands::add));
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        watcher.start();
        try {
            first.ensure(line -> { });
        } finally {
            making.set(false);
            watcher.join();
        }
        String password = Files.readString(data.resolve(KafkaAppsTls.DIR).resolve(KafkaAppsTls.PASSWORD)).trim();
        assertFalse(keytoolCommands.isEmpty(), "keytool was seen running");
        assertTrue(keytoolCommands.stream().noneMatch(c -> c.contains(password)), keytoolCommands.toString());
        assertTrue(keytoolCommands.stream().allMatch(c -> c.contains("-storepass:env")), keytoolCommands.toString());
        assertTrue(first.certifies("localhost") && first.certifies("127.0.0.1"));
        assertFalse(first.certifies("kafka.example.org"), "keys create refuses to print an address not certified");
        String ca = first.caPem();
        X509Certificate before = first.serverCertificate();

        List<String> lines = new ArrayList<>();
        KafkaAppsTls renamed = new KafkaAppsTls(data, List.of("kafka.example.org", "localhost", "10.1.2.3"));
        renamed.ensure(lines::add);
        X509Certificate after = renamed.serverCertificate();
        assertNotEquals(KafkaAppsTls.fingerprint(before), KafkaAppsTls.fingerprint(after));
        assertEquals(ca, renamed.caPem(), "the authority stays: applications keep trusting the listener");
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.get(0).contains("made again for kafka.example.org, localhost, 10.1.2.3 (names changed; same CA)"), lines.get(0));
        List<String> sans = after.getSubjectAlternativeNames().stream().map(san -> san.get(1).toString()).sorted().toList();
        assertEquals(List.of("10.1.2.3", "kafka.example.org", "localhost"), sans);
        assertTrue(renamed.certifies("kafka.example.org") && !renamed.certifies("127.0.0.1"));
        after.verify(certificate(ca).getPublicKey());

        // a deleted certificate is made again, by the same authority; a damaged one stops the start, naming it
        Path server = data.resolve(KafkaAppsTls.DIR).resolve(KafkaAppsTls.SERVER_STORE);
        Files.delete(server);
        renamed.ensure(line -> { });
        renamed.serverCertificate().verify(certificate(ca).getPublicKey());
        Files.write(server, "not a key store".getBytes(StandardCharsets.UTF_8));
        LocalPlatformException damaged = assertThrows(LocalPlatformException.class, () -> renamed.ensure(line -> { }));
        assertTrue(damaged.getMessage().contains(server.toString()) && damaged.getMessage().contains("delete it"),
                damaged.getMessage());
        Path ca12 = data.resolve(KafkaAppsTls.DIR).resolve(KafkaAppsTls.CA_STORE);
        Files.write(ca12, new byte[]{0x30, 0x03, 0x02, 0x01, 0x00});
        LocalPlatformException caDamaged = assertThrows(LocalPlatformException.class, () -> renamed.ensure(line -> { }));
        assertTrue(caDamaged.getMessage().contains(ca12.toString())
                && caDamaged.getMessage().contains("does not start without TLS"), caDamaged.getMessage());
        // a store readable by others (e.g. restored from a backup) is made owner-only again
        Files.delete(server);
        Files.write(ca12, Files.readAllBytes(shared.resolve(KafkaAppsTls.DIR).resolve(KafkaAppsTls.CA_STORE)));
        Files.setPosixFilePermissions(ca12, PosixFilePermissions.fromString("rw-r--r--"));
        assertThrows(LocalPlatformException.class, () -> renamed.ensure(line -> { }), "another store's password");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(ca12)));
    }

    @Test
    void thePrintedSettingsTrustTheListenerUnderItsNamesOnly() throws Exception {
        Properties printed = new Properties();
        printed.load(new StringReader(KafkaApplications.clientSettings("billing", "localhost:19094", "pw", tls.caPem())));
        assertEquals("SASL_SSL", printed.getProperty("security.protocol"));
        assertEquals("PEM", printed.getProperty("ssl.truststore.type"));
        assertEquals(null, printed.getProperty("ssl.endpoint.identification.algorithm"), "Kafka's default (https) stays");

        SSLContext trusting = kafkaClientContext(printed);
        try (SSLServerSocket server = listener()) {
            assertEquals(KafkaAppsTls.fingerprint(tls.serverCertificate()), handshake(trusting, server, "localhost"));
            assertEquals(KafkaAppsTls.fingerprint(tls.serverCertificate()), handshake(trusting, server, "127.0.0.1"));
            assertThrows(SSLHandshakeException.class, () -> handshake(trusting, server, "not-in-the-certificate.example"));
            // a client that does not trust the platform's authority (the JDK's default trust store)
            assertThrows(SSLHandshakeException.class, () -> handshake(SSLContext.getDefault(), server, "localhost"));
        }
    }

    /** The SSL context Kafka's client builds from the printed properties (its PEM parser, its trust manager). */
    private static SSLContext kafkaClientContext(Properties printed) {
        Map<String, Object> configs = new HashMap<>();
        printed.forEach((k, v) -> configs.put(k.toString(), v));
        configs.put("ssl.protocol", "TLSv1.3");
        configs.put("ssl.enabled.protocols", List.of("TLSv1.3", "TLSv1.2"));
        configs.put("ssl.keymanager.algorithm", KeyManagerFactory.getDefaultAlgorithm());
        configs.put("ssl.trustmanager.algorithm", javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
        configs.put("ssl.truststore.certificates", new org.apache.kafka.common.config.types.Password(
                printed.getProperty("ssl.truststore.certificates")));
        try (DefaultSslEngineFactory factory = new DefaultSslEngineFactory()) {
            factory.configure(configs);
            return factory.sslContext();
        }
    }

    /** A TLS server with the listener's key store, as the broker loads it. */
    private static SSLServerSocket listener() throws Exception {
        Path dir = shared.resolve(KafkaAppsTls.DIR);
        char[] password = Files.readString(dir.resolve(KafkaAppsTls.PASSWORD)).trim().toCharArray();
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(dir.resolve(KafkaAppsTls.SERVER_STORE))) {
            store.load(in, password);
        }
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(store, password);
        SSLContext context = SSLContext.getInstance("TLSv1.3");
        context.init(keys.getKeyManagers(), null, null);
        SSLServerSocket server = (SSLServerSocket) context.getServerSocketFactory().createServerSocket(0, 5,
                InetAddress.getLoopbackAddress());
        server.setEnabledProtocols(new String[]{"TLSv1.3", "TLSv1.2"});
        return server;
    }

    /** A client handshake to the server under {@code host}, verified as Kafka verifies it (HTTPS rules). */
    private static String handshake(SSLContext client, SSLServerSocket server, String host) throws Exception {
        CompletableFuture<Void> accepted = CompletableFuture.runAsync(() -> {
            try (SSLSocket s = (SSLSocket) server.accept()) {
                s.setSoTimeout(5000);
                s.startHandshake();
                s.getInputStream().read();
            } catch (Exception e) {
                // the client's failure is what the test asserts
            }
        });
        Socket plain = new Socket();
        plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()), 5000);
        try (SSLSocket socket = (SSLSocket) client.getSocketFactory().createSocket(plain, host, server.getLocalPort(), true)) {
            SSLParameters params = socket.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS");
            socket.setSSLParameters(params);
            socket.setSoTimeout(5000);
            socket.startHandshake();
            return KafkaAppsTls.fingerprint(socket.getSession().getPeerCertificates()[0]);
        } finally {
            accepted.get(10, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    private static X509Certificate certificate(String pem) throws Exception {
        return (X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(
                new java.io.ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    }

    /** The stores' password and pieces of the private keys, as PEM (base64) or hex would show them. */
    static List<String> secrets(Path dir) throws Exception {
        String password = Files.readString(dir.resolve(KafkaAppsTls.PASSWORD)).trim();
        List<String> secrets = new ArrayList<>(List.of(password));
        for (String file : List.of(KafkaAppsTls.CA_STORE, KafkaAppsTls.SERVER_STORE)) {
            KeyStore store = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(dir.resolve(file))) {
                store.load(in, password.toCharArray());
            }
            String alias = store.aliases().nextElement();
            java.security.interfaces.ECPrivateKey key = (java.security.interfaces.ECPrivateKey) store.getKey(alias,
                    password.toCharArray());
            // PKCS#8 (PEM's body) past its 36-byte header, which every P-256 key shares; and the scalar in hex
            secrets.add(Base64.getEncoder().encodeToString(key.getEncoded()).substring(48, 88));
            secrets.add(java.util.HexFormat.of().formatHex(key.getS().toByteArray()).substring(0, 40));
        }
        return secrets;
    }
}
