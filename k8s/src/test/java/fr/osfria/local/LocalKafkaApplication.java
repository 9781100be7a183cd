package fr.osfria.local;

import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.kafka.common.resource.PatternType;

/**
 * What {@code ./osfria keys create NAME --kafka} gives an application on the local broker, read from platform-local's
 * own {@link KafkaApplications} (package-private, hence this class in its package): the Kubernetes manifests must
 * grant exactly that, and these tests compare them.
 */
public final class LocalKafkaApplication {

    /** One right of one principal, in the words of a Strimzi ACL (resource type, pattern, operation in lower case). */
    public record Grant(String principal, String resourceType, String resource, String patternType, String operation,
            String host) {
    }

    /** The ACLs the local broker gets for {@code name}, one grant per operation. */
    public static Set<Grant> grants(String name) {
        return KafkaApplications.acls(name).stream().map(acl -> new Grant(acl.entry().principal(),
                acl.pattern().resourceType().name().toLowerCase(Locale.ROOT), acl.pattern().name(),
                acl.pattern().patternType() == PatternType.PREFIXED ? "prefix"
                        : acl.pattern().patternType().name().toLowerCase(Locale.ROOT),
                acl.entry().operation().name().toLowerCase(Locale.ROOT), acl.entry().host()))
                .collect(Collectors.toSet());
    }

    /** The topics the local broker gets for {@code name}, with their configuration. */
    public static Map<String, Map<String, String>> topics(String name) {
        Map<String, Map<String, String>> topics = new TreeMap<>();
        KafkaApplications.topics(name).forEach(t -> topics.put(t.name(), new TreeMap<>(t.configs())));
        return topics;
    }

    /** The bytes per second the broker lets one application write. */
    public static long producerByteRate() {
        return (long) KafkaApplications.PRODUCER_BYTE_RATE;
    }

    /** The largest record the printed client settings let a producer send ({@code max.request.size}). */
    public static int maxRequestSize() {
        return KafkaApplications.MAX_MESSAGE_BYTES;
    }

    private LocalKafkaApplication() {
    }
}
