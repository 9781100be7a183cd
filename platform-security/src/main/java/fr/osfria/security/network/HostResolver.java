package fr.osfria.security.network;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Resolves the host name of a URL the platform connects to (webhook targets, files by URL). Blocking, possibly for
 * many seconds: {@link TargetPolicy} calls it on threads of its own, a few per party, never on the event loop or a
 * shared pool. A seam so that a test can play a DNS server that changes its answer between two lookups, or hangs.
 */
public interface HostResolver {

    /** @return every address of the host (never empty) */
    InetAddress[] resolve(String host) throws UnknownHostException;
}
