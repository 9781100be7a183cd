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
        assertEquals(Busy.REPLICA_BUSY, places.take("a").busy());
        assertEquals(1, places.inProgress("a"), "a refusal holds nothing");
        assertEquals(3, places.inProgress());
        assertEquals(3.0, metrics.find("osfria.ingest.uploads.in.progress").gauge().value());
    }

    /**
     * A few keys keeping their places filled used to take the replica's every place: every other key was refused
     * 503 until they stopped. A key with no upload in progress is never refused for the replica's cap.
     */
    @Test
    void aKeyWithNoUploadInProgressIsNeverRefusedForTheReplicasCap() {
        UploadPlaces places = new UploadPlaces(2, 4, metrics);
        for (String flooding : List.of("a", "b")) {
            places.take(flooding);
            places.take(flooding);
        }
        assertEquals(Busy.KEY_BUSY, places.take("a").busy());
        UploadPlaces.Place quiet = places.take("quiet");
        assertNull(quiet.busy(), "a key's first upload, the replica full");
        assertNull(places.take("another").busy());
        assertEquals(6, places.inProgress(), "the cap plus one per key");
        assertEquals(Busy.REPLICA_BUSY, places.take("quiet").busy(), "its second waits for room");
        assertEquals(1, places.inProgress("quiet"));
        quiet.release();
        assertNull(places.take("quiet").busy(), "first again");
        assertEquals(1.0, metrics.find("osfria.ingest.upload.refusals").tag("reason", "replica_busy").counter().count());
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
            String key = "k" + (i % 8);
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
        assertTrue(admitted.get() <= 8 + 8, "8 on the replica, plus each key's first: " + admitted.get());
        assertEquals(admitted.get(), places.inProgress());
        for (int k = 0; k < 8; k++) {
            assertTrue(places.inProgress("k" + k) <= 3, "3 per key");
        }
        held.forEach(UploadPlaces.Place::release);
        assertEquals(0, places.inProgress());
    }
}
