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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The REST uploads in progress on this replica. A key holds at most {@code uploads.per-key} places, from an upload's
 * headers ({@link #take}, before its body is received: a key's slow or large bodies count against its own cap while
 * they arrive) to the end of its work. The replica's cap, {@code uploads.max}, counts only uploads whose work has begun
 * ({@link Place#start}, once the body is received): it shares out the worker threads and the upload memory, which
 * a body still arriving does not use, so that bodies trickling in for a few keys cannot hold every other key's work
 * back. A key's first upload at work always begins, whatever the replica holds: the replica's cap refuses only keys
 * with another upload at work, so a few keys keeping their places filled cannot lock every other key out (the
 * replica works at most {@code uploads.max} uploads plus one per key, and keys are few: administrators create
 * them). A place is given back once the upload's work ends, whatever its outcome, or when its request ends before
 * the work began. Metrics: gauges {@code osfria.ingest.uploads.in.progress} (at work) and
 * {@code osfria.ingest.uploads.receiving} (bodies arriving), counter {@code osfria.ingest.upload.refusals} (tag
 * {@code reason}: {@code key_busy}, {@code replica_busy}).
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
        /** The replica has {@code uploads.max} uploads at work, every key together, its key one at least: 503. */
        REPLICA_BUSY
    }

    /** What {@link Place#start} decided. */
    public enum Start {
        /** The work may begin; the place is given back when it ends ({@link Place#release}). */
        BEGUN,
        /** Past the replica's cap: the place is given back, the upload is answered 503. */
        REPLICA_BUSY,
        /** The request ended before its work began (its client left): its place is given back, nothing is done. */
        REQUEST_ENDED
    }

    /** One key's places: every one it holds (bodies arriving and work), and those at work. */
    private record Held(int all, int working) {
    }

    private enum Stage { RECEIVING, WORKING, ENDED }

    private final int perKey;
    private final int max;
    private final Map<String, Held> byKey = new ConcurrentHashMap<>();
    private final AtomicInteger working = new AtomicInteger();
    private final AtomicInteger receiving = new AtomicInteger();
    private final Map<Busy, Counter> refusals = new EnumMap<>(Busy.class);

    @Inject
    public UploadPlaces(IngestConfig config, MeterRegistry metrics) {
        this(config.uploads().perKey(), config.uploads().max(), metrics);
    }

    UploadPlaces(int perKey, int max, MeterRegistry metrics) {
        this.perKey = perKey;
        this.max = max;
        Gauge.builder("osfria.ingest.uploads.in.progress", working, AtomicInteger::get)
                .description("REST uploads at work on this replica (POST /v1/documents, and new versions: PUT"
                        + " /v1/documents/{id}), their bodies received, every key together")
                .register(metrics);
        Gauge.builder("osfria.ingest.uploads.receiving", receiving, AtomicInteger::get)
                .description("REST uploads whose bodies are still arriving on this replica, every key together")
                .register(metrics);
        for (Busy busy : Busy.values()) {
            refusals.put(busy, Counter.builder("osfria.ingest.upload.refusals")
                    .tag("reason", busy.name().toLowerCase(Locale.ROOT))
                    .description("REST uploads refused at once because too many were in progress, by cap")
                    .register(metrics));
        }
    }

    /**
     * A place for an upload of {@code keyName}'s whose body is about to arrive, or a refusal ({@link Place#busy()} not
     * null): past the key's cap, or when the replica is already full and the key has an upload at work (it would be
     * refused once received: its client is spared sending the body). The replica's cap is decided when the work
     * begins ({@link Place#start}).
     */
    public Place take(String keyName) {
        Busy[] refused = {null};
        byKey.compute(keyName, (k, held) -> {
            Held now = held == null ? new Held(0, 0) : held;
            if (now.all() >= perKey) {
                refused[0] = Busy.KEY_BUSY;
                return held;
            }
            if (now.working() > 0 && working.get() >= max) {
                refused[0] = Busy.REPLICA_BUSY; // it would be refused once received: spared sending its body
                return held;
            }
            return new Held(now.all() + 1, now.working());
        });
        if (refused[0] != null) {
            refusals.get(refused[0]).increment();
            return new Place(null, refused[0]);
        }
        receiving.incrementAndGet();
        return new Place(keyName, null);
    }

    /** Uploads of one key in progress at once, at most. */
    public int perKey() {
        return perKey;
    }

    /** Uploads at work on this replica, every key together. */
    public int inProgress() {
        return working.get();
    }

    /** Uploads whose bodies are still arriving on this replica, every key together. */
    public int receiving() {
        return receiving.get();
    }

    /** Uploads of {@code keyName} in progress on this replica: bodies arriving and at work. */
    public int inProgress(String keyName) {
        Held held = byKey.get(keyName);
        return held == null ? 0 : held.all();
    }

    /**
     * One more of {@code keyName}'s places at work; false when the replica is full and the key has one at work. Decided
     * under the key's entry, so that two of a key's uploads starting at once cannot both pass as its first.
     */
    private boolean startWork(String keyName) {
        boolean[] started = {false};
        byKey.computeIfPresent(keyName, (k, held) -> {
            if (working.incrementAndGet() > max && held.working() > 0) {
                working.decrementAndGet();
                return held;
            }
            started[0] = true;
            return new Held(held.all(), held.working() + 1);
        });
        return started[0];
    }

    private void giveBack(String keyName, boolean wasWorking) {
        (wasWorking ? working : receiving).decrementAndGet();
        byKey.computeIfPresent(keyName, (k, held) -> held.all() <= 1 ? null
                : new Held(held.all() - 1, held.working() - (wasWorking ? 1 : 0)));
    }

    /** One upload's place, or its refusal. */
    public final class Place {

        private final String keyName;
        private final Busy busy;
        private final AtomicReference<Stage> stage;

        private Place(String keyName, Busy busy) {
            this.keyName = keyName;
            this.busy = busy;
            this.stage = new AtomicReference<>(busy == null ? Stage.RECEIVING : Stage.ENDED);
        }

        /** Null when the place is held; why there is none otherwise. */
        public Busy busy() {
            return busy;
        }

        /**
         * The upload's body is received and its work is about to begin: counted against the replica's cap from now
         * on, unless the replica is full ({@link Start#REPLICA_BUSY}) or the request already ended
         * ({@link Start#REQUEST_ENDED}); either way the place is given back.
         */
        public Start start() {
            if (!stage.compareAndSet(Stage.RECEIVING, Stage.WORKING)) {
                return Start.REQUEST_ENDED;
            }
            if (!startWork(keyName)) {
                stage.set(Stage.ENDED);
                refusals.get(Busy.REPLICA_BUSY).increment();
                giveBack(keyName, false);
                return Start.REPLICA_BUSY;
            }
            receiving.decrementAndGet();
            return Start.BEGUN;
        }

        /** The request ended: a place whose work has not begun is given back; work under way gives it back itself. */
        public void requestEnded() {
            if (stage.compareAndSet(Stage.RECEIVING, Stage.ENDED)) {
                giveBack(keyName, false);
            }
        }

        /** The upload's work ended: the place counts no more. Once only, whoever calls; nothing for a refusal. */
        public void release() {
            Stage was = stage.getAndSet(Stage.ENDED);
            if (was != Stage.ENDED) {
                giveBack(keyName, was == Stage.WORKING);
            }
        }
    }
}
