package fr.osfria.webhook.security;

import fr.osfria.security.network.HostResolver;
import io.vertx.core.Context;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Alternative;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A DNS server under the attacker's control: for a scripted name it gives the scripted answers in turn (the last
 * one repeats; {@code null} means "no such name"); any other name goes to the machine's resolver. Enabled only by
 * the profiles that select it.
 */
@Alternative
@ApplicationScoped
public class ScriptedResolver implements HostResolver {

    private static final Map<String, List<String>> SCRIPTS = new ConcurrentHashMap<>();
    private static final Map<String, AtomicInteger> LOOKUPS = new ConcurrentHashMap<>();
    /** Names looked up on a Vert.x event loop thread, where a blocking lookup stalls every request of that loop. */
    static final List<String> ON_EVENT_LOOP = new CopyOnWriteArrayList<>();

    static void script(String host, String... answers) {
        LOOKUPS.remove(host);
        SCRIPTS.put(host, java.util.Arrays.asList(answers));
    }

    static int lookups(String host) {
        AtomicInteger n = LOOKUPS.get(host);
        return n == null ? 0 : n.get();
    }

    @Override
    public InetAddress[] resolve(String host) throws UnknownHostException {
        if (Context.isOnEventLoopThread()) {
            ON_EVENT_LOOP.add(host);
        }
        List<String> script = SCRIPTS.get(host);
        if (script == null) {
            return InetAddress.getAllByName(host);
        }
        int n = LOOKUPS.computeIfAbsent(host, k -> new AtomicInteger()).getAndIncrement();
        String answer = script.get(Math.min(n, script.size() - 1));
        if (answer == null) {
            throw new UnknownHostException(host);
        }
        return new InetAddress[] {InetAddress.getByAddress(host, InetAddress.getByName(answer).getAddress())};
    }
}
