package fr.osfria.security.messaging;

import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * How soon a dead consumer's partitions go to another member of its group: the platform-wide
 * {@code mp.messaging.connector.smallrye-kafka.session.timeout.ms} and {@code heartbeat.interval.ms}
 * ({@code META-INF/microprofile-config.properties}), which the SmallRye channels take by themselves, for the consumers a
 * service makes with Kafka's own client. One setting, so that every consumer of the platform recovers alike.
 */
public final class ConsumerLiveness {

    private static final String CONNECTOR = "mp.messaging.connector.smallrye-kafka.";
    private static final List<String> KEYS = List.of(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG,
            ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG);

    /** Adds the platform's session time-out and heartbeat interval to a consumer's properties. */
    public static Properties applyTo(Properties consumer) {
        var config = ConfigProvider.getConfig();
        for (String key : KEYS) {
            config.getOptionalValue(CONNECTOR + key, String.class).ifPresent(value -> consumer.put(key, value));
        }
        return consumer;
    }

    private ConsumerLiveness() {
    }
}
