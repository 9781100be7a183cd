package fr.osfria.ingest.appkafka;

import io.smallrye.mutiny.Uni;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The records by URL being worked on in this replica, by application and event id. A record read again while its
 * first reading still fetches (a rebalance hands its partition back before the offset is committed) waits for that
 * one to end, and then finds its document instead of fetching the URL a second time. Readings on other replicas are
 * told apart by PostgreSQL ({@code app_record}).
 */
final class RecordsInFlight {

    private record Event(String application, String eventId) {
    }

    private final Map<Event, CompletableFuture<Void>> last = new ConcurrentHashMap<>();

    /** Runs {@code job} once every reading of the same record that started before it on this replica has ended. */
    Uni<Void> oneAtATime(String application, String eventId, Supplier<Uni<Void>> job) {
        Event event = new Event(application, eventId);
        CompletableFuture<Void> mine = new CompletableFuture<>();
        CompletableFuture<Void> before = last.put(event, mine);
        Uni<Void> turn = before == null ? Uni.createFrom().voidItem()
                : Uni.createFrom().completionStage(before).onFailure().recoverWithNull();
        return turn.chain(job::get)
                .onTermination().invoke(() -> {
                    last.remove(event, mine);
                    mine.complete(null);
                });
    }
}
