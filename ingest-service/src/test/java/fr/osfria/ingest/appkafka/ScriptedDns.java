package fr.osfria.ingest.appkafka;

import fr.osfria.security.network.HostResolver;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Alternative;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The internal DNS as the tests script it (a name an attacker controls may point anywhere); any other name goes to
 * the machine's resolver. Enabled only by the profiles that select it.
 */
@Alternative
@ApplicationScoped
public class ScriptedDns implements HostResolver {

    /** The file server's name, which the operator lets be local (the tests' server listens on loopback). */
    static final String FILES = "files.test";
    /** A name on the operator's list, which an attacker re-points to the machine itself. */
    static final String REBOUND = "rebind.test";
    /** A name on the operator's list, re-pointed to the cloud metadata endpoint. */
    static final String METADATA = "meta.test";

    /**
     * A name on the operator's list whose name server does not answer: each lookup hangs 20 s, well past the tests'
     * lookup deadline, then fails.
     */
    static final String HANGING = "hang.test";

    /**
     * A name on the operator's list (and allowed to be local) whose first answer is the file server on loopback and
     * every later one the cloud metadata endpoint: the DNS of an attacker re-pointing it right after the check.
     */
    static final String FLIP = "flip.test";
    private static final java.util.concurrent.atomic.AtomicInteger FLIP_LOOKUPS = new java.util.concurrent.atomic.AtomicInteger();

    static int flipLookups() {
        return FLIP_LOOKUPS.get();
    }

    static void resetFlip() {
        FLIP_LOOKUPS.set(0);
    }

    private static final Map<String, String> ANSWERS = new ConcurrentHashMap<>(Map.of(FILES, "127.0.0.1",
            REBOUND, "127.0.0.1", METADATA, "169.254.169.254"));

    @Override
    public InetAddress[] resolve(String host) throws UnknownHostException {
        if (HANGING.equals(host)) {
            try {
                Thread.sleep(20_000); // the JVM's own lookups cannot be interrupted either
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new UnknownHostException(host);
        }
        if (FLIP.equals(host)) {
            String address = FLIP_LOOKUPS.getAndIncrement() == 0 ? "127.0.0.1" : "169.254.169.254";
            return new InetAddress[] {InetAddress.getByAddress(host, InetAddress.getByName(address).getAddress())};
        }
        String answer = ANSWERS.get(host);
        if (answer == null) {
            return InetAddress.getAllByName(host);
        }
        return new InetAddress[] {InetAddress.getByAddress(host, InetAddress.getByName(answer).getAddress())};
    }
}
