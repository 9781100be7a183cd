package fr.osfria.webhook.subscription;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Resolves a webhook target's host name. Blocking: {@link TargetPolicy} calls it on a worker thread, never on the
 * event loop. A seam so that a test can play a DNS server that changes its answer between two lookups.
 */
public interface HostResolver {

    /** @return every address of the host (never empty) */
    InetAddress[] resolve(String host) throws UnknownHostException;
}
