package fr.osfria.webhook.subscription;

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
 * Moves every subscription secret sealed under a retired KEK to the active one, in batches by id. An update only
 * applies if the secret was not changed meanwhile (a PUT with a new secret wins). A secret no configured KEK
 * opens is counted, never lost: it stays as it is.
 */
@ApplicationScoped
public class SecretResealer {

    private static final int BATCH = 200;
    private static final String NOT_UNDER = "left(secret_sealed, length($1)) <> $1";

    private final Pool db;
    private final SecretBox secrets;

    public SecretResealer(Pool db, SecretBox secrets) {
        this.db = db;
        this.secrets = secrets;
    }

    public Uni<ResealReport> reseal() {
        String prefix = secrets.keyring().activeId() + ":";
        return pass(prefix, "", 0, 0).chain(done -> db.preparedQuery("SELECT count(*) FROM subscription WHERE " + NOT_UNDER)
                .execute(Tuple.of(prefix))
                .map(rows -> ResealReport.of("webhook-service", secrets.keyring(), done[0],
                        rows.iterator().next().getLong(0).intValue(), done[1])));
    }

    /** One batch after {@code after}, then the next; yields {resealed, unreadable}. */
    private Uni<int[]> pass(String prefix, String after, int resealed, int unreadable) {
        return db.preparedQuery("SELECT id, secret_sealed FROM subscription WHERE " + NOT_UNDER
                        + " AND id > $2 ORDER BY id LIMIT " + BATCH)
                .execute(Tuple.of(prefix, after))
                .chain(rows -> {
                    List<Tuple> updates = new ArrayList<>();
                    String last = after;
                    int failed = 0;
                    for (Row r : rows) {
                        last = r.getString("id");
                        String old = r.getString("secret_sealed");
                        try {
                            updates.add(Tuple.of(secrets.reseal(last, old), last, old));
                        } catch (GeneralSecurityException e) {
                            failed++;
                        }
                    }
                    int count = rows.size();
                    String next = last;
                    int unopened = unreadable + failed;
                    Uni<Integer> written = updates.isEmpty() ? Uni.createFrom().item(0)
                            : db.preparedQuery("UPDATE subscription SET secret_sealed = $1 WHERE id = $2 AND secret_sealed = $3")
                                    .executeBatch(updates).map(r -> updates.size());
                    return written.chain(n -> count < BATCH ? Uni.createFrom().item(new int[] {resealed + n, unopened})
                            : pass(prefix, next, resealed + n, unopened));
                });
    }
}
