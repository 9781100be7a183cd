package fr.osfria.ingest.document.wait;

import fr.osfria.ingest.IngestConfig;
import fr.osfria.ingest.document.repository.DocumentRepository;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.Startup;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The requests of this replica waiting for a document to settle ({@code GET /v1/documents/{id}?wait=}). A wait is a
 * callback in a map, woken by its document's announcement ({@link SettledListener}, whichever replica recorded the
 * change) or, should that be lost (the listening connection down), by {@link #check()}, which reads every document
 * waited for in one query. A key holds at most {@code per-key} waits and the replica {@code max}: past them
 * {@link #open} answers null and the request answers at once. A wait counts until its request is answered. Wakes are
 * counted by what woke them ({@code osfria.ingest.document.wait.wakes}, tag {@code by}): notifications should wake
 * nearly all of them.
 */
@Startup // its gauge is exported from the start, 0 until a request waits
@ApplicationScoped
public class DocumentWaits {

    /** The longest wait a request may ask for, in seconds. */
    public static final int MAX_SECONDS = 30;
    /** How long the service, stopping, gives the waits it woke to be answered. */
    static final Duration ANSWERS_ON_STOP = Duration.ofSeconds(3);

    private final DocumentRepository documents;
    private final IngestConfig.Waits limits;
    private final Map<String, Set<Wait>> byDocument = new ConcurrentHashMap<>();
    private final Map<String, Integer> byKey = new ConcurrentHashMap<>();
    private final AtomicInteger waiting = new AtomicInteger();
    private final AtomicInteger asleep = new AtomicInteger();
    private final Map<Woken, Counter> wakes = new EnumMap<>(Woken.class);
    /** Failures of {@link #check()} in a row: the first is a warning, the rest debug until one succeeds. */
    private final AtomicInteger checkFailures = new AtomicInteger();
    private volatile boolean stopping;

    public DocumentWaits(DocumentRepository documents, IngestConfig config, MeterRegistry metrics) {
        this.documents = documents;
        this.limits = config.waits();
        Gauge.builder("osfria.ingest.document.waits", waiting, AtomicInteger::get)
                .description("Requests waiting for their document to be indexed or failed (GET /v1/documents/{id}?wait=)")
                .register(metrics);
        for (Woken by : Woken.values()) {
            wakes.put(by, Counter.builder("osfria.ingest.document.wait.wakes").tag("by", by.name().toLowerCase(Locale.ROOT))
                    .description("Waits woken, by what woke them (a wait woken again after a new version counts again)")
                    .register(metrics));
        }
    }

    /** What woke a wait. */
    public enum Woken {
        /** Its document's announcement ({@link SettledListener}). */
        NOTIFICATION,
        /** The regular check ({@link #check()}), the safety net. */
        CHECK,
        /** The service stopping. */
        STOP
    }

    /**
     * A wait of {@code keyName}'s on {@code documentId}, woken by any announcement from now on; null past a cap or
     * while the service stops. The caller closes it.
     */
    public Wait open(String keyName, String documentId) {
        if (stopping) {
            return null;
        }
        if (waiting.incrementAndGet() > limits.max()) {
            waiting.decrementAndGet();
            return null;
        }
        AtomicBoolean admitted = new AtomicBoolean();
        byKey.compute(keyName, (k, held) -> {
            int n = held == null ? 0 : held;
            if (n >= limits.perKey()) {
                return held;
            }
            admitted.set(true);
            return n + 1;
        });
        if (!admitted.get()) {
            waiting.decrementAndGet();
            return null;
        }
        Wait wait = new Wait(keyName, documentId, Vertx.currentContext());
        byDocument.compute(documentId, (id, waits) -> {
            Set<Wait> all = waits == null ? ConcurrentHashMap.newKeySet() : waits;
            all.add(wait);
            return all;
        });
        if (stopping) { // the stop's wake-up may have passed before this wait was added: answered now all the same
            wait.wake();
        }
        return wait;
    }

    /**
     * Wakes the waits on {@code documentId}: it settled, is gone or has a new version (each request reads it again).
     */
    public void settled(String documentId, Woken by) {
        Set<Wait> waits = byDocument.get(documentId);
        if (waits != null) {
            Counter counter = wakes.get(by);
            waits.forEach(wait -> {
                if (wait.wake()) {
                    counter.increment();
                }
            });
        }
    }

    /** Waits in progress on this replica. */
    public int waiting() {
        return waiting.get();
    }

    /** Of {@link #waiting()}, those past their read of the document, waiting for a wake or their time-out. */
    public int asleep() {
        return asleep.get();
    }

    /** The safety net: wakes the waits on every document no longer processing, announced or not. */
    @Scheduled(every = "${osfria.ingest.waits.check-interval}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> check() {
        if (byDocument.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        List<String> ids = List.copyOf(byDocument.keySet());
        return Panache.withSession(() -> documents.stillProcessing(ids))
                .invoke(processing -> ids.stream().filter(id -> !processing.contains(id))
                        .forEach(id -> settled(id, Woken.CHECK)))
                .invoke(() -> {
                    if (checkFailures.getAndSet(0) > 0) {
                        Log.info("the documents waited for are read again");
                    }
                })
                .replaceWithVoid()
                // PostgreSQL away: the waits end at their time-out, answered as a read then answers. Said once per run
                // of failures: one that lasts means waits whose notification is lost are woken by nothing else
                .onFailure().invoke(e -> {
                    if (checkFailures.getAndIncrement() == 0) {
                        Log.warnf("the documents waited for cannot be read (waits are woken by notifications only): %s",
                                e.toString());
                    } else {
                        Log.debugf("the documents waited for could not be read: %s", e.toString());
                    }
                })
                .onFailure().recoverWithNull();
    }

    /**
     * Stopping: every wait answers now, what its document is then, rather than be cut with its connection; the
     * database and the HTTP server are closed after this (for {@link #ANSWERS_ON_STOP} at most).
     */
    void stop(@Observes ShutdownEvent event) throws InterruptedException {
        stopping = true;
        byDocument.keySet().forEach(id -> settled(id, Woken.STOP));
        long deadline = System.nanoTime() + ANSWERS_ON_STOP.toNanos();
        while (waiting.get() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
    }

    private void release(Wait wait) {
        byDocument.computeIfPresent(wait.documentId, (id, waits) -> {
            waits.remove(wait);
            return waits.isEmpty() ? null : waits;
        });
        byKey.computeIfPresent(wait.keyName, (k, held) -> held <= 1 ? null : held - 1);
        waiting.decrementAndGet();
    }

    /** One request's wait. */
    public final class Wait {

        private final String keyName;
        private final String documentId;
        /** The request's: what follows the wait (a session, the answer) runs there, not on the waker's thread. */
        private final Context context;
        /** Completed by a wake; replaced by {@link #rearm()} for the next round. */
        private final AtomicReference<CompletableFuture<Void>> woken = new AtomicReference<>(new CompletableFuture<>());
        private final AtomicBoolean closed = new AtomicBoolean();

        private Wait(String keyName, String documentId, Context context) {
            this.keyName = keyName;
            this.documentId = documentId;
            this.context = context;
        }

        /** Completes once the document is announced settled, gone or replaced, or after {@code max}. */
        public Uni<Void> until(Duration max) {
            // counted once out, however the round ends: an item and a cancel may both reach the termination
            AtomicBoolean awake = new AtomicBoolean();
            Uni<Void> woken = Uni.createFrom().completionStage(this.woken.get())
                    .ifNoItem().after(max).recoverWithItem((Void) null)
                    .onSubscription().invoke(asleep::incrementAndGet)
                    .onTermination().invoke(() -> {
                        if (awake.compareAndSet(false, true)) {
                            asleep.decrementAndGet();
                        }
                    });
            return context == null ? woken : woken.emitOn(task -> context.runOnContext(v -> task.run()));
        }

        /** The request is answered (or gone): the wait no longer counts. */
        public void close() {
            if (closed.compareAndSet(false, true)) {
                release(this);
            }
        }

        /**
         * Ready to be woken again, by what happens from now on: called after a wake, before the request reads the
         * document again. False while the service stops: the request answers now.
         */
        public boolean rearm() {
            if (stopping) {
                return false;
            }
            woken.updateAndGet(f -> f.isDone() ? new CompletableFuture<>() : f);
            return true;
        }

        /** Whether this woke it (it was not already awake). */
        private boolean wake() {
            return woken.get().complete(null);
        }
    }
}
