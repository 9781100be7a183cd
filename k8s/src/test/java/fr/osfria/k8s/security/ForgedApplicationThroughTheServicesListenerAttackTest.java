package fr.osfria.k8s.security;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.k8s.NetworkReach;
import fr.osfria.k8s.NetworkReach.Pod;
import fr.osfria.k8s.Rendered;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The broker's listener 9092 takes the services without authentication, with every right (their principal
 * ANONYMOUS is a super user): whoever reaches it can write osfria.app.billing.documents.v1 and be taken for billing,
 * or read every application's results. An application with its credentials, a pod of another namespace, Prometheus
 * in monitoring and a job of osfria-ai that is not a service each try to connect there, under the rendered network
 * policies and those Strimzi generates for the listeners: none may. The services still do, and applications reach
 * their own SCRAM listener.
 */
class ForgedApplicationThroughTheServicesListenerAttackTest {

    private static final Map<String, String> BROKER = Map.of("strimzi.io/cluster", "osfria-kafka",
            "strimzi.io/kind", "Kafka", "strimzi.io/name", "osfria-kafka-kafka");

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void onlyTheServicesReachTheUnauthenticatedListener(String overlay) {
        NetworkReach reach = new NetworkReach(Rendered.of(overlay));
        Pod application = Pod.in("billing", Map.of("app", "billing-exporter"))
                .inLabelled(Map.of("osfria.fr/kafka-applications", "true"));
        List<Pod> attackers = List.of(application,
                Pod.in("default", Map.of("app", "anything")),
                Pod.in("monitoring", Map.of("app.kubernetes.io/name", "prometheus")),
                Pod.in("osfria-ai", Map.of("app.kubernetes.io/name", "osfria-backup")));
        for (Pod attacker : attackers) {
            assertFalse(reach.admits(attacker, BROKER, 9092), overlay + ": " + attacker + " reaches Kafka's port 9092");
        }
        Pod ingest = Pod.in("osfria-ai", Map.of("app.kubernetes.io/name", "ingest-service",
                "app.kubernetes.io/component", "osfria-service"));
        assertTrue(reach.admits(ingest, BROKER, 9092), "the services lost their listener");
        assertTrue(reach.admits(application, BROKER, 9094), "an application's namespace does not reach its listener");
        assertFalse(reach.admits(Pod.in("default", Map.of()), BROKER, 9094),
                "a namespace nobody labelled for applications reaches their listener");
        assertTrue(reach.admits(Pod.in("monitoring", Map.of()), BROKER, 9404), "Prometheus lost Kafka's metrics");
    }
}
