package fr.osfria.ingest.appkafka;

import io.smallrye.mutiny.Uni;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The records by URL being worked on in this replica (waiting for a fetch slot or fetching), by application and
 * event id. A record read again while its first reading is still there (a rebalance hands its partition back before
 * the offset is committed) waits for that one to end, and then finds its document instead of fetching the URL a
 * second time. Readings on other replicas are told apart by PostgreSQL ({@code app_record}).
 */
final class RecordsInFlight {

    private record Event(String application, String eventId) {
    }

    private final Map<Event, CompletableFuture<Void>> last = new ConcurrentHashMap<>();

    /**
     * A reading's place, taken when the record is read (before it waits for a fetch slot): a later reading of the
     * same record knows at once that it comes second.
     */
    Turn enter(String application, String eventId) {
        Event event = new Event(application, eventId);
        CompletableFuture<Void> mine = new CompletableFuture<>();
        CompletableFuture<Void> before = last.put(event, mine);
        return new Turn(event, mine, before);
    }

    final class Turn {
        private final Event event;
        private final CompletableFuture<Void> mine;
        private final CompletableFuture<Void> before;

        private Turn(Event event, CompletableFuture<Void> mine, CompletableFuture<Void> before) {
            this.event = event;
            this.mine = mine;
            this.before = before;
        }

        /** Another reading of the same record came before this one and may not have ended. */
        boolean second() {
            return before != null && !before.isDone();
        }

        /** Runs {@code job} once the readings before this one have ended; this one ends with it. */
        Uni<Void> run(Supplier<Uni<Void>> job) {
            Uni<Void> turn = before == null ? Uni.createFrom().voidItem()
                    : Uni.createFrom().completionStage(before).onFailure().recoverWithNull();
            return turn.chain(job::get).onTermination().invoke(this::end);
        }

        /** Ends this reading without running it (refused a fetch slot). */
        void end() {
            last.remove(event, mine);
            mine.complete(null);
        }
    }
}
