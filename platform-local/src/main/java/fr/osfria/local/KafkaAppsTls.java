package fr.osfria.local;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The TLS of the broker's {@code APPS} listener, and the one place that creates and loads it: the platform's own
 * certificate authority and the listener's certificate, in {@code <data>/kafka-tls} (a directory only its owner
 * may enter; the key stores and their password are {@code rw-------}). Made with the JDK's {@code keytool} at the
 * first start, kept across restarts; the listener's certificate is made again, signed by the same authority (so
 * that applications keep trusting it), when its names change or it is within 30 days of its end. A file that
 * cannot be read stops the start with its name and what to do: the listener never falls back to plaintext.
 */
final class KafkaAppsTls {

    static final String DIR = "kafka-tls";
    static final String CA_STORE = "ca.p12";
    static final String SERVER_STORE = "server.p12";
    static final String PASSWORD = "store.password";
    static final String CA_CERT = "ca.crt";
    private static final String WORK_STORE = "work.p12";
    private static final String CA = "ca";
    private static final String SERVER = "server";
    private static final int CA_DAYS = 3650;
    private static final int SERVER_DAYS = 825;
    private static final Duration RENEW_BEFORE = Duration.ofDays(30);
    /** keytool reads the stores' password from this variable of its own environment, never from its command line. */
    private static final String PASSWORD_ENV = "OSFRIA_KEYTOOL_STOREPASS";
    private static final Set<PosixFilePermission> OWNER_ONLY_DIR = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    /** What the broker's listener needs: its PKCS12 key store and that store's password. */
    record ServerStore(Path location, String password) {
    }

    private final Path dir;
    private final List<String> names;

    /** {@code names}: DNS names and IP addresses the listener's certificate holds, the advertised one first. */
    KafkaAppsTls(Path dataDir, List<String> names) {
        this.dir = dataDir.resolve(DIR);
        this.names = List.copyOf(names);
    }

    static KafkaAppsTls of(LocalSettings settings) {
        return new KafkaAppsTls(settings.dataDir(), names(settings));
    }

    /**
     * The certificate's names: the operator's ({@code OSFRIA_KAFKA_APPS_HOSTNAMES}), {@code localhost}, this host's
     * name, and {@code OSFRIA_BIND}'s address unless it is every interface.
     */
    static List<String> names(LocalSettings settings) {
        Set<String> names = new LinkedHashSet<>(settings.kafkaAppsHostnames());
        names.add("localhost");
        try {
            String host = InetAddress.getLocalHost().getHostName().toLowerCase(Locale.ROOT);
            if (LocalSettings.isDnsName(host)) {
                names.add(host);
            }
        } catch (IOException e) {
            // a host whose own name does not resolve: applications use OSFRIA_KAFKA_APPS_HOSTNAMES or the address
        }
        String bind = settings.bindAddress();
        if (!bind.equals("0.0.0.0") && !bind.equals("::")) {
            names.add(bind);
        }
        return List.copyOf(names);
    }

    Path dir() {
        return dir;
    }

    /**
     * Makes what is missing or outdated and returns the listener's store; says in one line what it made (nothing
     * when everything is kept).
     */
    ServerStore ensure(Consumer<String> say) {
        ownerOnlyDirectory();
        Path caStore = dir.resolve(CA_STORE);
        Path serverStore = dir.resolve(SERVER_STORE);
        Path passwordFile = dir.resolve(PASSWORD);
        if (!Files.exists(caStore)) {
            // a new authority: a certificate signed by an older one (if any) would no longer be trusted with it
            String password = newPassword();
            deleteIfExists(serverStore);
            writeOwnerOnly(passwordFile, password.getBytes(StandardCharsets.UTF_8));
            keytool(password, "-genkeypair", "-alias", CA, "-keyalg", "EC", "-groupname", "secp256r1",
                    "-sigalg", "SHA256withECDSA", "-dname", "CN=Osfria platform CA " + Instant.now().getEpochSecond(),
                    "-ext", "bc:c", "-ext", "ku:c=keyCertSign,cRLSign", "-validity", String.valueOf(CA_DAYS),
                    "-keystore", dir.resolve(WORK_STORE).toString(), "-storetype", "PKCS12");
            KeyStore work = load(dir.resolve(WORK_STORE), password);
            store(caStore, password, CA, work);
            issue(password);
            say.accept("Kafka TLS: made a CA and the APPS certificate for " + String.join(", ", names));
            return new ServerStore(serverStore, password);
        }
        String password = password(passwordFile);
        KeyStore ca = load(caStore, password);
        X509Certificate caCert = certificate(ca, CA, caStore);
        writeCaCertificate(caCert);
        if (!Files.exists(serverStore)) {
            issue(password);
            say.accept("Kafka TLS: made the missing certificate for " + String.join(", ", names));
            return new ServerStore(serverStore, password);
        }
        KeyStore server = load(serverStore, password);
        X509Certificate current = certificate(server, SERVER, serverStore);
        try {
            current.verify(caCert.getPublicKey());
        } catch (GeneralSecurityException e) {
            throw new LocalPlatformException("the APPS listener's certificate in " + serverStore + " is not signed by "
                    + "the platform's certificate authority (" + caStore + "): delete " + serverStore
                    + " to make a new one signed by that authority");
        }
        Set<String> had = subjectAltNames(current);
        if (!had.equals(normalized(names))) {
            issue(password);
            say.accept("Kafka TLS: certificate made again for " + String.join(", ", names) + " (names changed; same CA)");
        } else if (current.getNotAfter().toInstant().isBefore(Instant.now().plus(RENEW_BEFORE))) {
            issue(password);
            say.accept("Kafka TLS: certificate made again (the old one ends on " + current.getNotAfter().toInstant()
                    + "; same CA)");
        }
        return new ServerStore(serverStore, password);
    }

    /** The platform's certificate authority, PEM, as applications trust it (public: no key in it). */
    String caPem() {
        Path file = dir.resolve(CA_CERT);
        try {
            String pem = Files.readString(file, StandardCharsets.US_ASCII);
            if (!pem.contains("-----BEGIN CERTIFICATE-----")) {
                throw new IOException("no PEM certificate in it");
            }
            return pem.trim();
        } catch (IOException e) {
            throw new LocalPlatformException("the platform's certificate authority " + file + " cannot be read ("
                    + e.getMessage() + "): run ./osfria up once to write it again");
        }
    }

    /**
     * Whether the stored certificate names {@code host} (a name, an address, or a bracketed IPv6 address): what a
     * client verifying host names accepts.
     */
    boolean certifies(String host) {
        String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        return subjectAltNames(serverCertificate()).containsAll(normalized(List.of(bare)));
    }

    /** The listener's certificate as stored (tests compare it with what the broker presents). */
    X509Certificate serverCertificate() {
        Path file = dir.resolve(SERVER_STORE);
        return certificate(load(file, password(dir.resolve(PASSWORD))), SERVER, file);
    }

    static String fingerprint(Certificate certificate) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes a file only its owner may read, created so (never readable by others, not even for a moment). */
    static void writeOwnerOnly(Path file, byte[] content) {
        try {
            Path temp = Files.createTempFile(file.getParent(), "." + file.getFileName(), ".tmp",
                    PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            Files.write(temp, content);
            Files.setPosixFilePermissions(temp, OWNER_ONLY);
            Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new LocalPlatformException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** A new listener certificate for {@link #names}, signed by the stored authority. */
    private void issue(String password) {
        Path work = dir.resolve(WORK_STORE);
        try {
            // keytool signs only with a key of the same store: a copy of the authority's, deleted once split
            Files.copy(dir.resolve(CA_STORE), work, StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(work, OWNER_ONLY);
        } catch (IOException e) {
            throw new LocalPlatformException("cannot write " + work + ": " + e.getMessage(), e);
        }
        keytool(password, "-genkeypair", "-alias", SERVER, "-keyalg", "EC", "-groupname", "secp256r1",
                "-sigalg", "SHA256withECDSA", "-dname", "CN=" + names.get(0), "-signer", CA,
                "-ext", "SAN=" + String.join(",", normalized(names)), "-ext", "eku=serverAuth",
                "-ext", "ku:c=digitalSignature", "-validity", String.valueOf(SERVER_DAYS),
                "-keystore", work.toString(), "-storetype", "PKCS12");
        store(dir.resolve(SERVER_STORE), password, SERVER, load(work, password));
    }

    /** Keeps one entry of the work store in a store of its own, then removes the work store. */
    private void store(Path file, String password, String alias, KeyStore work) {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry(alias, (PrivateKey) work.getKey(alias, password.toCharArray()), password.toCharArray(),
                    work.getCertificateChain(alias));
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            store.store(bytes, password.toCharArray());
            writeOwnerOnly(file, bytes.toByteArray());
            if (alias.equals(CA)) {
                writeCaCertificate((X509Certificate) work.getCertificate(CA));
            }
            Files.deleteIfExists(dir.resolve(WORK_STORE));
        } catch (GeneralSecurityException | IOException e) {
            throw new LocalPlatformException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private void writeCaCertificate(X509Certificate caCert) {
        try {
            String pem = "-----BEGIN CERTIFICATE-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                    .encodeToString(caCert.getEncoded()) + "\n-----END CERTIFICATE-----\n";
            Path file = dir.resolve(CA_CERT);
            if (!Files.exists(file) || !Files.readString(file, StandardCharsets.US_ASCII).equals(pem)) {
                writeOwnerOnly(file, pem.getBytes(StandardCharsets.US_ASCII));
            }
        } catch (GeneralSecurityException | IOException e) {
            throw new LocalPlatformException("cannot write " + dir.resolve(CA_CERT) + ": " + e.getMessage(), e);
        }
    }

    private KeyStore load(Path file, String password) {
        try (InputStream in = Files.newInputStream(file)) {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(in, password.toCharArray());
            return store;
        } catch (IOException | GeneralSecurityException e) {
            throw unreadable(file, e.getMessage());
        }
    }

    private X509Certificate certificate(KeyStore store, String alias, Path file) {
        try {
            if (!store.isKeyEntry(alias) || !(store.getCertificate(alias) instanceof X509Certificate cert)) {
                throw unreadable(file, "no entry '" + alias + "' with its key");
            }
            return cert;
        } catch (java.security.KeyStoreException e) {
            throw unreadable(file, e.getMessage());
        }
    }

    private LocalPlatformException unreadable(Path file, String why) {
        String fix = file.getFileName().toString().equals(SERVER_STORE)
                ? "delete it: the next ./osfria up makes a new one, signed by the same certificate authority"
                : "restore it from a backup, or delete the directory " + dir + " to make a new certificate authority "
                + "(every application then needs the new one: its settings from ./osfria keys create NAME --kafka, "
                + "or " + dir.resolve(CA_CERT) + ")";
        return new LocalPlatformException("the Kafka APPS listener's TLS file " + file + " cannot be read ("
                + why + "): " + fix + ". The listener does not start without TLS.");
    }

    private String password(Path file) {
        try {
            String password = Files.readString(file, StandardCharsets.UTF_8).trim();
            if (password.isEmpty()) {
                throw new IOException("it is empty");
            }
            return password;
        } catch (IOException e) {
            throw unreadable(file, e.getMessage());
        }
    }

    private void ownerOnlyDirectory() {
        try {
            Files.createDirectories(dir.getParent());
            if (!Files.exists(dir)) {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIR));
            }
            Files.setPosixFilePermissions(dir, OWNER_ONLY_DIR);
            for (String file : List.of(CA_STORE, SERVER_STORE, PASSWORD, CA_CERT)) {
                if (Files.exists(dir.resolve(file))) {
                    Files.setPosixFilePermissions(dir.resolve(file), OWNER_ONLY);
                }
            }
            Files.deleteIfExists(dir.resolve(WORK_STORE)); // left by a start that was killed half-way
        } catch (IOException e) {
            throw new LocalPlatformException("cannot make " + dir + " readable by its owner only: " + e.getMessage(), e);
        }
    }

    private static void deleteIfExists(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new LocalPlatformException("cannot delete " + file + ": " + e.getMessage(), e);
        }
    }

    /** Names as keytool's SAN extension spells them ({@code dns:localhost}, {@code ip:127.0.0.1}). */
    private static Set<String> normalized(List<String> names) {
        Set<String> out = new TreeSet<>();
        for (String name : names) {
            if (LocalSettings.isDnsName(name)) {
                out.add("dns:" + name.toLowerCase(Locale.ROOT));
            } else {
                try {
                    out.add("ip:" + InetAddress.getByName(name).getHostAddress());
                } catch (IOException e) {
                    throw new LocalPlatformException("not a host name nor an IP address: '" + name + "'");
                }
            }
        }
        return out;
    }

    private static Set<String> subjectAltNames(X509Certificate cert) {
        Set<String> out = new TreeSet<>();
        try {
            if (cert.getSubjectAlternativeNames() != null) {
                for (List<?> san : cert.getSubjectAlternativeNames()) {
                    int type = (Integer) san.get(0);
                    if (type == 2) {
                        out.add("dns:" + san.get(1).toString().toLowerCase(Locale.ROOT));
                    } else if (type == 7) {
                        out.add("ip:" + InetAddress.getByName(san.get(1).toString()).getHostAddress());
                    }
                }
            }
        } catch (GeneralSecurityException | IOException e) {
            // unreadable names count as different ones: the certificate is made again
        }
        return out;
    }

    private static String newPassword() {
        byte[] bytes = new byte[32];
        new SecureRandom().nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** The JDK's keytool as a child process; the password in its environment, readable by this user only. */
    private void keytool(String password, String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        command.addAll(List.of("-storepass:env", PASSWORD_ENV));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).directory(dir.toFile());
        builder.environment().put(PASSWORD_ENV, password);
        try {
            Process process = builder.start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                process.destroyForcibly();
                throw new LocalPlatformException("keytool could not make the Kafka APPS listener's certificate in "
                        + dir + ": " + output);
            }
        } catch (IOException e) {
            throw new LocalPlatformException("cannot run keytool (" + command.get(0) + "): " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LocalPlatformException("interrupted while making the Kafka APPS listener's certificate");
        }
    }
}
