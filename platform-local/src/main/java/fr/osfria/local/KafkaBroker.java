package fr.osfria.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/** A real single-node KRaft Kafka broker, run from Kafka's own Maven artifacts in a child JVM. */
final class KafkaBroker {

    private final LocalSettings settings;
    private final KafkaAppsTls.ServerStore tls;
    private final Path dir;
    private ChildProcess process;

    /** {@code tls}: the APPS listener's key store ({@link KafkaAppsTls#ensure}). */
    KafkaBroker(LocalSettings settings, KafkaAppsTls.ServerStore tls) {
        this.settings = settings;
        this.tls = tls;
        this.dir = settings.dataDir().resolve("kafka");
    }

    ChildProcess start(String classpath, Consumer<String> out) throws IOException {
        Files.createDirectories(dir);
        Path config = dir.resolve("server.properties");
        // owner-only: it holds the password of the listener's key store
        KafkaAppsTls.writeOwnerOnly(config, """
                process.roles=broker,controller
                node.id=1
                controller.quorum.voters=1@127.0.0.1:%2$d
                listeners=PLAINTEXT://127.0.0.1:%1$d,CONTROLLER://127.0.0.1:%2$d,APPS://%4$s:%5$d
                advertised.listeners=PLAINTEXT://127.0.0.1:%1$d,APPS://%6$s:%5$d
                controller.listener.names=CONTROLLER
                listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,APPS:SASL_SSL
                inter.broker.listener.name=PLAINTEXT
                # internal applications (keys create NAME --kafka), on other machines: SCRAM-SHA-512 users, each
                # limited by its ACLs, over TLS 1.3 or 1.2 only, with the certificate of the platform's own CA
                listener.name.apps.sasl.enabled.mechanisms=SCRAM-SHA-512
                listener.name.apps.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
                listener.name.apps.ssl.protocol=TLSv1.3
                listener.name.apps.ssl.enabled.protocols=TLSv1.3,TLSv1.2
                listener.name.apps.ssl.keystore.type=PKCS12
                listener.name.apps.ssl.keystore.location=%7$s
                listener.name.apps.ssl.keystore.password=%8$s
                listener.name.apps.ssl.key.password=%8$s
                listener.name.apps.ssl.client.auth=none
                authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
                # the services', the controller's and the launcher's listeners, on loopback only, carry no identity
                # (ANONYMOUS): they keep every right, as before the authorizer; no application name can be ANONYMOUS
                super.users=User:ANONYMOUS
                allow.everyone.if.no.acl.found=false
                log.dirs=%3$s
                num.partitions=3
                auto.create.topics.enable=true
                offsets.topic.replication.factor=1
                transaction.state.log.replication.factor=1
                transaction.state.log.min.isr=1
                share.coordinator.state.topic.replication.factor=1
                share.coordinator.state.topic.min.isr=1
                group.initial.rebalance.delay.ms=0
                """.formatted(settings.kafkaPort(), settings.kafkaControllerPort(), dir.resolve("logs"),
                settings.bindAddress().contains(":") ? "[" + settings.bindAddress() + "]" : settings.bindAddress(),
                settings.kafkaAppsPort(), settings.advertisedHost(), tls.location(), tls.password())
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        if (!Files.exists(dir.resolve("logs").resolve("meta.properties"))) {
            format(classpath, config, out);
        }
        process = ChildProcess.start("kafka", List.of(ChildProcess.java(), "-Xms256m", "-Xmx512m", "-cp", classpath,
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "kafka.Kafka", config.toString()), Map.of(), dir, out);
        return process;
    }

    /** Starts the broker again on the same log directory, after it died. */
    ChildProcess restart(String classpath, Consumer<String> out) {
        try {
            return start(classpath, out);
        } catch (IOException e) {
            throw new LocalPlatformException("Kafka did not start again: " + e.getMessage(), e);
        }
    }

    private void format(String classpath, Path config, Consumer<String> out) throws IOException {
        ChildProcess format = ChildProcess.start("kafka-format", List.of(ChildProcess.java(), "-cp", classpath,
                "kafka.tools.StorageTool", "format", "-t", UUID.randomUUID().toString().replace("-", "").substring(0, 22),
                "-c", config.toString()), Map.of(), dir, out);
        try {
            int code = format.process().waitFor();
            if (code != 0) {
                throw new LocalPlatformException("formatting Kafka's storage in " + dir + " failed (exit " + code + ")");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LocalPlatformException("interrupted while formatting Kafka's storage");
        }
    }

    /** Waits until the broker answers a metadata request. */
    void awaitReady(Duration timeout) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, settings.kafkaBootstrap());
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000");
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Admin admin = Admin.create(props)) {
            while (true) {
                if (!process.alive()) {
                    throw new LocalPlatformException("Kafka exited during start-up");
                }
                try {
                    admin.describeCluster().nodes().get();
                    return;
                } catch (Exception e) {
                    if (System.nanoTime() > deadline) {
                        throw new LocalPlatformException("Kafka did not become ready within " + timeout.toSeconds() + " s");
                    }
                    Thread.sleep(300);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LocalPlatformException("interrupted while waiting for Kafka");
        }
    }
}
