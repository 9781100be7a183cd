package fr.osfria.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** k8s/ops rendered: the CronJobs, the scripts they run, their ServiceAccounts and the least rights they hold. */
class OpsManifestsTest {

    /** Verbs that change the cluster; the only ones granted are those the scripts need to read (see rbac.yaml). */
    private static final Set<String> WRITES = Set.of("create", "update", "patch", "delete", "deletecollection", "*");

    @Test
    void everyJobRunsAScriptOfTheConfigMapAsAServiceAccountThatExistsAndIsBound() throws Exception {
        Rendered ops = Rendered.of("ops");
        JsonNode scripts = ops.one("ConfigMap", "osfria-ops").at("/data");
        try (Stream<Path> files = Files.list(Rendered.K8S.resolve("ops"))) {
            for (Path f : files.filter(Files::isExecutable).toList()) {
                assertTrue(scripts.has(f.getFileName().toString()), f.getFileName() + " is not in ConfigMap osfria-ops");
            }
        }
        List<String> schedules = new ArrayList<>();
        for (JsonNode job : ops.ofKind("CronJob")) {
            String name = job.at("/metadata/name").asText();
            assertEquals("osfria-ai", job.at("/metadata/namespace").asText());
            schedules.add(name + " " + job.at("/spec/schedule").asText());
            JsonNode pod = job.at("/spec/jobTemplate/spec/template/spec");
            String script = pod.at("/containers/0/command/1").asText();
            assertTrue(script.startsWith("/ops/") && scripts.has(script.substring(5)), name + " runs " + script);
            JsonNode image = pod.at("/containers/0/image");
            assertFalse(image.asText().endsWith(":latest") || !image.asText().contains(":"), name + " image " + image);
            String account = pod.path("serviceAccountName").asText("");
            if (account.isEmpty()) {
                assertFalse(pod.path("automountServiceAccountToken").asBoolean(true), name + " gets the default token");
                continue;
            }
            ops.one("ServiceAccount", account);
            assertTrue(bindings(ops, account).size() >= 1, account + " is bound to nothing");
        }
        assertEquals(List.of("osfria-backup 0 2 * * *", "osfria-health-check */5 * * * *", "osfria-log-cleanup 0 3 * * 0"),
                schedules.stream().sorted().toList(), "the documentation's crontab");
    }

    @Test
    void theJobsHoldOnlyTheRightsTheirScriptsUse() {
        Rendered ops = Rendered.of("ops");
        for (JsonNode role : roles(ops)) {
            String name = role.path("kind").asText() + "/" + role.at("/metadata/name").asText();
            for (JsonNode rule : role.path("rules")) {
                List<String> resources = texts(rule.path("resources"));
                List<String> verbs = texts(rule.path("verbs"));
                assertFalse(resources.contains("*") || verbs.contains("*") || texts(rule.path("apiGroups")).contains("*"),
                        name + " grants a wildcard");
                for (String verb : verbs) {
                    if (WRITES.contains(verb)) {
                        // kubectl exec and a POST through the service proxy (Qdrant snapshots) are "create"
                        assertTrue(Set.of("pods/exec", "services/proxy").containsAll(resources), name + " may " + verb + " " + resources);
                    }
                }
                if (resources.contains("services/proxy")) {
                    assertFalse(texts(rule.path("resourceNames")).isEmpty(), name + " may proxy to any service");
                }
            }
        }
        // the health check reads no ConfigMap nor Secret, in any namespace
        for (JsonNode role : roles(ops)) {
            if (role.at("/metadata/name").asText().equals("osfria-health-check")) {
                role.path("rules").forEach(rule -> assertFalse(texts(rule.path("resources")).contains("secrets")
                        || texts(rule.path("resources")).contains("configmaps"), "the health check may read " + rule));
            }
        }
    }

    private static List<JsonNode> roles(Rendered ops) {
        List<JsonNode> roles = new ArrayList<>(ops.ofKind("Role"));
        roles.addAll(ops.ofKind("ClusterRole"));
        return roles;
    }

    private static Set<String> bindings(Rendered ops, String account) {
        Set<String> bound = new TreeSet<>();
        List<JsonNode> all = new ArrayList<>(ops.ofKind("RoleBinding"));
        all.addAll(ops.ofKind("ClusterRoleBinding"));
        for (JsonNode b : all) {
            for (JsonNode subject : b.path("subjects")) {
                if (subject.path("name").asText().equals(account) && subject.path("namespace").asText().equals("osfria-ai")) {
                    String role = b.at("/roleRef/kind").asText() + "/" + b.at("/roleRef/name").asText();
                    assertTrue(ops.has(b.at("/roleRef/kind").asText(), b.at("/roleRef/name").asText()), role + " does not exist");
                    bound.add(role);
                }
            }
        }
        return bound;
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
