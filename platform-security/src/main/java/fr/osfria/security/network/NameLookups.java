package fr.osfria.security.network;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The name lookups of one {@link TargetPolicy}, on threads of its own, fair between the parties that ask for them. A
 * lookup can block for many seconds and the JVM cannot interrupt it: on a shared pool, one party's black-holed names
 * held every thread and everyone else's checks queued behind them.
 *
 * <ul>
 * <li>A party (a subscription's owner, an application) has at most {@link Limits#perParty} lookups running at once;
 * its further lookups wait in its own queue. Parties with lookups waiting take free threads in turn.</li>
 * <li>One lookup per host at a time: checks of a name being looked up wait for that lookup, holding no thread. A party
 * joining a lookup that has not started queues it in its own queue too, and whichever party's turn comes first runs it
 * (and is charged for it): a party whose own lookups hang cannot hold back a name others ask about. An answer is reused for {@link Limits#remembered} (like the JVM's own cache), a failure for at most
 * {@link #FAILURE_REMEMBERED}; both without any thread.</li>
 * <li>A lookup that has not answered {@link Limits#deadline} after it was asked for fails its waiters with a
 * {@link TimeoutException}: nothing is known of the name, which is not "no such name". Still queued, it is not run
 * and nothing is remembered; running, its thread counts against its party until the resolver returns, and checks of
 * the host fail so at once meanwhile (its late addresses are remembered as any others; a late failure is not). A
 * resolver that fails after half the deadline (at most 5 s, its own time-out for a try) gave up waiting for a name
 * server: its waiters fail so too, and nothing is remembered. So does a quick failure of that host for as long as the
 * JVM answers it from the failure it cached ({@code networkaddress.cache.negative.ttl}).</li>
 * <li>At most {@link Limits#threads} threads in all: once that many lookups hang, a party's lookup waits for a thread
 * (its turn among the parties waiting) or its deadline. Filling them takes {@code threads / perParty} parties with
 * hanging names at once; a party is a key or an application an operator issued.</li>
 * </ul>
 * The threads are daemons and {@link #close()} does not wait for them: a stopping service is not held by a lookup.
 */
final class NameLookups implements AutoCloseable {

    /** A failed lookup (no such name, the resolver failed) is asked again after this long at most. */
    static final Duration FAILURE_REMEMBERED = Duration.ofSeconds(5);
    /** Hosts remembered at most; the stale ones go first. */
    private static final int MAX_HOSTS = 10_000;
    /** The resolver's own time-out for one try (glibc's default): a failure after it is a name server not answering. */
    private static final Duration RESOLVER_TRY = Duration.ofSeconds(5);
    /** How long a host is marked as given up on when the JVM caches failures forever. */
    private static final Duration GAVE_UP_AT_MOST = Duration.ofSeconds(60);

    /**
     * @param perParty   lookups of one party running at once
     * @param threads    lookups running at once, all parties together
     * @param deadline   how long a check waits for a lookup before it fails as not answered in time
     * @param remembered how long an answer is reused (zero: every check looks the name up, unless a lookup of it runs)
     */
    record Limits(int perParty, int threads, Duration deadline, Duration remembered) {
        Limits {
            if (perParty < 1 || threads < perParty) {
                throw new IllegalArgumentException("lookups: at least one per party, and threads for a party at least");
            }
            if (deadline == null || deadline.isNegative() || deadline.isZero()) {
                throw new IllegalArgumentException("lookups: the deadline must be positive, not " + deadline);
            }
            if (remembered == null || remembered.isNegative()) {
                throw new IllegalArgumentException("lookups: remembered must be zero or more, not " + remembered);
            }
        }
    }

    /** One lookup of a host and, once answered, its answer ({@code null}: does not resolve) until it goes stale. */
    private static final class Flight {
        final String host;
        /** The parties whose queues hold it until it starts. Under the dispatcher's lock. */
        final java.util.Set<String> queuedBy = new java.util.HashSet<>();
        /** The party charged for it once started. Under the dispatcher's lock. */
        String runner;
        final long asked = System.nanoTime();
        final CompletableFuture<InetAddress[]> answer = new CompletableFuture<>();
        /** Set under the dispatcher's lock. */
        boolean started;
        /** Until when (nanoTime) the answer holds; meaningful once the answer is done. */
        volatile long until;

        Flight(String host) {
            this.host = host;
        }

        boolean current(long now) {
            return !answer.isDone() || now - until < 0;
        }
    }

    /** A party's lookups running and waiting. */
    private static final class Party {
        final String name;
        int running;
        final ArrayDeque<Flight> waiting = new ArrayDeque<>();
        boolean queuedForTurn;

        Party(String name) {
            this.name = name;
        }
    }

    private final HostResolver resolver;
    private final Limits limits;
    private final Map<String, Flight> hosts = new ConcurrentHashMap<>();
    /** Guarded by {@code this}: the parties with lookups running or waiting, and whose turn it is. */
    private final Map<String, Party> parties = new HashMap<>();
    private final ArrayDeque<Party> turns = new ArrayDeque<>();
    private int running;
    private boolean closed;
    private final ThreadPoolExecutor pool;
    private final AtomicLong timedOut = new AtomicLong();
    /**
     * Until when (nanoTime) a host whose lookup gave up slowly or failed past its deadline keeps failing quickly
     * without a name server's answer: the JVM caches every {@link UnknownHostException} (its negative cache time), so
     * the retry a time-out invites gets that failure back at once. Bounded like {@link #hosts}.
     */
    private final Map<String, Long> gaveUpOn = new ConcurrentHashMap<>();
    private final Duration gaveUpMark = jvmFailureCacheTime();

    NameLookups(HostResolver resolver, Limits limits) {
        this.resolver = resolver;
        this.limits = limits;
        AtomicInteger n = new AtomicInteger();
        // as many threads as lookups may run (the dispatcher never hands out more), none kept when idle
        this.pool = new ThreadPoolExecutor(limits.threads(), limits.threads(), 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "osfria-name-lookup-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true);
    }

    /**
     * The addresses of {@code host} for {@code party}; {@code null} when it does not resolve; failed with a
     * {@link TimeoutException} when no answer came within the deadline, or the lookups closed before it ran.
     */
    CompletableFuture<InetAddress[]> resolve(String host, String party) {
        long now = System.nanoTime();
        String who = party == null ? "" : party;
        Flight mine = new Flight(host);
        Flight flight = hosts.compute(host, (h, known) -> known != null && known.current(now) ? known : mine);
        if (flight == mine) {
            forgetStale(now);
            // on the JDK's delay thread itself: its waiters' callbacks only hand the answer over to their own context
            CompletableFuture.delayedExecutor(limits.deadline().toNanos(), TimeUnit.NANOSECONDS, Runnable::run)
                    .execute(() -> deadline(mine));
        }
        if (!flight.answer.isDone()) {
            enqueue(flight, who);
        }
        return flight.answer;
    }

    /** Lookups that did not answer within the deadline, or whose resolver gave up ({@link #givingUp()}), since start. */
    long timedOut() {
        return timedOut.get();
    }

    /** Fails every lookup still waiting as not looked up and runs no more; running ones are left to end on their own. */
    @Override
    public void close() {
        java.util.Set<Flight> waiting = new java.util.LinkedHashSet<>(); // a lookup may wait in several queues
        synchronized (this) {
            closed = true;
            parties.values().forEach(p -> waiting.addAll(p.waiting));
            parties.values().forEach(p -> p.waiting.clear());
            turns.clear();
        }
        pool.shutdownNow(); // interrupts idle threads only in effect: a lookup in the resolver cannot be interrupted
        waiting.forEach(f -> notLookedUp(f, "the name lookups were closed"));
    }

    /** Queues the lookup in the party's queue, unless it started, was answered or is queued there already. */
    private void enqueue(Flight f, String party) {
        synchronized (this) {
            if (f.started || f.answer.isDone() || f.queuedBy.contains(party)) {
                return;
            }
            if (!closed) {
                Party p = parties.computeIfAbsent(party, Party::new);
                f.queuedBy.add(party);
                p.waiting.add(f);
                if (!p.queuedForTurn && p.running < limits.perParty()) {
                    p.queuedForTurn = true;
                    turns.add(p);
                }
                dispatch();
                return;
            }
        }
        notLookedUp(f, "the name lookups were closed");
    }

    /** Gives free threads to the parties in turn, one lookup each per turn. Under the lock. */
    private void dispatch() {
        while (running < limits.threads() && !turns.isEmpty()) {
            Party p = turns.poll();
            p.queuedForTurn = false;
            Flight f = p.waiting.poll();
            if (f == null) {
                continue;
            }
            f.started = true;
            f.runner = p.name;
            unqueue(f);
            p.running++;
            running++;
            if (!p.waiting.isEmpty() && p.running < limits.perParty()) {
                p.queuedForTurn = true;
                turns.add(p);
            }
            try {
                pool.execute(() -> run(f));
            } catch (RejectedExecutionException e) { // closed meanwhile: nothing runs any more
                p.running--;
                running--;
                CompletableFuture.runAsync(() -> notLookedUp(f, "the name lookups were closed"));
            }
        }
    }

    /** Takes a started or expired lookup out of the queues that still hold it. Under the lock. */
    private void unqueue(Flight f) {
        for (String name : f.queuedBy) {
            Party q = parties.get(name);
            if (q != null && q.waiting.remove(f) && q.running == 0 && q.waiting.isEmpty()) {
                parties.remove(name);
                turns.remove(q);
                q.queuedForTurn = false;
            }
        }
        f.queuedBy.clear();
    }

    private void run(Flight f) {
        InetAddress[] addresses = null;
        long start = System.nanoTime();
        try {
            addresses = resolver.resolve(f.host);
            if (addresses != null && addresses.length == 0) {
                addresses = null;
            }
        } catch (Exception e) { // UnknownHostException, or a failing resolver: the name does not resolve
            addresses = null;
        } finally { // whatever the resolver throws, the party gets its thread back and the waiters an answer
            long took = System.nanoTime() - start; // before the dispatcher's lock, which may be contended
            finished(f);
            boolean slow = took >= givingUp().toNanos();
            if (addresses == null && (slow || givenUpOn(f.host))) {
                gaveUp(f, slow);
            } else {
                answered(f, addresses);
            }
        }
    }

    /**
     * How long a failing resolver took when it gave up rather than answered: half the deadline, at most the
     * resolver's own time-out for one try (5 s). glibc's resolver throws after its time-out (5 s a try, 2 tries: about
     * 10 s with one name server) for a name server (the platform's or the domain's) that does not answer; a name server
     * that says "no such name" or SERVFAIL answers in milliseconds. Half the deadline too: the JVM does not know
     * resolv.conf's time-outs, and an operator's shorter deadline scales it. Naming a slow failure apart leaks nothing:
     * its time already shows it.
     */
    private Duration givingUp() {
        Duration half = limits.deadline().dividedBy(2);
        return half.compareTo(RESOLVER_TRY) < 0 ? half : RESOLVER_TRY;
    }

    /**
     * The resolver failed after a long wait (or, quickly, while the JVM still caches the failure it gave up with): its
     * name server did not answer, nothing is known of the name. Its waiters fail as not looked up in time, and the
     * next check looks the name up again.
     */
    private void gaveUp(Flight f, boolean slow) {
        synchronized (f) {
            if (!f.answer.isDone()) {
                f.until = System.nanoTime();
                timedOut.incrementAndGet(); // before its waiters hear of it
                f.answer.completeExceptionally(new TimeoutException("the resolver gave up"));
            }
        }
        hosts.remove(f.host, f);
        if (slow) { // a quick failure within the mark does not extend it: the JVM's cached failure expires as it was
            markGaveUp(f.host);
        }
    }

    /** Marks the host as given up on for as long as the JVM answers its lookups from the failure it cached. */
    private void markGaveUp(String host) {
        if (gaveUpMark.isZero()) {
            return;
        }
        long now = System.nanoTime();
        if (gaveUpOn.size() >= MAX_HOSTS) {
            gaveUpOn.values().removeIf(until -> until - now <= 0);
            if (gaveUpOn.size() >= MAX_HOSTS) { // a flood of names: the marks only spare a retry a false answer
                gaveUpOn.clear();
            }
        }
        gaveUpOn.put(host, now + gaveUpMark.toNanos());
    }

    /** Whether a quick failure of the host may be the JVM's cached failure of a lookup that gave up. */
    private boolean givenUpOn(String host) {
        Long until = gaveUpOn.get(host);
        if (until == null) {
            return false;
        }
        if (until - System.nanoTime() > 0) {
            return true;
        }
        gaveUpOn.remove(host, until);
        return false;
    }

    /**
     * How long the JVM answers a failed name from its cache: the security property
     * {@code networkaddress.cache.negative.ttl}, else the system property {@code sun.net.inetaddr.negative.ttl},
     * else 10 s as the JDK; a negative value (for ever) is capped at {@link #GAVE_UP_AT_MOST}.
     */
    private static Duration jvmFailureCacheTime() {
        String ttl = java.security.Security.getProperty("networkaddress.cache.negative.ttl");
        if (ttl == null || ttl.isBlank()) {
            ttl = System.getProperty("sun.net.inetaddr.negative.ttl");
        }
        long seconds = 10;
        if (ttl != null && !ttl.isBlank()) {
            try {
                seconds = Long.parseLong(ttl.trim());
            } catch (NumberFormatException e) { // the JDK ignores it too
                seconds = 10;
            }
        }
        return seconds < 0 ? GAVE_UP_AT_MOST : Duration.ofSeconds(seconds);
    }

    private void finished(Flight f) {
        synchronized (this) {
            Party p = parties.get(f.runner);
            p.running--;
            running--;
            if (p.running == 0 && p.waiting.isEmpty()) {
                parties.remove(f.runner);
                turns.remove(p);
            } else if (!p.queuedForTurn && !p.waiting.isEmpty()) {
                p.queuedForTurn = true;
                turns.add(p);
            }
            if (!closed) {
                dispatch();
            }
        }
    }

    /**
     * The resolver returned in good time: the answer, or, past the deadline, the addresses the next checks get (a
     * failure then is not remembered: the retry the time-out invited must not read "does not resolve").
     */
    private void answered(Flight f, InetAddress[] addresses) {
        Duration remembered = addresses != null ? limits.remembered() : failureRemembered();
        long until = System.nanoTime() + remembered.toNanos();
        boolean inTime;
        synchronized (f) {
            inTime = !f.answer.isDone();
            if (inTime) {
                f.until = until;
                f.answer.complete(addresses);
            }
        }
        if (!inTime && addresses == null) { // a failure past the deadline: asked again, its cached echo not believed
            hosts.remove(f.host, f);
            markGaveUp(f.host);
        } else if (remembered.isZero()) {
            hosts.remove(f.host, f);
        } else if (!inTime) { // too late for its waiters, not for the next checks (the hanging flight is left as it is)
            Flight late = new Flight(f.host);
            late.until = until;
            late.answer.complete(addresses);
            hosts.replace(f.host, f, late);
        }
    }

    /** The deadline: waiters fail as not answered in time; a lookup still queued is not run. */
    private void deadline(Flight f) {
        if (f.answer.isDone()) {
            return;
        }
        boolean hanging;
        synchronized (this) {
            hanging = f.started;
            if (!hanging) {
                unqueue(f);
            }
        }
        if (!hanging) { // never ran: nothing is known of the name, the next check asks again
            hosts.remove(f.host, f);
        }
        synchronized (f) {
            if (f.answer.isDone()) {
                return;
            }
            // a hanging lookup keeps its name not looked up until it returns: no second thread for the same name
            f.until = hanging ? System.nanoTime() + Long.MAX_VALUE / 2 : System.nanoTime();
            timedOut.incrementAndGet(); // before its waiters hear of it
            f.answer.completeExceptionally(new TimeoutException("no answer within " + limits.deadline()));
        }
    }

    /** A lookup that will not run (closed): its waiters fail as not looked up, and nothing is remembered. */
    private void notLookedUp(Flight f, String why) {
        synchronized (f) {
            if (!f.answer.isDone()) {
                f.until = System.nanoTime();
                f.answer.completeExceptionally(new TimeoutException(why));
            }
        }
        hosts.remove(f.host, f);
    }

    private Duration failureRemembered() {
        return limits.remembered().compareTo(FAILURE_REMEMBERED) <= 0 ? limits.remembered() : FAILURE_REMEMBERED;
    }

    /** Keeps the map of hosts bounded: stale answers go first, then every answer that is not a lookup under way. */
    private void forgetStale(long now) {
        if (hosts.size() <= MAX_HOSTS) {
            return;
        }
        hosts.values().removeIf(f -> !f.current(now));
        if (hosts.size() > MAX_HOSTS) {
            hosts.values().removeIf(f -> f.answer.isDone() && f.until - now < Long.MAX_VALUE / 4);
        }
    }
}
