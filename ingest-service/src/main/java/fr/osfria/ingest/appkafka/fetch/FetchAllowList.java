package fr.osfria.ingest.appkafka.fetch;

import fr.osfria.security.network.TargetPolicy;
import java.net.URI;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/**
 * The operator's list of where files may be fetched from: {@code host} (the scheme's default port) or
 * {@code host:port}. A URL is on it when its scheme is http or https, it carries no credentials, and its host (as
 * the URL writes it, compared in lower case) and port match an entry exactly: no suffix match, no other port, no
 * other spelling of an address (a decimal or octal IPv4 form is another host). Pure logic: the network policy's
 * checks of what the host resolves to come after, in {@link FileFetcher}.
 */
public final class FetchAllowList {

    private record Entry(String host, Integer port) {
    }

    private final List<Entry> entries;

    public FetchAllowList(Collection<String> entries) {
        this.entries = entries.stream().map(String::strip).filter(e -> !e.isEmpty()).map(FetchAllowList::entry).toList();
    }

    /** False when no host is listed: files by URL are not enabled. */
    public boolean enabled() {
        return !entries.isEmpty();
    }

    public boolean allows(URI uri) {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            return false;
        }
        if (uri.getRawUserInfo() != null || uri.getHost() == null || uri.getHost().isEmpty()) {
            return false;
        }
        String host = TargetPolicy.host(uri);
        int defaultPort = scheme.equals("https") ? 443 : 80;
        int port = uri.getPort() == -1 ? defaultPort : uri.getPort();
        return entries.stream().anyMatch(e -> e.host().equals(host)
                && (e.port() == null ? port == defaultPort : e.port() == port));
    }

    /** {@code host}, {@code host:port}, {@code [v6]}, {@code [v6]:port} or a bare IPv6 address. */
    private static Entry entry(String raw) {
        String e = raw.toLowerCase(Locale.ROOT);
        if (e.startsWith("[")) {
            int close = e.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("osfria.ingest.fetch.allowed-hosts: '" + raw + "' lacks its ']'");
            }
            String rest = e.substring(close + 1);
            return new Entry(e.substring(1, close), rest.isEmpty() ? null : port(raw, rest));
        }
        int colon = e.indexOf(':');
        if (colon < 0 || e.indexOf(':', colon + 1) >= 0) {
            return new Entry(e, null); // a name, an IPv4 address or a bare IPv6 address
        }
        return new Entry(e.substring(0, colon), port(raw, e.substring(colon)));
    }

    private static Integer port(String raw, String colonAndPort) {
        try {
            if (!colonAndPort.startsWith(":")) {
                throw new NumberFormatException();
            }
            int port = Integer.parseInt(colonAndPort.substring(1));
            if (port < 1 || port > 65535) {
                throw new NumberFormatException();
            }
            return port;
        } catch (NumberFormatException ex) {
            throw new IllegalArgumentException("osfria.ingest.fetch.allowed-hosts: '" + raw + "' is not host or host:port");
        }
    }
}
