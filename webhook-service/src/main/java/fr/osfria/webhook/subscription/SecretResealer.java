package fr.osfria.webhook.subscription;

import fr.osfria.security.crypto.ColumnResealer;
import fr.osfria.security.crypto.ColumnResealer.Change;
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
 * Moves every subscription secret sealed under a retired KEK to the active one (the loop is
 * {@link ColumnResealer}'s; the SQL of the {@code subscription} table stays here). An update only applies if the
 * secret was not changed meanwhile (a PUT with a new secret wins). A secret no configured KEK opens is counted,
 * never lost: it stays as it is.
 */
@ApplicationScoped
public class SecretResealer {

    private static final int BATCH = 200;
    private static final String NOT_UNDER = "left(secret_sealed, length($1)) <> $1";

    /** A subscription's id and sealed secret. */
    record Secret(String id, String sealed) {
    }

    private final Pool db;
    private final SecretBox secrets;

    public SecretResealer(Pool db, SecretBox secrets) {
        this.db = db;
        this.secrets = secrets;
    }

    public Uni<ResealReport> reseal() {
        String prefix = secrets.keyring().activeId() + ":";
        return ColumnResealer.run(new ColumnResealer.Column<Secret>() {
            @Override
            public Uni<List<Secret>> batch(String afterId, int limit) {
                return db.preparedQuery("SELECT id, secret_sealed FROM subscription WHERE " + NOT_UNDER
                                + " AND id > $2 ORDER BY id LIMIT " + limit)
                        .execute(Tuple.of(prefix, afterId))
                        .map(rows -> {
                            List<Secret> batch = new ArrayList<>();
                            for (Row r : rows) {
                                batch.add(new Secret(r.getString("id"), r.getString("secret_sealed")));
                            }
                            return batch;
                        });
            }

            @Override
            public String idOf(Secret row) {
                return row.id();
            }

            @Override
            public Secret resealed(Secret row) throws GeneralSecurityException {
                return new Secret(row.id(), secrets.reseal(row.id(), row.sealed()));
            }

            @Override
            public Uni<Integer> write(List<Change<Secret>> changes) {
                return db.preparedQuery("UPDATE subscription SET secret_sealed = $1 WHERE id = $2 AND secret_sealed = $3")
                        .executeBatch(changes.stream()
                                .map(c -> Tuple.of(c.after().sealed(), c.before().id(), c.before().sealed())).toList())
                        .map(r -> changes.size());
            }

            @Override
            public Uni<Integer> remaining() {
                return db.preparedQuery("SELECT count(*) FROM subscription WHERE " + NOT_UNDER).execute(Tuple.of(prefix))
                        .map(rows -> rows.iterator().next().getLong(0).intValue());
            }
        }, BATCH).map(counts -> ResealReport.of("webhook-service", secrets.keyring(), counts));
    }
}
