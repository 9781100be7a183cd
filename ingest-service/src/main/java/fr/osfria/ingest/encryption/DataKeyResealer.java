package fr.osfria.ingest.encryption;

import fr.osfria.security.crypto.Envelope;
import fr.osfria.security.crypto.ResealReport;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;

/**
 * Re-wraps every confidential document's data key under the active KEK, in batches by id. The data key itself does
 * not change, so the sealed original, chunks and index entries stay as they are. An update applies only if the
 * document still has the key it was read with (a new version, wrapped under the active KEK already, wins); a key no
 * configured KEK unwraps is counted and left alone.
 */
@ApplicationScoped
public class DataKeyResealer {

    private static final int BATCH = 500;
    private static final String NOT_UNDER = "wrapped_key IS NOT NULL AND left(wrapped_key, length($1)) <> $1";

    private final Pool db;
    private final Envelope envelope;

    public DataKeyResealer(Pool db, Envelope envelope) {
        this.db = db;
        this.envelope = envelope;
    }

    public Uni<ResealReport> reseal() {
        String prefix = envelope.keyring().activeId() + ":";
        return pass(prefix, "", 0, 0).chain(done -> db.preparedQuery("SELECT count(*) FROM document WHERE " + NOT_UNDER)
                .execute(Tuple.of(prefix))
                .map(rows -> ResealReport.of("ingest-service", envelope.keyring(), done[0],
                        rows.iterator().next().getLong(0).intValue(), done[1])));
    }

    /** One batch after {@code after}, then the next; yields {resealed, unreadable}. */
    private Uni<int[]> pass(String prefix, String after, int resealed, int unreadable) {
        return db.preparedQuery("SELECT id, wrapped_key FROM document WHERE " + NOT_UNDER + " AND id > $2 ORDER BY id LIMIT " + BATCH)
                .execute(Tuple.of(prefix, after))
                .chain(rows -> {
                    List<Tuple> updates = new ArrayList<>();
                    String last = after;
                    int failed = 0;
                    for (Row r : rows) {
                        last = r.getString("id");
                        String old = r.getString("wrapped_key");
                        try {
                            updates.add(Tuple.of(envelope.rewrap(old), last, old));
                        } catch (GeneralSecurityException | IllegalArgumentException e) {
                            failed++;
                        }
                    }
                    int count = rows.size();
                    String next = last;
                    int unopened = unreadable + failed;
                    Uni<Integer> written = updates.isEmpty() ? Uni.createFrom().item(0)
                            : db.preparedQuery("UPDATE document SET wrapped_key = $1 WHERE id = $2 AND wrapped_key = $3")
                                    .executeBatch(updates).map(r -> updates.size());
                    return written.chain(n -> count < BATCH ? Uni.createFrom().item(new int[] {resealed + n, unopened})
                            : pass(prefix, next, resealed + n, unopened));
                });
    }
}
