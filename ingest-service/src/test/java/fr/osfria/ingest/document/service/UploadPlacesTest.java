package fr.osfria.ingest.document.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.ingest.document.service.UploadPlaces.Busy;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class UploadPlacesTest {

    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();

    @Test
    void aKeyPastItsCapIsRefusedAndAnotherKeyIsNot() {
        UploadPlaces places = new UploadPlaces(2, 10, metrics);
        UploadPlaces.Place first = places.take("a");
        assertNull(first.busy());
        assertNull(places.take("a").busy());
        assertEquals(Busy.KEY_BUSY, places.take("a").busy());
        assertNull(places.take("b").busy(), "another key's count is its own");
        assertEquals(2, places.inProgress("a"));
        assertEquals(3, places.inProgress());

        first.release();
        assertNull(places.take("a").busy(), "a place given back is taken again");
        assertEquals(1.0, metrics.find("osfria.ingest.upload.refusals").tag("reason", "key_busy").counter().count());
    }

    @Test
    void theReplicaPastItsCapIsRefusedWithoutCountingTheRefusalAgainstTheKey() {
        UploadPlaces places = new UploadPlaces(5, 3, metrics);
        places.take("a");
        places.take("b");
        places.take("c");
        assertEquals(Busy.REPLICA_BUSY, places.take("d").busy());
        assertEquals(0, places.inProgress("d"), "a refusal holds nothing");
        assertEquals(3, places.inProgress());
        assertEquals(3.0, metrics.find("osfria.ingest.uploads.in.progress").gauge().value());
    }

    @Test
    void aPlaceIsGivenBackOnceHoweverOftenItIsReleasedAndARefusalGivesNothingBack() {
        UploadPlaces places = new UploadPlaces(1, 10, metrics);
        UploadPlaces.Place held = places.take("a");
        UploadPlaces.Place refused = places.take("a");
        refused.release();
        assertEquals(1, places.inProgress("a"), "a refusal's release frees no one's place");
        held.release();
        held.release();
        assertEquals(0, places.inProgress("a"));
        assertEquals(0, places.inProgress());
        assertNull(places.take("a").busy());
        assertEquals(1, places.inProgress());
    }

    @Test
    void concurrentTakesNeverExceedTheCaps() throws Exception {
        UploadPlaces places = new UploadPlaces(3, 8, metrics);
        ExecutorService threads = Executors.newFixedThreadPool(16);
        CountDownLatch go = new CountDownLatch(1);
        AtomicInteger admitted = new AtomicInteger();
        List<UploadPlaces.Place> held = Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < 64; i++) {
            String key = "k" + (i % 4);
            threads.submit(() -> {
                go.await();
                UploadPlaces.Place place = places.take(key);
                if (place.busy() == null) {
                    admitted.incrementAndGet();
                    held.add(place);
                }
                return null;
            });
        }
        go.countDown();
        threads.shutdown();
        threads.awaitTermination(10, TimeUnit.SECONDS);
        assertTrue(admitted.get() <= 8, "8 on the replica: " + admitted.get());
        assertEquals(admitted.get(), places.inProgress());
        for (int k = 0; k < 4; k++) {
            assertTrue(places.inProgress("k" + k) <= 3, "3 per key");
        }
        held.forEach(UploadPlaces.Place::release);
        assertEquals(0, places.inProgress());
    }
}
