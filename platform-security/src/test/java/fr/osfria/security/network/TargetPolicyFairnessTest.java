package fr.osfria.security.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.security.network.TargetPolicy.Lookups;
import fr.osfria.security.network.TargetPolicy.Refusal;
import fr.osfria.security.network.TargetPolicy.Target;
import io.vertx.core.Vertx;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A key holder whose names are served by a black-holed name server (names under {@code .blackhole.test} hang until
 * the test releases them): its checks must not delay anyone else's, nor take more than a few threads.
 */
class TargetPolicyFairnessTest {

    private static final TargetPolicy.Wording WORDING = new TargetPolicy.Wording("be reached", "none", "the.setting");
    private static final Lookups FAIR = new Lookups(2, 32, Duration.ofSeconds(5), Duration.ofSeconds(30));

    private final CountDownLatch blackHole = new CountDownLatch(1);
    /** Releases the first lookup of a name under {@code .flaky.test}: its name server then gives up. */
    private final CountDownLatch givesUp = new CountDownLatch(1);
    /** Releases the lookup of {@code queued.late.test}: it then fails at once, though past its deadline. */
    private final CountDownLatch failsLate = new CountDownLatch(1);
    /** Until when (nanoTime) the JVM-like cache answers the names under {@code .cached.test} with its failure. */
    private volatile long failureCachedUntil;
    private final AtomicInteger hanging = new AtomicInteger();
    private final AtomicInteger mostHanging = new AtomicInteger();
    private final Map<String, AtomicInteger> lookups = new ConcurrentHashMap<>();
    /** What the resolver does with names under {@code .broken.test}: throw, or answer nothing. */
    private final HostResolver resolver = host -> {
        lookups.computeIfAbsent(host, h -> new AtomicInteger()).incrementAndGet();
        if (host.endsWith(".blackhole.test")) {
            mostHanging.accumulateAndGet(hanging.incrementAndGet(), Math::max);
            try {
                blackHole.await(); // the JVM's own lookups cannot be interrupted either
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                hanging.decrementAndGet();
            }
            return new InetAddress[] {address(host, "10.0.0.66")};
        }
        if (host.endsWith(".flaky.test") && lookups.get(host).get() == 1) { // hangs, then the resolver gives up
            try {
                if (host.startsWith("slow.")) {
                    Thread.sleep(2500);
                } else if (host.startsWith("glibc.")) { // glibc's time-out for one try, and a little more
                    Thread.sleep(5500);
                } else {
                    givesUp.await();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new UnknownHostException(host + ": Temporary failure in name resolution");
        }
        if (host.endsWith(".cached.test")) { // the JVM: the resolver gives up slowly, then its failure is cached
            if (lookups.get(host).get() == 1) {
                try {
                    Thread.sleep(700);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                failureCachedUntil = System.nanoTime() + 2_000_000_000L;
                throw new UnknownHostException(host + ": Temporary failure in name resolution");
            }
            if (System.nanoTime() - failureCachedUntil < 0) {
                throw new UnknownHostException(host);
            }
        }
        if (host.equals("queued.late.test")) {
            if (lookups.get(host).get() == 1) {
                try {
                    failsLate.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            throw new UnknownHostException(host); // at once: the first time past the deadline, then from the cache
        }
        if (host.equals("unknown.broken.test")) { // the name server's "no such name"
            throw new UnknownHostException(host);
        }
        if (host.equals("throws.broken.test")) {
            throw new IllegalStateException("resolver failed");
        }
        if (host.equals("empty.broken.test")) {
            return new InetAddress[0];
        }
        if (host.equals("checked.broken.test")) { // a resolver may throw what its signature does not say
            throw TargetPolicyFairnessTest.<RuntimeException>sneaky(new java.io.IOException("resolver failed"));
        }
        if (host.equals("null.broken.test")) {
            return new InetAddress[] {null};
        }
        return new InetAddress[] {address(host, "10.0.0.7")};
    };
    private final List<TargetPolicy> policies = new ArrayList<>();

    @AfterEach
    void release() {
        blackHole.countDown();
        givesUp.countDown();
        failsLate.countDown();
        policies.forEach(TargetPolicy::close);
    }

    private TargetPolicy policy(Lookups lookups) {
        TargetPolicy policy = new TargetPolicy(List.of(), WORDING, resolver, lookups);
        policies.add(policy);
        return policy;
    }

    @Test
    void aPartyWhoseNamesHangDelaysNoOtherPartyAndHoldsNoMoreThanItsThreads() {
        TargetPolicy policy = policy(FAIR);
        List<CompletableFuture<Target>> hostile = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            hostile.add(policy.check("http://h" + i + ".blackhole.test/hook", "hostile").subscribeAsCompletionStage());
        }

        long start = System.nanoTime();
        Target other = policy.check("https://receiver.test/hook", "someone").await().atMost(Duration.ofSeconds(5));
        assertTrue(other.allowed(), "another party's name is answered: " + other.refusal());
        System.out.printf("another party's check beside 50 hanging lookups: %d ms%n", (System.nanoTime() - start) / 1_000_000);

        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(2)).until(() -> hanging.get() == 2);
        assertEquals(2, mostHanging.get(), "lookups of the hostile party running at once");
        assertEquals(2, lookups.keySet().stream().filter(h -> h.endsWith(".blackhole.test")).count(),
                "its other names wait in its own queue");
        assertTrue(hostile.stream().noneMatch(CompletableFuture::isDone), "the hostile checks are still waiting");
    }

    @Test
    void aPartyWhoseNamesHangCannotHoldBackANameAnotherPartyAsksFor() {
        TargetPolicy policy = policy(FAIR);
        policy.check("http://a.blackhole.test/", "hostile").subscribeAsCompletionStage();
        policy.check("http://b.blackhole.test/", "hostile").subscribeAsCompletionStage();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> hanging.get() == 2);

        // the hostile party asks first about the victim's receiver, then the victim does
        CompletableFuture<Target> hostile = policy.check("https://receiver.test/hook", "hostile").subscribeAsCompletionStage();
        Target victim = policy.check("https://receiver.test/hook", "someone").await().atMost(Duration.ofSeconds(1));
        assertTrue(victim.allowed(), "the victim's check is answered: " + victim.refusal());
        assertTrue(hostile.orTimeout(1, TimeUnit.SECONDS).join().allowed(), "one answer for both");
        assertEquals(1, lookups.get("receiver.test").get(), "looked up once");
        assertEquals(2, hanging.get(), "the hostile party still holds only its two threads");
    }

    @Test
    void aLookupThatNeverStartedIsNotRememberedAsAFailure() {
        TargetPolicy policy = policy(new Lookups(2, 32, Duration.ofMillis(300), Duration.ofSeconds(30)));
        policy.check("http://a.blackhole.test/", "hostile").subscribeAsCompletionStage();
        policy.check("http://b.blackhole.test/", "hostile").subscribeAsCompletionStage();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> hanging.get() == 2);

        Target queued = policy.check("https://receiver.test/hook", "hostile").await().atMost(Duration.ofSeconds(5));
        assertEquals(Refusal.LOOKUP_TIMEOUT, queued.kind(), "queued behind its own hanging names past the deadline");
        assertEquals(null, lookups.get("receiver.test"), "never looked up");

        Target victim = policy.check("https://receiver.test/hook", "someone").await().atMost(Duration.ofSeconds(1));
        assertTrue(victim.allowed(), "the next party's check looks the name up: " + victim.refusal());
    }

    @Test
    void aResolverThrowingAnythingGivesItsThreadBackAndABadAnswerFailsTheCheck() {
        TargetPolicy policy = policy(new Lookups(1, 32, Duration.ofSeconds(10), Duration.ofSeconds(30)));
        assertEquals(Refusal.UNRESOLVED, policy.check("http://checked.broken.test/", "p").await()
                .atMost(Duration.ofSeconds(2)).kind(), "answered when the resolver returns, not at the deadline");
        assertTrue(policy.check("http://next.test/", "p").await().atMost(Duration.ofSeconds(2)).allowed(),
                "the party's one thread is free again");

        CompletableFuture<Target> bad = policy.check("http://null.broken.test/", "p").subscribeAsCompletionStage();
        java.util.concurrent.CompletionException failed = org.junit.jupiter.api.Assertions.assertThrows(
                java.util.concurrent.CompletionException.class, () -> bad.orTimeout(2, TimeUnit.SECONDS).join());
        assertTrue(failed.getCause() instanceof NullPointerException, "the check failed rather than hung: " + failed);
    }

    @Test
    void aNameAnsweredRecentlyOrBeingLookedUpIsNotLookedUpAgain() {
        TargetPolicy policy = policy(FAIR);
        assertTrue(policy.check("http://receiver.test/a", "someone").await().atMost(Duration.ofSeconds(2)).allowed());
        Target again = policy.check("https://receiver.test:8443/b", "someone else").await().atMost(Duration.ofSeconds(2));
        assertTrue(again.allowed());
        assertEquals("10.0.0.7", again.address().getHostAddress(), "connected to at the address that was checked");
        assertEquals(1, lookups.get("receiver.test").get(), "looked up once");

        // checks of a name being looked up wait for that lookup, whoever asked for it
        List<CompletableFuture<Target>> waiting = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            waiting.add(policy.check("http://slow.blackhole.test/", "party-" + i).subscribeAsCompletionStage());
        }
        blackHole.countDown();
        for (CompletableFuture<Target> w : waiting) {
            assertTrue(w.orTimeout(2, TimeUnit.SECONDS).join().allowed());
        }
        assertEquals(1, lookups.get("slow.blackhole.test").get(), "one lookup for ten checks");
    }

    @Test
    void aLookupPastItsDeadlineIsAnsweredNotInTimeAndRemembersItsLateAnswer() {
        TargetPolicy policy = policy(new Lookups(2, 32, Duration.ofMillis(300), Duration.ofSeconds(30)));
        List<CompletableFuture<Target>> checks = new ArrayList<>();
        for (int i = 0; i < 5; i++) { // two run (and hang), three wait in the party's queue
            checks.add(policy.check("http://h" + i + ".blackhole.test/", "hostile").subscribeAsCompletionStage());
        }
        for (CompletableFuture<Target> c : checks) {
            assertEquals(Refusal.LOOKUP_TIMEOUT, c.orTimeout(2, TimeUnit.SECONDS).join().kind());
        }
        assertEquals(5, policy.lookupsTimedOut());
        assertEquals(2, lookups.keySet().stream().filter(h -> h.endsWith(".blackhole.test")).count(),
                "a lookup still queued at its deadline is not run");

        // while its lookup hangs, the name is not looked up in time at once, for every party, nor looked up again
        CompletableFuture<Target> again = policy.check("http://h0.blackhole.test/", "someone").subscribeAsCompletionStage();
        assertTrue(again.isDone(), "answered without waiting");
        assertEquals(Refusal.LOOKUP_TIMEOUT, again.join().kind());
        assertEquals(1, lookups.get("h0.blackhole.test").get());

        blackHole.countDown(); // the name server answers at last: the answer serves the next checks
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(2)).until(() -> hanging.get() == 0);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(2)).until(() ->
                policy.check("http://h0.blackhole.test/", "hostile").await().atMost(Duration.ofSeconds(1)).allowed());
        assertEquals(1, lookups.get("h0.blackhole.test").get());
    }

    @Test
    void aNameThatHangsPastTheDeadlineIsNotTakenForANameThatDoesNotExist() {
        TargetPolicy policy = policy(new Lookups(2, 32, Duration.ofMillis(300), Duration.ofSeconds(30)));
        long start = System.nanoTime();
        Target slow = policy.check("https://slow.blackhole.test/hook", "p").await().atMost(Duration.ofSeconds(5));
        assertTrue(System.nanoTime() - start < 2_000_000_000L, "answered at the deadline");
        assertEquals(Refusal.LOOKUP_TIMEOUT, slow.kind());
        assertEquals("the host slow.blackhole.test could not be looked up in time; try again later", slow.refusal());

        Target unknown = policy.check("https://unknown.broken.test/hook", "p").await().atMost(Duration.ofSeconds(5));
        assertEquals(Refusal.UNRESOLVED, unknown.kind(), "the name server said there is no such name");
        assertEquals("the host unknown.broken.test does not resolve", unknown.refusal());
    }

    @Test
    void aLookupThatGivesUpPastTheDeadlineIsNotRememberedAsANameThatDoesNotExist() {
        TargetPolicy policy = policy(new Lookups(2, 32, Duration.ofMillis(300), Duration.ofSeconds(30)));
        assertEquals(Refusal.LOOKUP_TIMEOUT, policy.check("http://late.flaky.test/", "p").await()
                .atMost(Duration.ofSeconds(5)).kind());
        givesUp.countDown(); // the resolver throws UnknownHostException, too late for the check

        // the retry a LOOKUP_TIMEOUT invites looks the name up again (now answered), not "does not resolve"
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(3)).until(() -> policy.check("http://late.flaky.test/",
                "p").await().atMost(Duration.ofSeconds(1)).kind() != Refusal.LOOKUP_TIMEOUT);
        Target next = policy.check("http://late.flaky.test/", "p").await().atMost(Duration.ofSeconds(1));
        assertTrue(next.allowed(), "looked up again: " + next.refusal());
        assertEquals(2, lookups.get("late.flaky.test").get());
    }

    @Test
    void aResolverGivingUpAfterHalfTheDeadlineIsALookupTimeoutAndAFastNoSuchNameIsUnresolved() {
        // a 4 s deadline: a failure after 2 s is the resolver's own time-out (glibc: 5 s a try, 2 tries, under 15 s)
        TargetPolicy policy = policy(new Lookups(2, 32, Duration.ofSeconds(4), Duration.ofSeconds(30)));
        long start = System.nanoTime();
        Target slow = policy.check("http://slow.flaky.test/", "p").await().atMost(Duration.ofSeconds(8));
        assertEquals(Refusal.LOOKUP_TIMEOUT, slow.kind(), "failed after 2.5 s: " + slow.refusal());
        assertTrue(System.nanoTime() - start < 3_800_000_000L, "answered when the resolver gave up, not at the deadline");
        assertTrue(policy.check("http://slow.flaky.test/", "p").await().atMost(Duration.ofSeconds(2)).allowed(),
                "not remembered: looked up again");

        assertEquals(Refusal.UNRESOLVED, policy.check("http://unknown.broken.test/", "p").await()
                .atMost(Duration.ofSeconds(2)).kind(), "an answer at once that there is no such name");
        assertEquals(Refusal.UNRESOLVED, policy.check("http://unknown.broken.test/", "q").await()
                .atMost(Duration.ofSeconds(2)).kind());
        assertEquals(1, lookups.get("unknown.broken.test").get(), "a failure in time is remembered");
    }

    @Test
    void underALongDeadlineAResolverGivingUpAfterItsOwnTimeOutIsStillALookupTimeout() {
        // a 20 s deadline (an operator's longer one): glibc's give-up after 5 s a try is not half of it, still a give-up
        TargetPolicy policy = policy(new Lookups(2, 32, Duration.ofSeconds(20), Duration.ofSeconds(30)));
        long start = System.nanoTime();
        Target slow = policy.check("http://glibc.flaky.test/", "p").await().atMost(Duration.ofSeconds(25));
        assertEquals(Refusal.LOOKUP_TIMEOUT, slow.kind(), slow.refusal());
        assertTrue(System.nanoTime() - start < 15_000_000_000L, "answered when the resolver gave up, not at the deadline");
    }

    @Test
    void theJvmsCachedFailureOfALookupThatGaveUpIsNotTakenForANameThatDoesNotExist() {
        // a 1 s deadline: the first lookup gives up after 0.7 s, the JVM then answers its failure at once for 2 s
        TargetPolicy policy = policy(new Lookups(2, 32, Duration.ofSeconds(1), Duration.ofSeconds(30)));
        assertEquals(Refusal.LOOKUP_TIMEOUT, policy.check("http://hooks.cached.test/", "p").await()
                .atMost(Duration.ofSeconds(5)).kind());

        // the retry the time-out invited: an instant failure, from the JVM's cache, not a name server's "no such name"
        Target retry = policy.check("http://hooks.cached.test/", "p").await().atMost(Duration.ofSeconds(2));
        assertEquals(Refusal.LOOKUP_TIMEOUT, retry.kind(), retry.refusal());
        assertEquals(Refusal.LOOKUP_TIMEOUT, policy.check("http://hooks.cached.test/", "q").await()
                .atMost(Duration.ofSeconds(2)).kind());
        assertEquals(3, lookups.get("hooks.cached.test").get(), "not remembered: looked up at every check");
        assertEquals(Refusal.UNRESOLVED, policy.check("http://unknown.broken.test/", "p").await()
                .atMost(Duration.ofSeconds(2)).kind(), "a quick failure of a name that never gave up");

        // once the cached failure expired, the name server's answer comes through
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() ->
                policy.check("http://hooks.cached.test/", "p").await().atMost(Duration.ofSeconds(1)).allowed());
    }

    @Test
    void aQuickFailurePastTheDeadlineAfterAWaitInTheQueueIsNotRememberedAsANameThatDoesNotExist() throws Exception {
        // one lookup at a time for the party: its second name waits until the first stops hanging
        TargetPolicy policy = policy(new Lookups(1, 32, Duration.ofSeconds(4), Duration.ofSeconds(30)));
        long start = System.nanoTime();
        CompletableFuture<Target> first = policy.check("http://first.blackhole.test/", "p").subscribeAsCompletionStage();
        CompletableFuture<Target> second = policy.check("http://queued.late.test/", "p").subscribeAsCompletionStage();
        Thread.sleep(2600); // past half the deadline: the second lookup starts late, so its wait is not a slow resolver
        blackHole.countDown();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(2)).until(() -> lookups.containsKey("queued.late.test"));
        assertTrue(System.nanoTime() - start < 4_000_000_000L, "started before its deadline");
        assertTrue(first.orTimeout(2, TimeUnit.SECONDS).join().allowed());
        assertEquals(Refusal.LOOKUP_TIMEOUT, second.orTimeout(4, TimeUnit.SECONDS).join().kind());
        failsLate.countDown(); // the resolver fails at once, past the deadline

        // the retry the time-out invites looks the name up again, and its instant failure is not "no such name"
        // (answered at once as not looked up in time until the late lookup returns)
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(3)).until(() -> {
            policy.check("http://queued.late.test/", "p").await().atMost(Duration.ofSeconds(1));
            return lookups.get("queued.late.test").get() > 1;
        });
        Target retry = policy.check("http://queued.late.test/", "p").await().atMost(Duration.ofSeconds(2));
        assertEquals(Refusal.LOOKUP_TIMEOUT, retry.kind(), retry.refusal());
        assertTrue(lookups.get("queued.late.test").get() >= 2, "looked up again");
    }

    @Test
    void aFailingResolverIsUnresolvedAndAClosedPolicyAnswersNotInTimeWithoutWaiting() {
        TargetPolicy policy = policy(FAIR);
        assertEquals(Refusal.UNRESOLVED, policy.check("http://throws.broken.test/", "p").await().atMost(Duration.ofSeconds(2)).kind());
        assertEquals(Refusal.UNRESOLVED, policy.check("http://empty.broken.test/", "p").await().atMost(Duration.ofSeconds(2)).kind());

        List<CompletableFuture<Target>> waiting = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            waiting.add(policy.check("http://c" + i + ".blackhole.test/", "hostile").subscribeAsCompletionStage());
        }
        long start = System.nanoTime();
        policy.close(); // a stopping service: two lookups hang, two wait
        assertTrue(System.nanoTime() - start < 500_000_000L, "close waited for the hanging lookups");
        // never looked up: the same URL may pass once the service is back, nothing says the name does not exist
        assertEquals(Refusal.LOOKUP_TIMEOUT, waiting.get(2).orTimeout(1, TimeUnit.SECONDS).join().kind());
        assertEquals(Refusal.LOOKUP_TIMEOUT, waiting.get(3).orTimeout(1, TimeUnit.SECONDS).join().kind());
    }

    @Test
    void theVerdictComesBackOnTheCallersContext() throws Exception {
        TargetPolicy policy = policy(FAIR);
        Vertx vertx = Vertx.vertx();
        try {
            CompletableFuture<String> thread = new CompletableFuture<>();
            vertx.runOnContext(v -> policy.check("http://fresh.test/", "someone").subscribe()
                    .with(t -> thread.complete(Thread.currentThread().getName()), thread::completeExceptionally));
            assertTrue(thread.get(2, TimeUnit.SECONDS).startsWith("vert.x-eventloop-thread"), thread.get());
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> T sneaky(Throwable t) throws T {
        throw (T) t;
    }

    private static InetAddress address(String host, String ip) throws UnknownHostException {
        return InetAddress.getByAddress(host, InetAddress.getByName(ip).getAddress());
    }
}
