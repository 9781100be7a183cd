package fr.osfria.local;

import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Keeps the platform's processes running under {@code ./osfria up}: once {@link #arm() armed} (the platform is up),
 * when one dies on its own the terminal gets one line saying so and it is started again after a {@link Backoff}.
 * Before that, a death is a start-up failure that the launcher reports itself. Stopping the platform closes the
 * supervisor first, so nothing it stops on purpose comes back.
 */
public final class Supervisor implements AutoCloseable {

    /** Something that runs as one operating-system process. */
    public interface Child {
        /** The running process. */
        ProcessHandle handle();

        /** How it ended, for the terminal (e.g. "code 137"), or null when that cannot be known. */
        default String exitStatus() {
            return null;
        }
    }

    private static final Duration SETTLE = Duration.ofMillis(300);

    private final PrintStream out;
    private final Supplier<Backoff> backoffs;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "osfria-supervisor");
        t.setDaemon(true);
        return t;
    });
    private final List<Supervised<?>> all = new CopyOnWriteArrayList<>();
    private volatile boolean armed;
    private volatile boolean closed;

    public Supervisor(PrintStream out, Supplier<Backoff> backoffs) {
        this.out = out;
        this.backoffs = backoffs;
    }

    /** Watches {@code first}, already started; each time the current one dies, {@code restart} starts another. */
    public <T extends Child> Supervised<T> supervise(String name, T first, Supplier<T> restart) {
        Supervised<T> supervised = new Supervised<>(name, restart, backoffs.get());
        supervised.watch(first);
        all.add(supervised);
        return supervised;
    }

    /** From now on deaths are restarts; one that happened before is handled now. */
    public void arm() {
        armed = true;
        all.forEach(Supervised::diedBeforeArming);
    }

    /** No restart from now on; the processes themselves are stopped by their owner, through {@link Supervised#current()}. */
    @Override
    public void close() {
        closed = true;
        scheduler.shutdownNow();
    }

    /** One supervised process and its successive incarnations. */
    public final class Supervised<T extends Child> {

        private final String name;
        private final Supplier<T> restart;
        private final Backoff backoff;
        private T current;
        private ProcessHandle running;
        private ProcessHandle handled;
        private long startedAt;
        private int restarts;

        private Supervised(String name, Supplier<T> restart, Backoff backoff) {
            this.name = name;
            this.restart = restart;
            this.backoff = backoff;
        }

        public String name() {
            return name;
        }

        /** The running incarnation (or the last one, while a restart waits for its back-off). */
        public synchronized T current() {
            return current;
        }

        /** How many times it has been started again. */
        public synchronized int restarts() {
            return restarts;
        }

        private synchronized void watch(T child) {
            ProcessHandle process = child.handle();
            current = child;
            running = process;
            startedAt = System.nanoTime();
            process.onExit().thenRun(() -> died(child, process));
        }

        private synchronized void diedBeforeArming() {
            if (!running.isAlive()) {
                died(current, running);
            }
        }

        private void died(T child, ProcessHandle process) {
            Duration delay;
            synchronized (this) {
                if (!armed || closed || process != running || process == handled) {
                    return;
                }
                handled = process;
                delay = backoff.afterDeath(Duration.ofNanos(System.nanoTime() - startedAt));
            }
            // Ctrl-C reaches the children too: leave the launcher's shutdown the moment to close the supervisor
            // before saying anything, so a stop is never announced as a restart
            Duration settle = delay.compareTo(SETTLE) < 0 ? delay : SETTLE;
            try {
                scheduler.schedule(() -> {
                    if (!closed) {
                        String status = child.exitStatus();
                        out.println("osfria: " + name + " exited" + (status == null ? "" : " (" + status + ")")
                                + "; restarting it in " + seconds(delay));
                        schedule(delay.minus(settle));
                    }
                }, settle.toMillis(), TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                // closed meanwhile: the platform is stopping
            }
        }

        private void restart() {
            Duration retry;
            synchronized (this) {
                if (closed) {
                    return;
                }
                try {
                    watch(restart.get());
                    restarts++;
                    return;
                } catch (RuntimeException e) {
                    retry = backoff.afterDeath(Duration.ZERO);
                    out.println("osfria: " + name + " could not be restarted (" + (e.getMessage() == null ? e : e.getMessage())
                            + "); trying again in " + seconds(retry));
                }
            }
            schedule(retry);
        }

        private void schedule(Duration delay) {
            try {
                scheduler.schedule(this::restart, delay.toMillis(), TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                // closed meanwhile: the platform is stopping
            }
        }
    }

    private static String seconds(Duration delay) {
        return delay.toMillis() % 1000 == 0 ? delay.toSeconds() + " s" : delay.toMillis() + " ms";
    }
}
