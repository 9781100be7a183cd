package fr.osfria.local;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Which service an entry-port path goes to, the way the Kubernetes ingress routes it: the public API only. Services'
 * own {@code /q/*} endpoints (metrics, health details, OpenAPI) are never routed; operators read them on the
 * services' loopback ports. The documented base URL {@code /api/v1} is the same API as {@code /v1}: one list of
 * paths ({@link LocalSettings#SERVICES}), each reachable under both.
 */
public final class Routes {

    /**
     * The prefix of the documented base URL: {@code /api/v1/X} is routed exactly as {@code /v1/X}, and the service
     * is asked {@code /v1/X} (services know only {@code /v1}). Matched literally and once: {@code /API/v1},
     * {@code /%61pi/v1} and {@code /api/api/v1} are not the API.
     */
    public static final String API_PREFIX = "/api";

    /**
     * The web console's pages ({@code /console} and under it), static files that inference-router serves: not part of
     * the API, so never under {@link #API_PREFIX}.
     */
    public static final String CONSOLE = "/console";

    /** Where to send a request, and the path to ask there. */
    public record Target(LocalSettings.Service service, String path) {
    }

    private Routes() {
    }

    /**
     * The service a raw request path goes to, and the path to ask it: the raw path unchanged, less a leading
     * {@link #API_PREFIX}. Only canonical paths are routed (see {@link #isCanonical}): a service normalises the path
     * it receives, so anything it could read differently from us must not pass. Internal services are routed only
     * when {@code exposeInternal} is set.
     */
    public static Optional<Target> route(String rawPath, boolean exposeInternal) {
        if (!isCanonical(rawPath)) {
            return Optional.empty();
        }
        if (rawPath.equals(CONSOLE) || rawPath.startsWith(CONSOLE + "/")) {
            return LocalSettings.SERVICES.stream().filter(s -> s.name().equals("inference-router")).findFirst()
                    .map(router -> new Target(router, rawPath));
        }
        boolean prefixed = rawPath.startsWith(API_PREFIX + "/");
        return routeV1(prefixed ? rawPath.substring(API_PREFIX.length()) : rawPath, exposeInternal);
    }

    /** The service a canonical {@code /v1/…} path goes to, with that path unchanged. */
    private static Optional<Target> routeV1(String rawPath, boolean exposeInternal) {
        String path = decode(rawPath);
        for (LocalSettings.Service service : LocalSettings.SERVICES) {
            if (service.internal() && !exposeInternal) {
                continue;
            }
            for (String prefix : service.paths()) {
                if (matches(path, prefix)) {
                    return Optional.of(new Target(service, rawPath));
                }
            }
        }
        return Optional.empty();
    }

    /**
     * Whether a raw path means the same to every reader: it starts with {@code /}, percent-decodes cleanly once, and
     * once decoded has no {@code .} or {@code ..} segment (not even with {@code ;parameters}), no empty segment
     * ({@code //}) except a trailing slash, no backslash, no {@code %} left (double encoding) and no control character.
     */
    public static boolean isCanonical(String rawPath) {
        if (rawPath == null || !rawPath.startsWith("/")) {
            return false;
        }
        String path = decode(rawPath);
        if (path == null || path.indexOf('%') >= 0 || path.indexOf('\\') >= 0) {
            return false;
        }
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                return false;
            }
        }
        String[] segments = path.substring(1).split("/", -1);
        for (int i = 0; i < segments.length; i++) {
            String segment = segments[i];
            int semicolon = segment.indexOf(';');
            String name = semicolon < 0 ? segment : segment.substring(0, semicolon);
            if (name.equals(".") || name.equals("..")) {
                return false;
            }
            if (segment.isEmpty() && i < segments.length - 1) {
                return false;
            }
        }
        return true;
    }

    /** A prefix matches itself, and sub-paths at a segment boundary: {@code /v1/search} but not {@code /v1/searchx}. */
    private static boolean matches(String path, String prefix) {
        if (prefix.endsWith("/")) {
            return path.startsWith(prefix);
        }
        return path.equals(prefix) || path.startsWith(prefix + "/");
    }

    /** Percent-decodes once as UTF-8; null for a malformed escape. */
    private static String decode(String raw) {
        if (raw.indexOf('%') < 0) {
            return raw;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%') {
                if (i + 2 >= raw.length()) {
                    return null;
                }
                int hi = Character.digit(raw.charAt(i + 1), 16);
                int lo = Character.digit(raw.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    return null;
                }
                bytes.write(hi * 16 + lo);
                i += 2;
            } else {
                byte[] encoded = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                bytes.write(encoded, 0, encoded.length);
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
