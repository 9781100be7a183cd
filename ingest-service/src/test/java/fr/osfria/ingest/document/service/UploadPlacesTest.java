package fr.osfria.ingest.document.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.ingest.document.service.UploadPlaces.Busy;
import fr.osfria.ingest.document.service.UploadPlaces.Start;
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
        assertEquals(3, places.receiving());
        assertEquals(0, places.inProgress(), "no work has begun");

        first.release();
        assertNull(places.take("a").busy(), "a place given back is taken again");
        assertEquals(1.0, metrics.find("osfria.ingest.upload.refusals").tag("reason", "key_busy").counter().count());
    }

    @Test
    void theReplicaPastItsCapIsRefusedWithoutCountingTheRefusalAgainstTheKey() {
        UploadPlaces places = new UploadPlaces(5, 3, metrics);
        assertEquals(Start.BEGUN, places.take("a").start());
        UploadPlaces.Place second = places.take("a");
        assertNull(second.busy(), "room on the replica when its body began to arrive");
        for (String key : List.of("b", "c")) {
            assertEquals(Start.BEGUN, places.take(key).start());
        }
        assertEquals(Start.REPLICA_BUSY, second.start(), "full once its body was received");
        assertEquals(1, places.inProgress("a"), "a refusal holds nothing");
        assertEquals(0, places.receiving());
        assertEquals(3, places.inProgress());
        assertEquals(3.0, metrics.find("osfria.ingest.uploads.in.progress").gauge().value());
        second.release();
        assertEquals(3, places.inProgress(), "released after its refusal: gives back no one's place");
        assertEquals(1, places.inProgress("a"));
    }

    /** The replica full and the key at work already: refused from the headers, its client spared sending the body. */
    @Test
    void anUploadThatWouldBeRefusedOnceReceivedIsRefusedFromItsHeaders() {
        UploadPlaces places = new UploadPlaces(5, 2, metrics);
        assertEquals(Start.BEGUN, places.take("a").start());
        assertEquals(Start.BEGUN, places.take("b").start());
        UploadPlaces.Place third = places.take("a");
        assertEquals(Busy.REPLICA_BUSY, third.busy());
        assertEquals(Start.REQUEST_ENDED, third.start(), "a refusal never begins");
        assertEquals(1, places.inProgress("a"));
        assertEquals(0, places.receiving());
        assertNull(places.take("c").busy(), "a key with nothing at work is not refused so");
        assertEquals(1.0, metrics.find("osfria.ingest.upload.refusals").tag("reason", "replica_busy").counter().count());
    }

    /**
     * A key's bodies still arriving counted against the replica's cap: a few keys trickling their bodies in filled it,
     * and every other key was held to one upload at a time. Only work counts against the replica now.
     */
    @Test
    void bodiesStillArrivingHoldOnlyTheirKeysPlaces() {
        UploadPlaces places = new UploadPlaces(16, 2, metrics);
        for (String slow : List.of("slow-1", "slow-2")) {
            for (int i = 0; i < 16; i++) {
                assertNull(places.take(slow).busy());
            }
        }
        assertEquals(32, places.receiving());
        assertEquals(32.0, metrics.find("osfria.ingest.uploads.receiving").gauge().value());
        assertEquals(0, places.inProgress());
        assertEquals(Start.BEGUN, places.take("b").start());
        assertEquals(Start.BEGUN, places.take("b").start(), "the replica works nothing else");
        assertEquals(Busy.REPLICA_BUSY, places.take("b").busy(), "past the replica's cap");
        assertEquals(Busy.KEY_BUSY, places.take("slow-1").busy(), "the slow key is held to its own cap");
    }

    /** A client that left once its body was sent, before its upload's work began: nothing is done for it. */
    @Test
    void aRequestThatEndedBeforeItsWorkBeganGivesItsPlaceBackAndItsWorkDoesNotBegin() {
        UploadPlaces places = new UploadPlaces(2, 10, metrics);
        UploadPlaces.Place left = places.take("a");
        left.requestEnded();
        assertEquals(0, places.inProgress("a"));
        assertEquals(Start.REQUEST_ENDED, left.start());
        assertEquals(0, places.inProgress(), "no place taken for a client that is gone");
        assertEquals(0, places.inProgress("a"));

        UploadPlaces.Place working = places.take("a");
        assertEquals(Start.BEGUN, working.start());
        working.requestEnded();
        assertEquals(1, places.inProgress("a"), "work under way keeps its place when its client leaves");
        assertEquals(1, places.inProgress());
        working.release();
        assertEquals(0, places.inProgress("a"));
        assertEquals(0, places.inProgress());
    }

    /**
     * A few keys keeping their places filled used to take the replica's every place: every other key was refused
     * 503 until they stopped. A key with no upload at work is never refused for the replica's cap.
     */
    @Test
    void aKeyWithNoUploadAtWorkIsNeverRefusedForTheReplicasCap() {
        UploadPlaces places = new UploadPlaces(2, 4, metrics);
        for (String flooding : List.of("a", "b")) {
            places.take(flooding).start();
            places.take(flooding).start();
        }
        assertEquals(Busy.KEY_BUSY, places.take("a").busy());
        UploadPlaces.Place quiet = places.take("quiet");
        assertEquals(Start.BEGUN, quiet.start(), "a key's first upload, the replica full");
        assertEquals(Start.BEGUN, places.take("another").start());
        assertEquals(6, places.inProgress(), "the cap plus one per key");
        assertEquals(Busy.REPLICA_BUSY, places.take("quiet").busy(), "its second waits for room");
        assertEquals(1, places.inProgress("quiet"));
        quiet.release();
        assertEquals(Start.BEGUN, places.take("quiet").start(), "first again");
        assertEquals(1.0, metrics.find("osfria.ingest.upload.refusals").tag("reason", "replica_busy").counter().count());
    }

    @Test
    void aPlaceIsGivenBackOnceHoweverOftenItIsReleasedAndARefusalGivesNothingBack() {
        UploadPlaces places = new UploadPlaces(1, 10, metrics);
        UploadPlaces.Place held = places.take("a");
        held.start();
        UploadPlaces.Place refused = places.take("a");
        refused.release();
        refused.requestEnded();
        assertEquals(Start.REQUEST_ENDED, refused.start(), "a refusal never begins");
        assertEquals(1, places.inProgress("a"), "a refusal's release frees no one's place");
        held.release();
        held.release();
        held.requestEnded();
        assertEquals(0, places.inProgress("a"));
        assertEquals(0, places.inProgress());
        assertEquals(Start.BEGUN, places.take("a").start());
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
                if (place.busy() == null && place.start() == Start.BEGUN) {
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
        assertEquals(0, places.receiving(), "refused at work: given back as well");
        for (int k = 0; k < 8; k++) {
            assertEquals(0, places.inProgress("k" + k));
        }
    }
}
