package fr.osfria.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Who may open a connection to a pod, as Kubernetes NetworkPolicies decide it (a pod that some policy selects takes
 * only what one of them admits), for the rendered policies plus those the Strimzi operator generates for the Kafka
 * listeners (a listener without {@code networkPolicyPeers} is open to every pod of every namespace).
 */
public final class NetworkReach {

    /** A pod: its namespace, the namespace's labels, its own labels. */
    public record Pod(String namespace, Map<String, String> namespaceLabels, Map<String, String> labels) {

        public static Pod in(String namespace, Map<String, String> labels) {
            return new Pod(namespace, Map.of("kubernetes.io/metadata.name", namespace), labels);
        }

        public Pod inLabelled(Map<String, String> extraNamespaceLabels) {
            Map<String, String> ns = new java.util.HashMap<>(namespaceLabels);
            ns.putAll(extraNamespaceLabels);
            return new Pod(namespace, ns, labels);
        }
    }

    private record Rule(JsonNode selector, List<JsonNode> from, List<Integer> ports) {
    }

    private final List<Rule> rules = new ArrayList<>();
    private final List<JsonNode> selectors = new ArrayList<>();

    /** The policies of {@code r} (namespace osfria-ai) and Strimzi's for the listeners of its Kafka. */
    public NetworkReach(Rendered r) {
        for (JsonNode policy : r.ofKind("NetworkPolicy")) {
            JsonNode selector = policy.at("/spec/podSelector");
            selectors.add(selector);
            for (JsonNode rule : policy.at("/spec/ingress")) {
                List<JsonNode> from = new ArrayList<>();
                rule.path("from").forEach(from::add);
                List<Integer> ports = new ArrayList<>();
                rule.path("ports").forEach(p -> ports.add(p.path("port").asInt()));
                rules.add(new Rule(selector, from, ports));
            }
        }
        for (JsonNode kafka : r.ofKind("Kafka")) {
            JsonNode brokers = Rendered.YAML.createObjectNode().set("matchLabels", Rendered.YAML.createObjectNode()
                    .put("strimzi.io/cluster", kafka.at("/metadata/name").asText()));
            selectors.add(brokers);
            for (JsonNode listener : kafka.at("/spec/kafka/listeners")) {
                List<JsonNode> from = new ArrayList<>();
                listener.path("networkPolicyPeers").forEach(from::add);
                if (from.isEmpty()) { // Strimzi's default: every pod, every namespace
                    from.add(Rendered.YAML.createObjectNode().set("namespaceSelector", Rendered.YAML.createObjectNode()));
                }
                rules.add(new Rule(brokers, from, List.of(listener.path("port").asInt())));
            }
        }
    }

    /** Whether {@code source} may connect to {@code port} of a pod of osfria-ai labelled {@code target}. */
    public boolean admits(Pod source, Map<String, String> target, int port) {
        if (selectors.stream().noneMatch(s -> selects(s, target))) {
            return true; // no policy isolates the pod
        }
        for (Rule rule : rules) {
            if (selects(rule.selector(), target) && (rule.ports().isEmpty() || rule.ports().contains(port))
                    && (rule.from().isEmpty() || rule.from().stream().anyMatch(peer -> peerMatches(peer, source)))) {
                return true;
            }
        }
        return false;
    }

    private static boolean peerMatches(JsonNode peer, Pod source) {
        if (peer.has("ipBlock")) {
            return false; // pods are not addressed by blocks here; the ingress attack test forbids them anyway
        }
        boolean namespaceOk = peer.has("namespaceSelector") ? selects(peer.path("namespaceSelector"), source.namespaceLabels())
                : source.namespace().equals("osfria-ai");
        boolean podOk = !peer.has("podSelector") || selects(peer.path("podSelector"), source.labels());
        return namespaceOk && podOk;
    }

    /** A label selector (matchLabels, matchExpressions In/NotIn/Exists/DoesNotExist); an empty one selects all. */
    static boolean selects(JsonNode selector, Map<String, String> labels) {
        var matchLabels = selector.path("matchLabels").fields();
        while (matchLabels.hasNext()) {
            var e = matchLabels.next();
            if (!e.getValue().asText().equals(labels.get(e.getKey()))) {
                return false;
            }
        }
        for (JsonNode expression : selector.path("matchExpressions")) {
            String value = labels.get(expression.path("key").asText());
            List<String> values = new ArrayList<>();
            expression.path("values").forEach(v -> values.add(v.asText()));
            boolean ok = switch (expression.path("operator").asText()) {
                case "In" -> value != null && values.contains(value);
                case "NotIn" -> value == null || !values.contains(value);
                case "Exists" -> value != null;
                case "DoesNotExist" -> value == null;
                default -> throw new AssertionError("unknown operator in " + expression);
            };
            if (!ok) {
                return false;
            }
        }
        return true;
    }
}
