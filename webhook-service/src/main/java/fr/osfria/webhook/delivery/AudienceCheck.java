package fr.osfria.webhook.delivery;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.EventJson;
import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.key.KeyRegistry;
import fr.osfria.security.rights.EventAudience;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Asks again, just before an attempt, whether the subscription's owner may still see the event: keys are revoked
 * or narrowed after the event was taken in, and a replay may come days later. A delivery it refuses is not sent.
 */
@ApplicationScoped
public class AudienceCheck {

    private static final int MAX_CACHED_OWNERS = 10_000;

    private final KeyRegistry keys;
    private final Pool db;
    private final MeterRegistry metrics;
    /** Subscription id → owner. A subscription never changes owner, so an entry never goes stale. */
    private final Map<String, String> owners = new ConcurrentHashMap<>();

    public AudienceCheck(KeyRegistry keys, Pool db, MeterRegistry metrics) {
        this.keys = keys;
        this.db = db;
        this.metrics = metrics;
    }

    /**
     * Why the delivery must not be sent, or null when it may be. Fails (the round is retried after the lease) while
     * the key registry has never loaded: who may see what is then unknown, and a refusal would be for good.
     */
    public Uni<String> refusal(String subscriptionId, String eventType, String body) {
        if (!keys.state().loaded()) {
            return Uni.createFrom().failure(new IllegalStateException("the key registry is not loaded yet"));
        }
        return ownerOf(subscriptionId).chain(owner -> {
            KeyEntry key = owner == null ? null : keys.active(owner).orElse(null);
            if (EventAudience.mayReceive(key, eventType, null, null)) {
                return Uni.createFrom().nullItem(); // a key that receives this type whatever the event says (admins): no need to read the body
            }
            JsonNode data = data(body);
            String application = EventAudience.producingApplication(eventType);
            KeyEntry producer = application == null ? null : keys.active(application).orElse(null);
            return ownerOf(EventAudience.concernedSubscription(eventType, data)).map(concernedOwner -> {
                if (EventAudience.mayReceive(key, eventType, data, concernedOwner, producer)) {
                    return null;
                }
                metrics.counter("osfria.webhook.withheld", "stage", "send").increment();
                return key == null ? "not sent: the key that owns this subscription is revoked or gone"
                        : "not sent: the key that owns this subscription may no longer see this event";
            });
        });
    }

    private Uni<String> ownerOf(String subscriptionId) {
        if (subscriptionId == null) {
            return Uni.createFrom().nullItem();
        }
        String known = owners.get(subscriptionId);
        if (known != null) {
            return Uni.createFrom().item(known);
        }
        return db.preparedQuery("SELECT owner FROM subscription WHERE id = $1").execute(Tuple.of(subscriptionId))
                .map(rows -> {
                    Iterator<Row> it = rows.iterator();
                    if (!it.hasNext()) {
                        return null;
                    }
                    String owner = it.next().getString("owner");
                    if (owners.size() >= MAX_CACHED_OWNERS) {
                        owners.clear();
                    }
                    owners.put(subscriptionId, owner);
                    return owner;
                });
    }

    /** The body's {@code data}, as the receiver would see it; null (only admins may receive it) if unreadable. */
    private static JsonNode data(String body) {
        try {
            return EventJson.MAPPER.readTree(body).get("data");
        } catch (JsonProcessingException | RuntimeException e) {
            return null;
        }
    }
}
