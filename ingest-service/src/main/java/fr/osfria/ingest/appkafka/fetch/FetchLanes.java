package fr.osfria.ingest.appkafka.fetch;

import io.quarkus.logging.Log;
import io.smallrye.mutiny.Uni;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Fetches run beside the Kafka consumer, never in its way: each application has a lane of at most
 * {@code inFlight} fetches at once and {@code waiting} more queued; a record beyond that is refused at once
 * ({@link #offer} is false) rather than queued without bound. One application's slow URLs thus hold only its own
 * lane: the other applications' fetches, and every inline record, go on.
 */
public final class FetchLanes {

    private static final class Lane {
        int running;
        final Queue<Supplier<Uni<Void>>> queue = new ArrayDeque<>();
    }

    private final int inFlight;
    private final int waiting;
    private final Map<String, Lane> lanes = new ConcurrentHashMap<>();

    public FetchLanes(int inFlight, int waiting) {
        this.inFlight = Math.max(1, inFlight);
        this.waiting = Math.max(0, waiting);
    }

    /**
     * Runs {@code job} now, or once a fetch of the application ends; false (and {@code job} never runs) when its lane
     * is full. A job that fails is logged: its own code answers the application.
     */
    public boolean offer(String application, Supplier<Uni<Void>> job) {
        Lane lane = lanes.computeIfAbsent(application, k -> new Lane());
        synchronized (lane) {
            if (lane.running >= inFlight) {
                if (lane.queue.size() >= waiting) {
                    return false;
                }
                lane.queue.add(job);
                return true;
            }
            lane.running++;
        }
        start(application, lane, job);
        return true;
    }

    private void start(String application, Lane lane, Supplier<Uni<Void>> job) {
        Uni.createFrom().deferred(job::get)
                .onTermination().invoke(() -> next(application, lane))
                .subscribe().with(done -> { }, e -> Log.errorf(e, "a fetch of application %s failed", application));
    }

    private void next(String application, Lane lane) {
        Supplier<Uni<Void>> next;
        synchronized (lane) {
            next = lane.queue.poll();
            if (next == null) {
                lane.running--;
            }
        }
        if (next != null) {
            start(application, lane, next);
        }
    }
}
