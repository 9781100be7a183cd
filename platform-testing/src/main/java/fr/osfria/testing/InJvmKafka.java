package fr.osfria.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * A real single-node KRaft Kafka broker (Kafka's own test kit) running inside the test JVM, started once and
 * shared by every test of the JVM. Topics are created on first use.
 */
public final class InJvmKafka {

    private static KafkaClusterTestKit cluster;
    private static Path directory;

    public static synchronized String bootstrapServers() {
        if (cluster == null) {
            try {
                // Our own directory, deleted by our own hook after the broker has stopped: the test kit's default
                // temporary directory is deleted by a JVM shutdown hook that can race the broker's shutdown, and a
                // broker whose log directory vanishes halts the whole test JVM.
                directory = Files.createTempDirectory("osfria-kafka");
                KafkaClusterTestKit kit = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder()
                        .setBaseDirectory(directory)
                        .setCombined(true)
                        .setNumBrokerNodes(1)
                        .setNumControllerNodes(1)
                        .build())
                        .setConfigProp("auto.create.topics.enable", "true")
                        .setConfigProp("num.partitions", "3")
                        .setConfigProp("offsets.topic.replication.factor", "1")
                        .setConfigProp("transaction.state.log.replication.factor", "1")
                        .setConfigProp("transaction.state.log.min.isr", "1")
                        .setConfigProp("group.initial.rebalance.delay.ms", "0")
                        .setDeleteOnClose(false)
                        .build();
                kit.format();
                kit.startup();
                kit.waitForReadyBrokers();
                cluster = kit;
                Runtime.getRuntime().addShutdownHook(new Thread(InJvmKafka::close, "in-jvm-kafka-stop"));
            } catch (Exception e) {
                throw new IllegalStateException("the in-JVM Kafka broker did not start", e);
            }
        }
        return cluster.bootstrapServers();
    }

    /** Where the broker keeps its log segments: for tests that check what reaches the disk. */
    public static synchronized Path directory() {
        bootstrapServers();
        return directory;
    }

    private static synchronized void close() {
        try {
            if (cluster != null) {
                cluster.close();
            }
            if (directory != null) {
                try (Stream<Path> paths = Files.walk(directory)) {
                    paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        } catch (Exception e) {
            // the JVM is exiting anyway; at worst a temporary directory is left behind
        }
    }

    /**
     * The broker alone in a process of its own, as benchmarks use it, so that its garbage collections and compilations
     * do not pause the load generator and the simulated backends: prints {@code bootstrap=<servers>}, stops when its
     * standard input closes.
     */
    public static void main(String[] args) throws Exception {
        System.out.println("bootstrap=" + bootstrapServers());
        System.out.flush();
        while (System.in.read() >= 0) {
            // until the parent goes away
        }
        System.exit(0);
    }

    private InJvmKafka() {
    }
}
