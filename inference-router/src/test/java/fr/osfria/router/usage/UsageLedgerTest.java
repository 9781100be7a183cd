package fr.osfria.router.usage;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import fr.osfria.events.usage.UsageRecord;
import fr.osfria.security.key.KeyEntry;
import fr.osfria.testing.InJvmKafka;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Against the real broker: a quota's reservations, and a request's cost from its end until its tally returns. */
class UsageLedgerTest {

    private static KeyEntry key(long daily) {
        return new KeyEntry("ledger-" + UUID.randomUUID(), null, null, Set.of("user"), List.of(), List.of(), List.of(),
                false, daily, null, null, null, null, null);
    }

    @Test
    void reservationsHoldTheRemainderAndARequestsCostNeverVanishesNorCountsTwice() throws Exception {
        UsageLedger ledger = new UsageLedger(InJvmKafka.bootstrapServers(), ZoneId.of("UTC"), 1024);
        UsageLedger otherReplica = new UsageLedger(InJvmKafka.bootstrapServers(), ZoneId.of("UTC"), 1024);
        UsageRecorder recorder = new UsageRecorder(InJvmKafka.bootstrapServers(), new SimpleMeterRegistry(), ledger);
        ledger.start();
        otherReplica.start();
        recorder.start(null);
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> ledger.caughtUp() && otherReplica.caughtUp());
            KeyEntry key = key(100);
            Instant now = Instant.now();

            UsageLedger.Reservation first = ledger.reserve(key, 10, 50, now);
            assertNotNull(ledger.reserve(key, 10, 30, now)); // 60 + 40 held: exactly the quota
            UsageLedger.Refused full = assertThrows(UsageLedger.Refused.class, () -> ledger.reserve(key, 1, 0, now));
            assertEquals(429, full.refusal().status());
            assertEquals(1, full.refusal().retryAfterSeconds(), "held by requests in progress: soon free again");
            assertEquals(429, ledger.check(key, now).status());

            ledger.settle(first, 25); // used 25 of the 60 it held
            ledger.settle(first, 25); // settled once only
            assertEquals(25 + 40, ledger.countedToday(key.name(), now));
            recorder.record(new UsageRecord("req-1", key.name(), "m", "b", 5, 20, 25, false, "ok", now));
            // the tally reaches the topic (the other replica sees it) and comes back: counted once all along
            await().atMost(Duration.ofSeconds(20)).until(() -> otherReplica.countedToday(key.name(), now) == 25);
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5))
                    .until(() -> ledger.countedToday(key.name(), now) == 25 + 40);
            assertNotNull(ledger.reserve(key, 10, 25, now)); // 25 used + 40 + 35 held = 100
        } finally {
            recorder.stop(null);
            ledger.stop();
            otherReplica.stop();
        }
    }

    @Test
    void keysWithAQuotaAreRefusedUntilTheTotalsAreKnownAndOthersAreNot() throws Exception {
        UsageLedger ledger = new UsageLedger("127.0.0.1:" + fr.osfria.testing.Ports.free(), ZoneId.of("UTC"), 1024);
        ledger.start();
        try {
            UsageLedger.Refusal refusal = ledger.check(key(1000), Instant.now());
            assertEquals(503, refusal.status());
            assertEquals("quota_unavailable", refusal.code());
            assertEquals(null, ledger.check(new KeyEntry("free", null, null, Set.of("user"), List.of(), List.of(),
                    List.of(), false, null, null, null, null, null, null), Instant.now()));
        } finally {
            ledger.stop();
        }
    }
}
