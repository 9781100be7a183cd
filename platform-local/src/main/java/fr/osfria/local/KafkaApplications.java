package fr.osfria.local;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialDeletion;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.ResourceNotFoundException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.apache.kafka.common.resource.ResourceType;

/**
 * An internal application's identity on the local broker ({@code keys create NAME --kafka}): SCRAM-SHA-512
 * credentials for the user {@code NAME} (the broker keeps only a salted hash), its topics, and ACLs that let it
 * write its input topics, read its results topic and use consumer groups {@code osfria.app.NAME.*}, nothing else.
 * Talks to the broker through its loopback listener, whose (anonymous) principal is a super user.
 */
final class KafkaApplications implements AutoCloseable {

    static final String PREFIX = "osfria.app.";
    /** What an application writes; ingest-service consumes {@code documents.v1} (the others await their consumers). */
    static final List<String> INPUTS = List.of("documents.v1", "inference.v1", "events.v1");
    static final String RESULTS = "results.v1";
    static final String DLQ = "dlq.v1";
    /**
     * The largest record of {@code documents.v1} (and of the dead-letter topic): a file of 8 MiB inline in base64
     * (about 10.7 MiB) with its CloudEvent around it. ingest-service refuses larger files in the record itself.
     */
    static final int MAX_MESSAGE_BYTES = 12 * 1024 * 1024;

    private static final SecureRandom RANDOM = new SecureRandom();
    private final Admin admin;

    KafkaApplications(String bootstrap) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "15000");
        this.admin = Admin.create(props);
    }

    static String topic(String name, String suffix) {
        return PREFIX + name + "." + suffix;
    }

    /** Creates the application's topics, credentials and ACLs; returns its password, which exists nowhere else. */
    String create(String name) {
        String password = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes(32));
        List<NewTopic> topics = new ArrayList<>();
        for (String input : INPUTS) {
            topics.add(topic(topic(name, input), input.equals("documents.v1")));
        }
        topics.add(topic(topic(name, RESULTS), false));
        topics.add(topic(topic(name, DLQ), true));
        try {
            try {
                admin.createTopics(topics).all().get(30, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) { // kept from an earlier key of that name
                    throw e;
                }
            }
            admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(name,
                    new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), password))).all().get(30, TimeUnit.SECONDS);
            admin.createAcls(acls(name)).all().get(30, TimeUnit.SECONDS);
            return password;
        } catch (Exception e) {
            throw new LocalPlatformException("the broker did not take the Kafka credentials of '" + name + "': "
                    + reason(e));
        }
    }

    /** Removes the application's credentials and every ACL of its user; its topics and their records stay. */
    void revoke(String name) {
        try {
            try {
                admin.alterUserScramCredentials(List.of(new UserScramCredentialDeletion(name, ScramMechanism.SCRAM_SHA_512)))
                        .all().get(30, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof ResourceNotFoundException)) { // removed already
                    throw e;
                }
            }
            admin.deleteAcls(List.of(new AclBindingFilter(ResourcePatternFilter.ANY, new AccessControlEntryFilter(
                    principal(name), null, AclOperation.ANY, AclPermissionType.ANY)))).all().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new LocalPlatformException("the broker did not remove the Kafka credentials of '" + name + "': "
                    + reason(e));
        }
    }

    /** The ACLs of {@code name}: exact topic names (it cannot create others), groups by prefix. */
    static List<AclBinding> acls(String name) {
        List<AclBinding> acls = new ArrayList<>();
        for (String input : INPUTS) {
            acls.add(allow(ResourceType.TOPIC, topic(name, input), PatternType.LITERAL, name, AclOperation.WRITE));
            acls.add(allow(ResourceType.TOPIC, topic(name, input), PatternType.LITERAL, name, AclOperation.DESCRIBE));
        }
        acls.add(allow(ResourceType.TOPIC, topic(name, RESULTS), PatternType.LITERAL, name, AclOperation.READ));
        acls.add(allow(ResourceType.TOPIC, topic(name, RESULTS), PatternType.LITERAL, name, AclOperation.DESCRIBE));
        acls.add(allow(ResourceType.GROUP, PREFIX + name + ".", PatternType.PREFIXED, name, AclOperation.READ));
        return acls;
    }

    /** The client settings to paste into the application's configuration (with its password: shown once). */
    static String clientSettings(String name, String bootstrap, String password) {
        return String.join("\n",
                "# Kafka client settings of application '" + name + "' (shown once: store them now)",
                "bootstrap.servers=" + bootstrap,
                "security.protocol=SASL_PLAINTEXT",
                "sasl.mechanism=SCRAM-SHA-512",
                "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                        + name + "\" password=\"" + password + "\";",
                "max.request.size=" + MAX_MESSAGE_BYTES,
                "# writes: " + topic(name, "documents.v1") + " (and " + String.join(", ", INPUTS.subList(1, INPUTS.size()))
                        + "); reads: " + topic(name, RESULTS) + "; group.id: " + PREFIX + name + ".<anything>");
    }

    private static AclBinding allow(ResourceType type, String resource, PatternType pattern, String name, AclOperation op) {
        return new AclBinding(new ResourcePattern(type, resource, pattern),
                new AccessControlEntry(principal(name), "*", op, AclPermissionType.ALLOW));
    }

    private static String principal(String name) {
        return "User:" + name;
    }

    private static NewTopic topic(String name, boolean large) {
        NewTopic topic = new NewTopic(name, Optional.empty(), Optional.empty());
        return large ? topic.configs(Map.of("max.message.bytes", String.valueOf(MAX_MESSAGE_BYTES))) : topic;
    }

    private static byte[] bytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    private static String reason(Exception e) {
        Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
        return cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : " " + cause.getMessage());
    }

    @Override
    public void close() {
        admin.close(java.time.Duration.ofSeconds(5));
    }
}
