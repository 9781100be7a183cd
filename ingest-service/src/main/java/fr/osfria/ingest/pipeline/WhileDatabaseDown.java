package fr.osfria.ingest.pipeline;

import fr.osfria.security.error.DatabaseUnavailable;
import io.quarkus.logging.Log;
import io.smallrye.mutiny.Uni;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * A record is not at fault when PostgreSQL is out of reach: dead-lettering it lost its step for good (a verdict
 * from embed-service, an upload to parse), and its document stayed {@code processing} until the stall sweeper
 * started it again ten minutes later. The step is tried again, with back-off, until the database is back; past
 * {@link #PATIENCE} the failure takes its usual way (the dead-letter topic), within Kafka's poll interval.
 */
public final class WhileDatabaseDown {

    static final Duration PATIENCE = Duration.ofMinutes(2);

    public static <T> Uni<T> retry(String what, Supplier<Uni<? extends T>> step) {
        return retry(what, step, PATIENCE);
    }

    /** The same with a patience of the caller's (kept below the channel's unprocessed-record age). */
    public static <T> Uni<T> retry(String what, Supplier<Uni<? extends T>> step, Duration patience) {
        return Uni.createFrom().<T>deferred(step)
                .onFailure(DatabaseUnavailable::causes).invoke(e -> Log.warnf("%s waits for the database: %s", what, e.toString()))
                .onFailure(DatabaseUnavailable::causes).retry()
                .withBackOff(Duration.ofMillis(500), Duration.ofSeconds(5)).expireIn(patience.toMillis());
    }

    private WhileDatabaseDown() {
    }
}
