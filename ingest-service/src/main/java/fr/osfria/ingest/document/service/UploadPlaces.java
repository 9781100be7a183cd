package fr.osfria.ingest.document.service;

import fr.osfria.ingest.IngestConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The REST uploads in progress on this replica: a key holds at most {@code uploads.per-key} places and the replica
 * {@code uploads.max}, so that one key's flood of uploads (or of large, slow-to-store ones) takes only its own share
 * of the worker threads and of the upload memory, and all keys together leave the worker pool room for parsing and
 * the sweeps. A key's first upload always gets a place, whatever the replica holds: the replica's cap refuses only
 * keys already holding one, so a few keys keeping their places filled cannot lock every other key out (the replica
 * holds at most {@code uploads.max} plus one per key, and keys are few: administrators create them). A place is
 * taken from the request's headers, before its body is received ({@code UploadPlaceFilter}: a key's slow or large
 * bodies count against its cap while they arrive), and given back once the upload's work ends, whatever its outcome,
 * or when its request ends first. Metrics: gauge {@code osfria.ingest.uploads.in.progress}, counter
 * {@code osfria.ingest.upload.refusals}
 * (tag {@code reason}: {@code key_busy}, {@code replica_busy}).
 */
@Startup // its metrics are exported from the start
@ApplicationScoped
public class UploadPlaces {

    /** What a refused upload is told to wait: a place is given back as soon as one upload of the key (or any) ends. */
    public static final int RETRY_AFTER_SECONDS = 1;

    /** Why an upload got no place. */
    public enum Busy {
        /** Its key has {@code uploads.per-key} uploads in progress: 429. */
        KEY_BUSY,
        /** The replica has {@code uploads.max} uploads in progress, every key together, its key one at least: 503. */
        REPLICA_BUSY
    }

    private final int perKey;
    private final int max;
    private final Map<String, Integer> byKey = new ConcurrentHashMap<>();
    private final AtomicInteger inProgress = new AtomicInteger();
    private final Map<Busy, Counter> refusals = new EnumMap<>(Busy.class);

    @Inject
    public UploadPlaces(IngestConfig config, MeterRegistry metrics) {
        this(config.uploads().perKey(), config.uploads().max(), metrics);
    }

    UploadPlaces(int perKey, int max, MeterRegistry metrics) {
        this.perKey = perKey;
        this.max = max;
        Gauge.builder("osfria.ingest.uploads.in.progress", inProgress, AtomicInteger::get)
                .description("REST uploads in progress on this replica (POST /v1/documents, and new versions: PUT"
                        + " /v1/documents/{id}), every key together")
                .register(metrics);
        for (Busy busy : Busy.values()) {
            refusals.put(busy, Counter.builder("osfria.ingest.upload.refusals")
                    .tag("reason", busy.name().toLowerCase(Locale.ROOT))
                    .description("REST uploads refused at once because too many were in progress, by cap")
                    .register(metrics));
        }
    }

    /**
     * A place for an upload of {@code keyName}'s, or a refusal ({@link Place#busy()} not null) past a cap; never
     * refused when the key holds no place. The caller releases it once the upload's work ends.
     */
    public Place take(String keyName) {
        AtomicInteger heldBefore = new AtomicInteger(-1); // stays -1 when the key is at its cap
        byKey.compute(keyName, (k, held) -> {
            int n = held == null ? 0 : held;
            if (n >= perKey) {
                return held;
            }
            heldBefore.set(n);
            return n + 1;
        });
        if (heldBefore.get() < 0) {
            return refused(Busy.KEY_BUSY);
        }
        if (inProgress.incrementAndGet() > max && heldBefore.get() > 0) {
            inProgress.decrementAndGet();
            giveBack(keyName);
            return refused(Busy.REPLICA_BUSY);
        }
        return new Place(keyName, null);
    }

    /** Uploads of one key in progress at once, at most. */
    public int perKey() {
        return perKey;
    }

    /** Uploads in progress on this replica, every key together. */
    public int inProgress() {
        return inProgress.get();
    }

    /** Uploads of {@code keyName} in progress on this replica. */
    public int inProgress(String keyName) {
        return byKey.getOrDefault(keyName, 0);
    }

    private Place refused(Busy busy) {
        refusals.get(busy).increment();
        return new Place(null, busy);
    }

    private void giveBack(String keyName) {
        byKey.computeIfPresent(keyName, (k, held) -> held <= 1 ? null : held - 1);
    }

    /** One upload's place, or its refusal. */
    public final class Place {

        private final String keyName;
        private final Busy busy;
        private final AtomicBoolean released = new AtomicBoolean();

        private Place(String keyName, Busy busy) {
            this.keyName = keyName;
            this.busy = busy;
        }

        /** Null when the place is held; why there is none otherwise. */
        public Busy busy() {
            return busy;
        }

        /** The upload's work ended: the place counts no more. Once only, whoever calls; nothing for a refusal. */
        public void release() {
            if (busy == null && released.compareAndSet(false, true)) {
                inProgress.decrementAndGet();
                giveBack(keyName);
            }
        }
    }
}
