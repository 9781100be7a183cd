package fr.osfria.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.local.LocalKafkaApplication.Grant;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * Kafka applications declared the way k8s/README.md tells an operator to (a directory kafka-applications/NAME in the
 * overlay, listed under its resources), rendered, and read back as Strimzi objects.
 */
public final class DeclaredApplications {

    private static final Map<String, Rendered> CACHE = new java.util.concurrent.ConcurrentHashMap<>();

    /** {@code overlay} with the applications {@code names} declared, rendered once per test JVM. */
    public static Rendered render(String overlay, String... names) {
        return CACHE.computeIfAbsent(overlay + "/" + String.join(",", names),
                k -> Rendered.of(overlay, listing(names), files(overlay, names)));
    }

    /** The same render, whatever its outcome (for names the render must refuse). */
    public static Tools.Result tryRender(String overlay, String... names) {
        return Rendered.kustomize(overlay, true, listing(names), files(overlay, names));
    }

    /** The two files of k8s/README.md's "Kafka applications" for each name, made by its own commands. */
    static Map<String, String> files(String overlay, String... names) {
        Map<String, String> files = new LinkedHashMap<>();
        for (String name : names) {
            String dir = "overlays/" + overlay + "/kafka-applications/" + directory(name) + "/";
            files.put(dir + "kustomization.yaml", README_FILES.get("kustomization.yaml"));
            files.put(dir + "application.yaml", README_FILES.get("application.yaml")
                    .replace("name: billing\n", "name: \"" + name + "\"\n"));
        }
        return files;
    }

    private static final Map<String, String> README_FILES = readmeFiles();

    /** Runs the README's commands that make billing's directory, in a scratch directory, and reads what they made. */
    private static Map<String, String> readmeFiles() {
        try {
            List<String> lines = Files.readAllLines(Rendered.K8S.resolve("README.md"));
            String mkdir = lines.stream().filter(l -> l.startsWith("D=k8s/overlays/prod/kafka-applications/billing;"))
                    .findFirst().orElseThrow(() -> new AssertionError("README.md no longer makes billing's directory"));
            List<String> printfs = lines.stream().filter(l -> l.startsWith("printf ") && l.contains("> $D/")).toList();
            assertEquals(2, printfs.size(), "README.md's commands for an application's two files: " + printfs);
            Path scratch = Files.createTempDirectory("osfria-kafka-app");
            String script = mkdir.replace("k8s/overlays/prod/", "") + "\n" + String.join("\n", printfs) + "\n";
            Tools.Result r = Tools.run(scratch, Map.of(), "bash", "-euc", script);
            assertEquals(0, r.exit(), script + r.err());
            Path dir = scratch.resolve("kafka-applications/billing");
            Map<String, String> files = Map.of("kustomization.yaml", Files.readString(dir.resolve("kustomization.yaml")),
                    "application.yaml", Files.readString(dir.resolve("application.yaml")));
            assertTrue(files.get("application.yaml").contains("name: billing\n"), files.toString());
            Rendered.deleteTree(scratch);
            return files;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static UnaryOperator<String> listing(String... names) {
        return kustomization -> {
            String anchor = "resources:\n  - ../../base\n";
            assertTrue(kustomization.contains(anchor), "the overlay's resources no longer start with ../../base");
            StringBuilder listed = new StringBuilder(anchor);
            for (String name : names) {
                listed.append("  - kafka-applications/").append(directory(name)).append('\n');
            }
            return kustomization.replace(anchor, listed.toString());
        };
    }

    /** The application's directory: its name, or for the names the render must refuse, a name a path can hold. */
    private static String directory(String name) {
        return name.replaceAll("[^a-zA-Z0-9.-]", "_");
    }

    /** The KafkaUser of application {@code name}. */
    public static JsonNode user(Rendered r, String name) {
        JsonNode user = r.one("KafkaUser", name);
        assertEquals("osfria-kafka", user.at("/metadata/labels/strimzi.io~1cluster").asText(), name + "'s Kafka cluster");
        return user;
    }

    /** Every KafkaUser the render holds. */
    public static List<JsonNode> users(Rendered r) {
        return r.ofKind("KafkaUser");
    }

    /** A KafkaUser's ACLs as the broker reads them: one grant per operation ({@code type: allow} only). */
    public static Set<Grant> grants(JsonNode user) {
        Set<Grant> grants = new java.util.HashSet<>();
        String principal = "User:" + user.at("/metadata/name").asText();
        for (JsonNode acl : user.at("/spec/authorization/acls")) {
            assertEquals("allow", acl.path("type").asText("allow"), principal + ": only allow rules are expected");
            JsonNode resource = acl.path("resource");
            List<JsonNode> operations = new java.util.ArrayList<>();
            acl.path("operations").forEach(operations::add);
            if (acl.has("operation")) {
                operations.add(acl.path("operation"));
            }
            for (JsonNode operation : operations) {
                grants.add(new Grant(principal, resource.path("type").asText(), resource.path("name").asText(),
                        resource.path("patternType").asText("literal"), operation.asText().toLowerCase(java.util.Locale.ROOT),
                        acl.path("host").asText("*")));
            }
        }
        return grants;
    }

    /** The KafkaTopics of application {@code name} (label osfria.fr/application), by topic name. */
    public static Map<String, JsonNode> topics(Rendered r, String name) {
        Map<String, JsonNode> topics = new java.util.TreeMap<>();
        for (JsonNode t : r.ofKind("KafkaTopic")) {
            if (name.equals(t.at("/metadata/labels/osfria.fr~1application").asText())) {
                topics.put(t.at("/spec/topicName").asText(), t);
            }
        }
        return topics;
    }

    private DeclaredApplications() {
    }
}
