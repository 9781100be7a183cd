package fr.osfria.router.balance;

import fr.osfria.router.RouterConfig;
import fr.osfria.router.backend.Backend;
import fr.osfria.router.backend.BackendPool;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * Hands out backend slots: a backend that serves the model, is not ejected, was not tried yet for this request and
 * has fewer than {@code maxInFlightPerBackend} requests. When every such backend is full the request waits in a
 * bounded queue, served in arrival order as slots free up; past the queue's size or wait it is refused.
 */
@ApplicationScoped
@io.quarkus.runtime.Startup // its queue gauge exists from the start, not from the first request
public class Dispatcher {

    /** Why no slot was given; the proxy turns it into the client's answer. */
    public static final class NoSlot extends RuntimeException {
        public final int status;
        public final String code;

        NoSlot(int status, String code, String message) {
            super(message, null, false, false);
            this.status = status;
            this.code = code;
        }
    }

    private record Waiter(String model, String affinityKey, Set<Backend> tried, Promise<Backend> promise,
                          Context context, long timer) {
    }

    private final BackendPool pool;
    private final Balancer balancer;
    private final RouterConfig.Admission config;
    private final Vertx vertx;
    private final ArrayDeque<Waiter> queue = new ArrayDeque<>();
    private final List<Runnable> releaseListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    public Dispatcher(BackendPool pool, RouterConfig config, Vertx vertx, MeterRegistry meters) {
        this.pool = pool;
        this.balancer = new Balancer("affinity".equalsIgnoreCase(config.balancing().strategy()),
                config.balancing().loadBound());
        this.config = config.admission();
        this.vertx = vertx;
        Gauge.builder("osfria.router.queue.depth", this, Dispatcher::queued).strongReference(true)
                .description("Requests waiting for a backend slot in the router").register(meters);
    }

    public synchronized int queued() {
        return queue.size();
    }

    /** A slot on a backend for {@code model}; the caller must {@link #release} it exactly once. */
    public Future<Backend> acquire(String model, String affinityKey, Set<Backend> tried) {
        List<Backend> serving = serving(model, tried, System.nanoTime());
        if (serving.isEmpty()) {
            return Future.failedFuture(new NoSlot(503, "no_healthy_backend", tried.isEmpty()
                    ? "No healthy backend serves the model '" + model + "' right now; retry later"
                    : "Every backend serving the model '" + model + "' failed this request; retry later"));
        }
        synchronized (this) {
            Backend chosen = queue.isEmpty() ? take(serving, affinityKey) : null;
            if (chosen != null) {
                return Future.succeededFuture(chosen);
            }
            if (queue.size() >= config.queueSize()) {
                return Future.failedFuture(new NoSlot(503, "overloaded",
                        "All backends serving '" + model + "' are saturated and the queue is full; retry later"));
            }
            Promise<Backend> promise = Promise.promise();
            Context context = vertx.getOrCreateContext();
            Waiter[] self = new Waiter[1];
            long timer = vertx.setTimer(config.queueTimeout().toMillis(), id -> timedOut(self[0]));
            self[0] = new Waiter(model, affinityKey, Set.copyOf(tried), promise, context, timer);
            queue.addLast(self[0]);
            return promise.future();
        }
    }

    /**
     * The batch lane: a slot on a backend with spare capacity, or null at once (it never queues). Spare means no
     * interactive request is waiting for a slot, and the backend's whole load (this router's requests, batch ones
     * included, or vLLM's running count, plus vLLM's own queue) is below {@code maxLoad}. Interactive requests
     * therefore never wait behind batch work: batch requests start only while nobody waits, and as interactive load
     * rises on a backend fewer batch requests fit under {@code maxLoad} (kept below {@code max-in-flight-per-backend},
     * so a backend always has slots batch work cannot take). The caller must {@link #release} it exactly once.
     */
    public Backend acquireSpare(String model, int maxLoad, Set<Backend> tried) {
        long now = System.nanoTime();
        synchronized (this) {
            if (!queue.isEmpty()) {
                return null;
            }
            List<Backend> spare = new ArrayList<>();
            for (Backend b : serving(model, tried, now)) {
                if (b.load() < maxLoad && b.inFlight() < config.maxInFlightPerBackend()) {
                    spare.add(b);
                }
            }
            Backend chosen = balancer.choose(spare, null);
            if (chosen != null) {
                chosen.acquired();
            }
            return chosen;
        }
    }

    /** Whether any backend serves the model and is not ejected (a batch request waits for one otherwise). */
    public boolean anyServing(String model, Set<Backend> tried) {
        return !serving(model, tried, System.nanoTime()).isEmpty();
    }

    /** Called after every release (on the releasing thread): the batch lane starts waiting work then. */
    public void onRelease(Runnable listener) {
        releaseListeners.add(listener);
    }

    /** Backends that serve the model, are not ejected and were not tried yet for this request. */
    private List<Backend> serving(String model, Set<Backend> tried, long now) {
        List<Backend> serving = new ArrayList<>();
        for (Backend b : pool.backends()) {
            if (b.serves(model) && b.breaker().allows(now) && !tried.contains(b)) {
                serving.add(b);
            }
        }
        return serving;
    }

    private Backend take(List<Backend> serving, String affinityKey) {
        List<Backend> withRoom = new ArrayList<>(serving.size());
        for (Backend b : serving) {
            if (b.inFlight() < config.maxInFlightPerBackend()) {
                withRoom.add(b);
            }
        }
        Backend chosen = balancer.choose(withRoom, affinityKey);
        if (chosen != null) {
            chosen.acquired();
        }
        return chosen;
    }

    public void release(Backend backend) {
        releaseQuietly(backend);
        releaseListeners.forEach(Runnable::run);
    }

    /** {@link #release} without telling the release listeners (the batch lane gives back a slot it did not use). */
    public void releaseQuietly(Backend backend) {
        backend.released();
        List<Runnable> handOvers = new ArrayList<>();
        synchronized (this) {
            long now = System.nanoTime();
            Iterator<Waiter> it = queue.iterator();
            while (it.hasNext()) {
                Waiter w = it.next();
                List<Backend> serving = serving(w.model(), w.tried(), now);
                Backend chosen = take(serving, w.affinityKey());
                if (chosen == null) {
                    if (!serving.isEmpty() && serving.stream().allMatch(b -> b.inFlight() >= config.maxInFlightPerBackend())) {
                        break; // still full: later waiters must not jump ahead of this one
                    }
                    continue;
                }
                it.remove();
                vertx.cancelTimer(w.timer());
                handOvers.add(() -> w.context().runOnContext(v -> w.promise().complete(chosen)));
            }
        }
        handOvers.forEach(Runnable::run);
    }

    private void timedOut(Waiter w) {
        boolean removed;
        synchronized (this) {
            removed = queue.remove(w);
        }
        if (removed) {
            w.promise().tryFail(new NoSlot(503, "overloaded", "No backend slot for '" + w.model() + "' within "
                    + config.queueTimeout().toSeconds() + " s; the backends are saturated, retry later"));
        }
    }

    /** A waiting client went away: leave the queue. */
    public void abandon(Future<Backend> pending) {
        Waiter found = null;
        synchronized (this) {
            for (Waiter w : queue) {
                if (w.promise().future() == pending) {
                    found = w;
                    break;
                }
            }
            if (found != null) {
                queue.remove(found);
            }
        }
        if (found != null) {
            vertx.cancelTimer(found.timer());
        }
    }
}
