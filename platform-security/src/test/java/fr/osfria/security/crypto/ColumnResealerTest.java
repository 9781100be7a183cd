package fr.osfria.security.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.security.crypto.ColumnResealer.Change;
import fr.osfria.security.crypto.ColumnResealer.Counts;
import io.smallrye.mutiny.Uni;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The shared re-seal loop over a table kept in memory: every batch, the unreadable rows, a concurrent change. */
class ColumnResealerTest {

    /** id → value; "old:" values are to re-seal, "lost:" ones no KEK opens, "new:" ones are done. */
    private final TreeMap<String, String> table = new TreeMap<>();
    private int queries;
    private boolean putMeanwhile;

    private final ColumnResealer.Column<String[]> column = new ColumnResealer.Column<>() {
        @Override
        public Uni<List<String[]>> batch(String afterId, int limit) {
            queries++;
            return Uni.createFrom().item(table.tailMap(afterId, false).entrySet().stream().filter(e -> !e.getValue().startsWith("new:"))
                    .limit(limit).map(e -> new String[] {e.getKey(), e.getValue()}).toList());
        }

        @Override
        public String idOf(String[] row) {
            return row[0];
        }

        @Override
        public String[] resealed(String[] row) throws GeneralSecurityException {
            if (row[1].startsWith("lost:")) {
                throw new GeneralSecurityException("no KEK opens it");
            }
            if (putMeanwhile && row[0].equals("id0007")) {
                table.put("id0007", "old:changed meanwhile"); // a PUT between the read and the write
            }
            return new String[] {row[0], "new:" + row[1].substring(4)};
        }

        @Override
        public Uni<Integer> write(List<Change<String[]>> changes) {
            int n = 0;
            for (Change<String[]> c : changes) {
                if (table.get(c.before()[0]).equals(c.before()[1])) { // the owner's condition: the row is as it was read
                    table.put(c.after()[0], c.after()[1]);
                    n++;
                }
            }
            return Uni.createFrom().item(n);
        }

        @Override
        public Uni<Integer> remaining() {
            return Uni.createFrom().item((int) table.values().stream().filter(v -> !v.startsWith("new:")).count());
        }
    };

    @Test
    void resealsEveryBatchAndCountsWhatItCannotOpen() {
        putMeanwhile = true;
        for (int i = 0; i < 1_050; i++) {
            table.put(String.format("id%04d", i), (i % 100 == 3 ? "lost:" : "old:") + i);
        }
        Counts counts = ColumnResealer.run(column, 500).await().indefinitely();
        assertEquals(3, queries, "1,050 rows in batches of 500");
        assertEquals(11, counts.unreadable(), "the rows no KEK opens are counted");
        assertEquals(1_050 - 11 - 1, counts.resealed(), "all but the unreadable and the one changed meanwhile");
        assertEquals(12, counts.remaining(), "the unreadable ones and the one changed meanwhile are left for later");
        assertTrue(table.get("id0007").startsWith("old:changed"), "a concurrent change wins");
        assertEquals(new Counts(1_040, 13, 11), counts.plus(new Counts(2, 1, 0)), "two tables' passes add up");
    }

    @Test
    void aBudgetStopsBetweenBatchesAndTheNextCallGoesOn() {
        for (int i = 0; i < 1_050; i++) {
            table.put(String.format("id%04d", i), "old:" + i);
        }
        Counts first = ColumnResealer.run(column, 500, Duration.ZERO).await().indefinitely();
        assertEquals(500, first.resealed(), "one batch, then the budget is spent");
        assertEquals(550, first.remaining());
        Counts second = ColumnResealer.run(column, 500, Duration.ZERO).await().indefinitely();
        assertEquals(500, second.resealed());
        assertEquals(0, ColumnResealer.run(column, 500).await().indefinitely().remaining());
    }
}
