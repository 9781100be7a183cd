package fr.osfria.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/** An overlay rendered offline by {@code kubectl kustomize}, parsed into Kubernetes model objects. */
public final class Rendered {

    public static final Path K8S = Path.of("").toAbsolutePath();
    static final YAMLMapper YAML = new YAMLMapper();
    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
    private static final Map<String, Rendered> CACHE = new java.util.concurrent.ConcurrentHashMap<>();

    final String overlay;
    public final List<HasMetadata> objects;
    public final List<JsonNode> raw;
    // (shared between tests through the cache: read, never change)

    private Rendered(String overlay, List<HasMetadata> objects, List<JsonNode> raw) {
        this.overlay = overlay;
        this.objects = objects;
        this.raw = raw;
    }

    /**
     * A copy of k8s/ with placeholder secret files (what an operator creates before applying), rendered.
     * {@code withSecrets=false} renders without them, to see the failure an operator would see.
     */
    static Tools.Result kustomize(String overlay, boolean withSecrets) {
        return kustomize(overlay, withSecrets, k -> k);
    }

    /** As above, the overlay's kustomization.yaml first changed by {@code edit} (e.g. another ingress component). */
    static Tools.Result kustomize(String overlay, boolean withSecrets, UnaryOperator<String> edit) {
        return kustomize(overlay, withSecrets, edit, Map.of());
    }

    /**
     * As above, with {@code files} (path under k8s/ → content) written into the copy first: what an operator adds,
     * such as a Kafka application's directory.
     */
    public static Tools.Result kustomize(String overlay, boolean withSecrets, UnaryOperator<String> edit,
            Map<String, String> files) {
        Path kubectl = Tools.kubectl();
        try {
            Path copy = Files.createTempDirectory("osfria-k8s");
            for (String dir : List.of("base", "overlays", "components", "ops")) {
                copyTree(K8S.resolve(dir), copy.resolve(dir));
            }
            Path kustomization = copy.resolve(overlay).resolve("kustomization.yaml");
            if (!Files.exists(kustomization)) {
                kustomization = copy.resolve("overlays").resolve(overlay).resolve("kustomization.yaml");
            }
            Files.writeString(kustomization, edit.apply(Files.readString(kustomization)));
            for (Map.Entry<String, String> file : files.entrySet()) {
                Path target = copy.resolve(file.getKey());
                Files.createDirectories(target.getParent());
                Files.writeString(target, file.getValue());
            }
            Path secrets = copy.resolve("overlays").resolve(overlay).resolve("secrets");
            deleteTree(secrets); // whatever a developer keeps locally must not make the test pass
            if (withSecrets) {
                Files.createDirectories(secrets);
                Files.writeString(secrets.resolve("keys.json"), "{\"version\":1,\"keys\":[]}");
                Files.writeString(secrets.resolve("kek"), "placeholder-not-a-key");
                Files.writeString(secrets.resolve("retired-keks"), ""); // none until a rotation
                Files.writeString(secrets.resolve("pg-username"), "osfria");
                Files.writeString(secrets.resolve("pg-password"), "placeholder");
            }
            String dir = Files.isDirectory(copy.resolve(overlay)) ? overlay : "overlays/" + overlay;
            Tools.Result r = Tools.run(copy, Map.of(), kubectl.toString(), "kustomize", dir);
            deleteTree(copy);
            return r;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Rendered once per test JVM: kubectl kustomize takes a second, and the tests only read what it renders. */
    public static Rendered of(String overlay) {
        return CACHE.computeIfAbsent(overlay, o -> of(o, k -> k));
    }

    /** An overlay ("dev", "prod") or another kustomization of k8s/ ("ops"), rendered after {@code edit}. */
    public static Rendered of(String overlay, UnaryOperator<String> edit) {
        return of(overlay, edit, Map.of());
    }

    /** As above, with {@code files} added to the copy of k8s/ (see {@link #kustomize(String, boolean, UnaryOperator, Map)}). */
    public static Rendered of(String overlay, UnaryOperator<String> edit, Map<String, String> files) {
        Tools.Result r = kustomize(overlay, true, edit, files);
        assertEquals(0, r.exit(), "kubectl kustomize overlays/" + overlay + " failed:\n" + r.err());
        try {
            List<JsonNode> raw = new ArrayList<>();
            YAML.readerFor(JsonNode.class).readValues(r.out()).forEachRemaining(n -> raw.add((JsonNode) n));
            List<HasMetadata> objects = new ArrayList<>();
            for (JsonNode node : raw) {
                objects.add(SERIALIZATION.unmarshal(YAML.writeValueAsString(node)));
            }
            return new Rendered(overlay, objects, raw);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The prod overlay with k3s's Traefik instead of ingress-nginx: the one line an operator changes. */
    public static Rendered prodWithTraefik() {
        return CACHE.computeIfAbsent("prod-traefik", x -> of("prod", k -> {
            String changed = k.replace("../../components/ingress-nginx", "../../components/ingress-traefik");
            assertNotEquals(k, changed, "the overlay no longer picks its ingress component on one line");
            return changed;
        }));
    }

    public <T extends HasMetadata> List<T> all(Class<T> type) {
        return objects.stream().filter(type::isInstance).map(type::cast).toList();
    }

    public List<JsonNode> ofKind(String kind) {
        return raw.stream().filter(n -> kind.equals(n.path("kind").asText())).toList();
    }

    public JsonNode one(String kind, String name) {
        return raw.stream().filter(n -> kind.equals(n.path("kind").asText()) && name.equals(n.at("/metadata/name").asText()))
                .findFirst().orElseThrow(() -> new AssertionError(overlay + " renders no " + kind + " " + name));
    }

    boolean has(String kind, String name) {
        return objects.stream().anyMatch(o -> kind.equals(o.getKind()) && name.equals(o.getMetadata().getName()));
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path p : paths.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
