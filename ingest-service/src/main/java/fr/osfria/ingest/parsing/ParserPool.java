package fr.osfria.ingest.parsing;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Where parses run, so that a time-out really frees the service: PDFBox and POI ignore interruption, so a parse
 * past its time-out is abandoned, not awaited: its thread is left to finish at the lowest priority, counted, and
 * its place goes to the next parse. At most {@code workers} parses run at once and at most
 * {@code workers + maxAbandoned} parser threads exist, however many pathological files arrive: when abandoned
 * threads fill that room, a new parse waits (up to its time-out) for one of them to end.
 */
final class ParserPool implements AutoCloseable {

    /** No room for a new parse within its time-out: every thread is taken by a running or an abandoned parse. */
    static final class Busy extends Exception {
        Busy() {
            super("all parser threads are busy or stuck on earlier documents");
        }
    }

    private final Semaphore running;
    private final Semaphore threads;
    private final ThreadPoolExecutor executor;
    private final AtomicLong abandoned = new AtomicLong();

    ParserPool(int workers, int maxAbandoned) {
        int max = workers + maxAbandoned;
        this.running = new Semaphore(workers);
        this.threads = new Semaphore(max);
        this.executor = new ThreadPoolExecutor(max, max, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "osfria-parser");
            t.setDaemon(true);
            return t;
        });
        executor.allowCoreThreadTimeOut(true);
    }

    /** Runs {@code task}; past {@code timeout} abandons it and throws {@link TimeoutException}. */
    <T> T run(Callable<T> task, Duration timeout) throws Busy, TimeoutException, ExecutionException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        if (!running.tryAcquire(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
            throw new Busy();
        }
        try {
            if (!threads.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                throw new Busy();
            }
            // whoever takes the job first, its thread or its time-out, owns the place: a job cancelled before it
            // started never runs, so its own release would never come and the place would be lost for good
            AtomicReference<Thread> worker = new AtomicReference<>();
            Future<T> job;
            try {
                job = executor.submit(() -> {
                    if (!worker.compareAndSet(null, Thread.currentThread())) {
                        return null; // timed out before it started: the place was given back then
                    }
                    try {
                        return task.call();
                    } finally {
                        Thread.currentThread().setPriority(Thread.NORM_PRIORITY);
                        threads.release(); // the thread is free again, abandoned or not
                    }
                });
            } catch (RuntimeException e) { // closed
                threads.release();
                throw e;
            }
            try {
                return job.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                job.cancel(true); // a parser that honours interruption stops here; the others finish in the background
                if (worker.compareAndSet(null, Thread.currentThread())) {
                    threads.release(); // never started, and now never will
                } else {
                    worker.get().setPriority(Thread.MIN_PRIORITY);
                }
                abandoned.incrementAndGet();
                throw e;
            }
        } finally {
            running.release();
        }
    }

    /** Parses abandoned past their time-out since start. */
    long abandoned() {
        return abandoned.get();
    }

    /** Parser threads at work now, on live or abandoned parses. */
    int busyThreads() {
        return executor.getActiveCount();
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
