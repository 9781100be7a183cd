package fr.osfria.security.rights;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A URL prefix an operator grants a key ({@code https://files.billing.internal/exports/}): scheme, host, port and
 * the leading path segments a URL must have. Matched on the parsed URL, never on its text: the scheme and host in
 * lower case, the port with the scheme's default, the path segment by segment ({@code /exports} covers
 * {@code /exports/a.pdf}, never {@code /exports-other/a.pdf}). A URL with credentials, a {@code .} or {@code ..}
 * segment, or an encoded dot, slash or backslash is covered by no prefix: what is checked is what is requested.
 */
public final class UrlPrefix {

    private record Parsed(String scheme, String host, int port, List<String> segments) {
    }

    /** Whether {@code url} is under {@code prefix}; false for anything that does not parse cleanly. */
    public static boolean covers(String prefix, String url) {
        Parsed p = parse(prefix);
        Parsed u = parse(url);
        if (p == null || u == null || !p.scheme().equals(u.scheme()) || !p.host().equals(u.host())
                || p.port() != u.port() || u.segments().size() < p.segments().size()) {
            return false;
        }
        return u.segments().subList(0, p.segments().size()).equals(p.segments());
    }

    /** Refuses a prefix that could never match, saying what one is (for the key's creation). */
    public static void check(String prefix) {
        Parsed p = parse(prefix);
        if (p == null || prefix.contains("?") || prefix.contains("#")) {
            throw new IllegalArgumentException("--fetch-from '" + prefix + "': an http or https URL prefix with a host"
                    + " and no credentials, '.' or '..' segments, query or encoded dots and slashes, e.g."
                    + " https://files.billing.internal/exports/");
        }
    }

    private static Parsed parse(String text) {
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException | RuntimeException e) {
            return null;
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            return null;
        }
        if (uri.getHost() == null || uri.getHost().isBlank() || uri.getRawUserInfo() != null) {
            return null;
        }
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        String lower = path.toLowerCase(Locale.ROOT);
        if (lower.contains("%2e") || lower.contains("%2f") || lower.contains("%5c") || path.contains("\\")) {
            return null;
        }
        List<String> segments = Arrays.stream(path.split("/", -1)).skip(1).toList();
        if (segments.stream().anyMatch(s -> s.equals(".") || s.equals(".."))) {
            return null;
        }
        if (!segments.isEmpty() && segments.get(segments.size() - 1).isEmpty()) {
            segments = segments.subList(0, segments.size() - 1); // "/exports/" is "/exports"
        }
        String host = uri.getHost().toLowerCase(Locale.ROOT);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port = uri.getPort() != -1 ? uri.getPort() : scheme.equals("https") ? 443 : 80;
        return new Parsed(scheme, host, port, segments);
    }

    private UrlPrefix() {
    }
}
