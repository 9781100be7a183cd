package fr.osfria.router.balance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.router.backend.Backend;
import fr.osfria.router.backend.CircuitBreaker;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BalancerTest {

    private static List<Backend> pool(int n) {
        List<Backend> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            list.add(new Backend(URI.create("http://10.0.0." + (i + 1) + ":8000"),
                    new CircuitBreaker(3, Duration.ofSeconds(5), Duration.ofSeconds(60))));
        }
        return list;
    }

    private static void load(Backend b, int n) {
        for (int i = 0; i < n; i++) {
            b.acquired();
        }
    }

    @Test
    void powerOfTwoChoicesNeverPicksTheBusiestOfTwo() {
        List<Backend> pool = pool(2);
        load(pool.get(0), 5);
        Balancer balancer = new Balancer(false, 1.5);
        for (int i = 0; i < 100; i++) {
            assertEquals(pool.get(1), balancer.choose(pool, null));
        }
    }

    @Test
    void powerOfTwoChoicesKeepsLoadEvenAcrossManyBackends() {
        List<Backend> pool = pool(8);
        Balancer balancer = new Balancer(false, 1.5);
        for (int i = 0; i < 800; i++) {
            balancer.choose(pool, null).acquired();
        }
        int max = pool.stream().mapToInt(Backend::inFlight).max().orElseThrow();
        int min = pool.stream().mapToInt(Backend::inFlight).min().orElseThrow();
        assertTrue(max - min <= 6, "spread " + min + ".." + max);
    }

    @Test
    void affinityKeepsAKeyOnOneBackendAndSpreadsDifferentKeys() {
        List<Backend> pool = pool(4);
        Balancer balancer = new Balancer(true, 1.5);
        Backend home = balancer.choose(pool, "u:alice");
        for (int i = 0; i < 50; i++) {
            assertEquals(home, balancer.choose(pool, "u:alice"));
        }
        Map<Backend, Integer> homes = new HashMap<>();
        for (int i = 0; i < 400; i++) {
            homes.merge(balancer.choose(pool, "u:user" + i), 1, Integer::sum);
        }
        assertEquals(4, homes.size());
        homes.values().forEach(n -> assertTrue(n > 50, "keys per backend " + homes.values()));
    }

    @Test
    void aHotKeySpillsOverOnceItsBackendIsPastTheLoadBound() {
        List<Backend> pool = pool(2);
        Balancer balancer = new Balancer(true, 1.5);
        Map<Backend, Integer> taken = new HashMap<>();
        for (int i = 0; i < 40; i++) {
            Backend b = balancer.choose(pool, "s:hot-session");
            b.acquired(); // every request of the hot session is still running
            taken.merge(b, 1, Integer::sum);
        }
        // mean load 20: the home backend stays within 1.5 x mean + 1 = 31, the rest spills over
        int home = taken.values().stream().max(Integer::compare).orElseThrow();
        assertTrue(home <= 31 && home > 20, "home backend took " + home + " of 40");
    }

    @Test
    void theCircuitBreakerEjectsAfterConsecutiveFailuresAndDoublesTheTimeOut() {
        CircuitBreaker breaker = new CircuitBreaker(3, Duration.ofSeconds(1), Duration.ofSeconds(3));
        long t = 1_000_000_000L;
        breaker.failure(t);
        breaker.success();
        breaker.failure(t);
        breaker.failure(t);
        assertTrue(breaker.allows(t), "a success in between resets the count");
        assertTrue(breaker.failure(t));
        assertTrue(breaker.ejected(t + 999_000_000L));
        assertTrue(breaker.allows(t + 1_000_000_000L));
        assertTrue(breaker.failure(t + 1_000_000_000L), "one more failure after the ejection ejects again");
        assertTrue(breaker.ejected(t + 2_999_000_000L), "for twice as long");
        assertTrue(breaker.allows(t + 3_000_000_000L));
        breaker.success();
        breaker.failure(t + 3_000_000_000L);
        assertTrue(breaker.allows(t + 3_000_000_000L), "a success closes the breaker");
        assertEquals(2, breaker.ejections());
    }

    @Test
    void theRetryBudgetCapsRetriesAtAFractionOfRequests() {
        RetryBudget budget = new RetryBudget(0.2, 0);
        long now = 5_000_000L;
        for (int i = 0; i < 100; i++) {
            budget.request(now);
        }
        int allowed = 0;
        for (int i = 0; i < 100; i++) {
            if (budget.tryRetry(now)) {
                allowed++;
            }
        }
        assertEquals(20, allowed);
        assertFalse(budget.tryRetry(now + 11_000), "the window slides: old requests no longer earn retries");
        for (int i = 0; i < 10; i++) {
            budget.request(now + 11_000);
        }
        assertTrue(budget.tryRetry(now + 11_000), "and old retries no longer count");
    }
}
