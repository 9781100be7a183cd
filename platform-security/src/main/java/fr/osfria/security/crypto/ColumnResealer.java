package fr.osfria.security.crypto;

import io.smallrye.mutiny.Uni;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The re-seal loop every sealing service shares: walks the rows of one table that are not sealed as they should be
 * (under a retired KEK, or not sealed at all), in batches by id, and writes each row again with its value sealed
 * under the active KEK. The SQL stays with the table's owner (a {@link Column}); a row that no configured KEK opens
 * is counted as unreadable and left as it is, never lost.
 */
public final class ColumnResealer {

    /** What the pass did; {@code remaining} is counted after it (what a concurrent write or a missing KEK left). */
    public record Counts(int resealed, int remaining, int unreadable) {

        public Counts plus(Counts other) {
            return new Counts(resealed + other.resealed, remaining + other.remaining, unreadable + other.unreadable);
        }
    }

    /** A row before and after: the owner writes {@code after} only if the row still holds {@code before}. */
    public record Change<R>(R before, R after) {
    }

    /** One table's side of the loop: its SQL and how one row is re-sealed. */
    public interface Column<R> {

        /** Up to {@code limit} rows still to re-seal whose id sorts after {@code afterId}, by id. */
        Uni<List<R>> batch(String afterId, int limit);

        String idOf(R row);

        /**
         * The row with its value(s) sealed under the active KEK; fails when no configured KEK opens it, or what it
         * needs cannot be read. A column whose re-seal blocks (reads files) emits its batches on a worker thread.
         */
        R resealed(R row) throws GeneralSecurityException, IOException;

        /** Writes the changes whose row still holds their {@code before} (a concurrent update wins); yields how many. */
        Uni<Integer> write(List<Change<R>> changes);

        /** How many rows are still to re-seal. */
        Uni<Integer> remaining();
    }

    private ColumnResealer() {
    }

    /** Re-seals every row of {@code column}, {@code batch} rows a query. */
    public static <R> Uni<Counts> run(Column<R> column, int batch) {
        return run(column, batch, null);
    }

    /**
     * Re-seals the rows of {@code column}, {@code batch} rows a query, starting no batch once {@code budget} (null:
     * none) has passed: a slow column answers within about that time, and {@code remaining} says to call again.
     */
    public static <R> Uni<Counts> run(Column<R> column, int batch, Duration budget) {
        long start = System.nanoTime();
        BooleanSupplier expired = () -> budget != null && System.nanoTime() - start > budget.toNanos();
        return pass(column, batch, expired, "", 0, 0)
                .chain(done -> column.remaining().map(remaining -> new Counts(done[0], remaining, done[1])));
    }

    /** One batch after {@code after}, then the next; yields {resealed, unreadable}. */
    private static <R> Uni<int[]> pass(Column<R> column, int batch, BooleanSupplier expired, String after, int resealed,
                                        int unreadable) {
        return column.batch(after, batch).chain(rows -> {
            List<Change<R>> changes = new ArrayList<>();
            int failed = 0;
            for (R row : rows) {
                try {
                    changes.add(new Change<>(row, column.resealed(row)));
                } catch (GeneralSecurityException | IOException | IllegalArgumentException e) {
                    failed++;
                }
            }
            String next = rows.isEmpty() ? after : column.idOf(rows.get(rows.size() - 1));
            int unopened = unreadable + failed;
            Uni<Integer> written = changes.isEmpty() ? Uni.createFrom().item(0) : column.write(changes);
            return written.chain(n -> rows.size() < batch || expired.getAsBoolean()
                    ? Uni.createFrom().item(new int[] {resealed + n, unopened})
                    : pass(column, batch, expired, next, resealed + n, unopened));
        });
    }
}
