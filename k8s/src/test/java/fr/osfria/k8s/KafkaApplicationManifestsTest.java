package fr.osfria.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.local.LocalKafkaApplication;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A Kafka application in Kubernetes is the local one (docs/kafka-api.md): its KafkaUser grants exactly what
 * platform-local's KafkaApplications grants on the local broker, its topics have the same settings, and the listener,
 * Secret and client settings the documentation gives are the ones the manifests define.
 */
class KafkaApplicationManifestsTest {

    /** The attack test's applications (one render of prod for both: names that share a prefix, one with a digit). */
    private static final List<String> APPLICATIONS = List.of("billing", "billing-x", "billing2");

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void eachUserGrantsExactlyWhatTheLocalBrokerGrants(String overlay) {
        Rendered r = DeclaredApplications.render(overlay, APPLICATIONS.toArray(String[]::new));
        assertEquals(APPLICATIONS.size(), DeclaredApplications.users(r).size(), "one KafkaUser per application");
        for (String name : APPLICATIONS) {
            JsonNode user = DeclaredApplications.user(r, name);
            assertEquals("osfria-ai", user.at("/metadata/namespace").asText(), "the Kafka cluster's namespace");
            assertEquals("scram-sha-512", user.at("/spec/authentication/type").asText());
            assertEquals("simple", user.at("/spec/authorization/type").asText());
            assertEquals(sorted(LocalKafkaApplication.grants(name)), sorted(DeclaredApplications.grants(user)),
                    name + ": the KafkaUser's ACLs against KafkaApplications.acls");
            assertEquals(LocalKafkaApplication.producerByteRate(), user.at("/spec/quotas/producerByteRate").asLong(),
                    name + ": write quota");
            assertEquals(1, user.at("/spec/quotas").size(), name + ": no other quota than the local broker's");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void eachApplicationsTopicsHaveTheLocalSettings(String overlay) {
        Rendered r = DeclaredApplications.render(overlay, APPLICATIONS.toArray(String[]::new));
        int replicas = overlay.equals("prod") ? 3 : 1;
        for (String name : APPLICATIONS) {
            Map<String, Map<String, String>> local = LocalKafkaApplication.topics(name);
            Map<String, JsonNode> rendered = DeclaredApplications.topics(r, name);
            assertEquals(local.keySet(), rendered.keySet(), name + ": its topics");
            rendered.forEach((topic, t) -> {
                Map<String, String> config = new TreeMap<>();
                t.at("/spec/config").fields().forEachRemaining(e -> config.put(e.getKey(), e.getValue().asText()));
                assertEquals(String.valueOf(Math.min(2, replicas)), config.remove("min.insync.replicas"), topic);
                assertEquals(local.get(topic), config, topic + ": retention and record size as on the local broker");
                assertEquals(replicas, t.at("/spec/replicas").asInt(), topic + " replication");
                assertEquals("osfria-kafka", t.at("/metadata/labels/strimzi.io~1cluster").asText(), topic);
            });
        }
    }

    /** The services keep their listener and rights; applications get a SCRAM listener over TLS; docs say so. */
    @Test
    void theApplicationsListenerIsTheOneTheDocumentationGives() throws Exception {
        JsonNode kafka = Rendered.of("prod").one("Kafka", "osfria-kafka").at("/spec");
        JsonNode plain = listener(kafka, "plain");
        assertEquals(9092, plain.path("port").asInt());
        assertFalse(plain.path("tls").asBoolean(), "the services' listener is as before");
        assertTrue(plain.path("authentication").isMissingNode(), "the services do not authenticate");
        assertTrue(Rendered.of("prod").one("ConfigMap", "osfria-config").at("/data/KAFKA_BOOTSTRAP_SERVERS").asText()
                .endsWith(":9092"), "the services connect to their listener");
        assertEquals("simple", kafka.at("/kafka/authorization/type").asText());
        assertEquals("[\"ANONYMOUS\"]", kafka.at("/kafka/authorization/superUsers").toString(),
                "the services' principal (no authentication) keeps every right, and nobody else gets them");

        JsonNode apps = listener(kafka, "apps");
        assertEquals("scram-sha-512", apps.at("/authentication/type").asText());
        assertTrue(apps.path("tls").asBoolean(), "SCRAM over TLS: the password and the files are not sent in clear");
        String prefix = kafka.at("/entityOperator/userOperator/secretPrefix").asText();
        assertEquals("kafka-app-", prefix, "the user operator runs, and its Secrets cannot take another Secret's name");

        String doc = Files.readString(Rendered.K8S.getParent().resolve("docs/kafka-api.md"));
        String readme = Files.readString(Rendered.K8S.resolve("README.md"));
        String bootstrap = "bootstrap.servers=osfria-kafka-kafka-bootstrap.osfria-ai.svc:" + apps.path("port").asInt();
        for (String text : List.of(doc, readme)) {
            for (String setting : List.of(bootstrap, "security.protocol=SASL_SSL", "sasl.mechanism=SCRAM-SHA-512",
                    "max.request.size=" + LocalKafkaApplication.maxRequestSize(), prefix + "NAME",
                    "osfria-kafka-cluster-ca-cert", "osfria.fr/kafka-applications")) {
                assertTrue(text.contains(setting), "the documentation does not give " + setting);
            }
        }
        assertFalse(doc.contains("the Kubernetes form (a Strimzi `KafkaUser`)"), "docs/kafka-api.md still says it is missing");
    }

    private static JsonNode listener(JsonNode kafka, String name) {
        for (JsonNode l : kafka.at("/kafka/listeners")) {
            if (name.equals(l.path("name").asText())) {
                return l;
            }
        }
        throw new AssertionError("no listener " + name);
    }

    private static List<String> sorted(java.util.Set<?> grants) {
        return grants.stream().map(Object::toString).sorted().toList();
    }
}
