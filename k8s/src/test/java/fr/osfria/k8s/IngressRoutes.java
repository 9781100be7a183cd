package fr.osfria.k8s;

import io.fabric8.kubernetes.api.model.networking.v1.HTTPIngressPath;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressRule;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where a rendered Ingress sends a request path, read the way the two controllers the overlays can pick read it:
 * the path normalized first (dot segments removed, as nginx and Traefik do before matching); Exact and Prefix as
 * Kubernetes defines them; ImplementationSpecific paths as regular expressions matched anywhere in the path and
 * case-insensitively (the widest reading: nginx's "~*" location, Traefik's unanchored PathRegexp), so only an
 * anchor written in the path itself anchors it. The service then sees the path rewritten by nginx's rewrite-target
 * (the whole path replaced, $n being the groups) or stripped by the Traefik StripPrefix middleware the Ingress names.
 */
public final class IngressRoutes {

    /** A routed request: the service and port name, and the path the service sees. */
    public record Route(String service, String rule, String backendPath) {
    }

    private IngressRoutes() {
    }

    /** The StripPrefix middlewares an overlay renders, by the name an Ingress annotation gives them. */
    public static Map<String, String> stripPrefixes(Rendered rendered) {
        Map<String, String> prefixes = new java.util.HashMap<>();
        for (var m : rendered.ofKind("Middleware")) {
            var strip = m.at("/spec/stripPrefix/prefixes");
            if (strip.isArray() && strip.size() == 1) {
                prefixes.put(m.at("/metadata/namespace").asText() + "-" + m.at("/metadata/name").asText() + "@kubernetescrd",
                        strip.get(0).asText());
            }
        }
        return prefixes;
    }

    /** The route the first of {@code ingresses} that routes {@code requestPath} gives it (one host for all), if any. */
    public static Optional<Route> route(java.util.List<Ingress> ingresses, Map<String, String> stripPrefixes, String requestPath) {
        return ingresses.stream().map(i -> route(i, stripPrefixes, requestPath)).flatMap(Optional::stream).findFirst();
    }

    /** The route {@code ingress} gives to {@code requestPath} on its (single) host, if any. */
    public static Optional<Route> route(Ingress ingress, Map<String, String> stripPrefixes, String requestPath) {
        String path = normalize(requestPath);
        Map<String, String> annotations = ingress.getMetadata().getAnnotations() == null ? Map.of()
                : ingress.getMetadata().getAnnotations();
        for (IngressRule rule : ingress.getSpec().getRules()) {
            for (HTTPIngressPath p : rule.getHttp().getPaths()) {
                Optional<String> seen = match(p, path, annotations, stripPrefixes);
                if (seen.isPresent()) {
                    return Optional.of(new Route(p.getBackend().getService().getName(), p.getPath(), seen.get()));
                }
            }
        }
        return Optional.empty();
    }

    private static Optional<String> match(HTTPIngressPath rule, String path, Map<String, String> annotations,
                                          Map<String, String> stripPrefixes) {
        String p = rule.getPath();
        boolean matched;
        Matcher regex = null;
        switch (rule.getPathType()) {
            case "Exact" -> matched = path.equals(p);
            case "Prefix" -> {
                String prefix = p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
                matched = prefix.isEmpty() || path.equals(prefix) || path.startsWith(prefix + "/");
            }
            default -> {
                regex = Pattern.compile(p, Pattern.CASE_INSENSITIVE).matcher(path);
                matched = regex.find();
            }
        }
        if (!matched) {
            return Optional.empty();
        }
        String seen = path;
        String rewrite = annotations.get("nginx.ingress.kubernetes.io/rewrite-target");
        if (rewrite != null && regex != null) {
            StringBuilder out = new StringBuilder();
            Matcher ref = Pattern.compile("\\$(\\d)").matcher(rewrite);
            while (ref.find()) {
                String group = regex.group(Integer.parseInt(ref.group(1)));
                ref.appendReplacement(out, Matcher.quoteReplacement(group == null ? "" : group));
            }
            ref.appendTail(out);
            seen = out.toString();
        }
        String middlewares = annotations.getOrDefault("traefik.ingress.kubernetes.io/router.middlewares", "");
        for (String middleware : middlewares.split(",")) {
            String prefix = stripPrefixes.get(middleware.trim());
            if (prefix != null && seen.startsWith(prefix)) {
                seen = seen.substring(prefix.length());
                seen = seen.startsWith("/") ? seen : "/" + seen;
            }
        }
        return Optional.of(seen);
    }

    /** RFC 3986 remove_dot_segments on the path (no query), as the controllers do before routing. */
    static String normalize(String path) {
        Deque<String> out = new ArrayDeque<>();
        String[] segments = path.split("/", -1);
        for (int i = 1; i < segments.length; i++) {
            String s = segments[i];
            if (s.equals("..")) {
                if (!out.isEmpty()) {
                    out.removeLast();
                }
                if (i == segments.length - 1) {
                    out.addLast("");
                }
            } else if (s.equals(".")) {
                if (i == segments.length - 1) {
                    out.addLast("");
                }
            } else {
                out.addLast(s);
            }
        }
        return "/" + String.join("/", out);
    }
}
