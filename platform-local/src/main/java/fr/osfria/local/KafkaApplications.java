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
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
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
    /**
     * What an application writes: only topics a service consumes (documents: ingest-service; batch inference:
     * inference-router; {@code events.v1}, its own events: webhook-service fans them out as webhooks), so that no
     * application can fill the broker's disk through a topic nobody reads.
     */
    static final List<String> INPUTS = List.of("documents.v1", "inference.v1", "events.v1");
    static final String EVENTS = "events.v1";
    static final String RESULTS = "results.v1";
    static final String DLQ = "dlq.v1";
    /**
     * The largest record of {@code documents.v1} (and of the dead-letter topic): a file of 8 MiB inline in base64
     * (about 10.7 MiB) with its CloudEvent around it. ingest-service refuses larger files in the record itself.
     */
    static final int MAX_MESSAGE_BYTES = 12 * 1024 * 1024;
    /**
     * How long and how much an application topic keeps: files inline sit in the broker's log in clear until then (a
     * day outlasts a night's outage of ingest-service), results and dead letters a week; the size caps keep one
     * application from filling the broker's disk, which every service shares.
     */
    // documents.v1: ingest-service's osfria.ingest.app-record-retention (9 d) must exceed this retention plus the
    // segment time (segment.ms, the broker's 7 d): a record still in its topic must still be remembered, else one read
    // again is a second document (raise both together)
    static final Map<String, String> DOCUMENTS_RETENTION = Map.of("retention.ms", String.valueOf(24L * 3600_000),
            "retention.bytes", String.valueOf(1024L * 1024 * 1024));
    static final Map<String, String> RESULTS_RETENTION = Map.of("retention.ms", String.valueOf(7L * 24 * 3600_000),
            "retention.bytes", String.valueOf(256L * 1024 * 1024));
    /**
     * {@code events.v1}: webhook-service takes events of up to 64 KiB and dead-letters those up to this size, with
     * the reason; the broker refuses larger ones to the producer. A day and 256 MiB: webhook-service takes them in
     * within seconds, and each is then kept in its database for the deliveries and their replay.
     */
    static final int EVENTS_MAX_MESSAGE_BYTES = 128 * 1024;
    static final Map<String, String> EVENTS_CONFIG = Map.of("retention.ms", String.valueOf(24L * 3600_000),
            "retention.bytes", String.valueOf(256L * 1024 * 1024),
            "max.message.bytes", String.valueOf(EVENTS_MAX_MESSAGE_BYTES));
    /** Bytes per second one application may write (the broker throttles beyond): 4 MiB/s, a large file every 3 s. */
    static final double PRODUCER_BYTE_RATE = 4 * 1024 * 1024;

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
        List<NewTopic> topics = topics(name);
        try {
            try {
                admin.createTopics(topics).all().get(30, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof TopicExistsException) {
                    // an earlier application of that name: its results and files are not the new one's to read
                    throw new LocalPlatformException("topics of an earlier Kafka application '" + name + "' are still "
                            + "on the broker; choose another name");
                }
                throw e;
            }
            admin.alterClientQuotas(List.of(new ClientQuotaAlteration(new ClientQuotaEntity(
                    Map.of(ClientQuotaEntity.USER, name)), List.of(new ClientQuotaAlteration.Op("producer_byte_rate",
                    PRODUCER_BYTE_RATE))))).all().get(30, TimeUnit.SECONDS);
            admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(name,
                    new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), password))).all().get(30, TimeUnit.SECONDS);
            admin.createAcls(acls(name)).all().get(30, TimeUnit.SECONDS);
            return password;
        } catch (LocalPlatformException e) {
            throw e;
        } catch (Exception e) {
            throw new LocalPlatformException("the broker did not take the Kafka credentials of '" + name + "': "
                    + reason(e));
        }
    }

    /**
     * The application's topics with their settings: its inputs, its results, its dead-letter topic. Kubernetes
     * declares the same (k8s/components/kafka-application, whose tests compare it with this).
     */
    static List<NewTopic> topics(String name) {
        List<NewTopic> topics = new ArrayList<>();
        for (String input : INPUTS) {
            topics.add(input.equals(EVENTS) ? topic(topic(name, input), false, EVENTS_CONFIG)
                    : topic(topic(name, input), true, DOCUMENTS_RETENTION));
        }
        topics.add(topic(topic(name, RESULTS), false, RESULTS_RETENTION));
        topics.add(topic(topic(name, DLQ), true, RESULTS_RETENTION));
        return topics;
    }

    /**
     * Gives an application created by an earlier version the input topics and ACLs it lacks (its {@code events.v1}):
     * each missing topic is created, the ACLs added again (adding one that exists changes nothing).
     */
    void complete(String name) {
        try {
            java.util.Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<String> inputs = INPUTS.stream().map(input -> topic(name, input)).toList();
            List<NewTopic> missing = topics(name).stream()
                    .filter(t -> inputs.contains(t.name()) && !existing.contains(t.name())).toList();
            if (!missing.isEmpty()) {
                admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
            }
            admin.createAcls(acls(name)).all().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new LocalPlatformException("the broker did not take the topics and ACLs of '" + name + "': " + reason(e));
        }
    }

    /**
     * Removes the application's credentials, every ACL of its user, its quota and its topics: the files still waiting
     * there in clear and its results go with them (records not yet taken in are never processed: the key is revoked).
     */
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
            admin.alterClientQuotas(List.of(new ClientQuotaAlteration(new ClientQuotaEntity(
                    Map.of(ClientQuotaEntity.USER, name)), List.of(new ClientQuotaAlteration.Op("producer_byte_rate",
                    null))))).all().get(30, TimeUnit.SECONDS);
            List<String> topics = new ArrayList<>();
            INPUTS.forEach(input -> topics.add(topic(name, input)));
            topics.add(topic(name, RESULTS));
            topics.add(topic(name, DLQ));
            for (String topic : topics) { // one by one: a topic already gone does not keep the others
                try {
                    admin.deleteTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException)) {
                        throw e;
                    }
                }
            }
        } catch (Exception e) {
            throw new LocalPlatformException("the broker did not remove the Kafka credentials of '" + name + "': "
                    + reason(e));
        }
    }

    /**
     * The ACLs of {@code name}: exact topic names (it cannot create others), groups by prefix. Kubernetes grants the
     * same through a Strimzi KafkaUser (k8s/components/kafka-application, whose tests compare it with this).
     */
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
    /**
     * The settings an application needs, as Java client properties. The platform's CA goes inline
     * ({@code ssl.truststore.type=PEM}, {@code ssl.truststore.certificates}), not as a path: the application runs on
     * another machine, where no file of the platform's exists, and the printed block is then all it needs. Host
     * names are verified (Kafka's default, {@code ssl.endpoint.identification.algorithm=https}): {@code bootstrap}
     * is one of the names of the listener's certificate.
     */
    static String clientSettings(String name, String bootstrap, String password, String caPem) {
        // one property over several lines; the space before each '\' keeps the PEM's parts apart, as Kafka's parser needs
        String inlineCa = String.join(" \\\n", caPem.trim().lines().toList());
        return String.join("\n",
                "# Kafka client settings of application '" + name + "' (shown once: store them now)",
                "bootstrap.servers=" + bootstrap,
                "security.protocol=SASL_SSL",
                "sasl.mechanism=SCRAM-SHA-512",
                "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                        + name + "\" password=\"" + password + "\";",
                "# the platform's certificate authority (public), which signs the listener's certificate",
                "ssl.truststore.type=PEM",
                "ssl.truststore.certificates=" + inlineCa,
                "max.request.size=" + MAX_MESSAGE_BYTES,
                "# writes: " + String.join(", ", INPUTS.stream().map(input -> topic(name, input)).toList()) + "; reads: "
                        + topic(name, RESULTS) + "; group.id: " + PREFIX + name + ".<anything>");
    }

    private static AclBinding allow(ResourceType type, String resource, PatternType pattern, String name, AclOperation op) {
        return new AclBinding(new ResourcePattern(type, resource, pattern),
                new AccessControlEntry(principal(name), "*", op, AclPermissionType.ALLOW));
    }

    private static String principal(String name) {
        return "User:" + name;
    }

    private static NewTopic topic(String name, boolean large, Map<String, String> retention) {
        Map<String, String> configs = new java.util.HashMap<>(retention);
        if (large) {
            configs.put("max.message.bytes", String.valueOf(MAX_MESSAGE_BYTES));
        }
        return new NewTopic(name, Optional.empty(), Optional.empty()).configs(configs);
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
