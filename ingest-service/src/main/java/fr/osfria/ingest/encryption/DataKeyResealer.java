package fr.osfria.ingest.encryption;

import fr.osfria.events.EventJson;
import fr.osfria.ingest.blob.BlobStore;
import fr.osfria.ingest.document.service.ContentHash;
import fr.osfria.security.crypto.Aead;
import fr.osfria.security.crypto.ColumnResealer;
import fr.osfria.security.crypto.ColumnResealer.Change;
import fr.osfria.security.crypto.Envelope;
import fr.osfria.security.crypto.ResealReport;
import fr.osfria.security.crypto.SealedFields;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.io.InputStream;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import javax.crypto.SecretKey;

/**
 * The re-seal of the {@code document} table ({@code POST /v1/admin/kek/reseal}), with {@link ColumnResealer}'s loop:
 * <ol>
 *   <li>every confidential document's data key is re-wrapped under the active KEK. The data key itself does not
 *   change, so the sealed original, chunks and index entries stay as they are;</li>
 *   <li>confidential documents stored before names and metadata were sealed get their file name and metadata values
 *   sealed under their data key, as new ones are (see {@link SealedFields});</li>
 *   <li>duplicate-detection hashes keyed by a retired KEK are computed again under the active one (see
 *   {@link #contentHashes}).</li>
 * </ol>
 * All count in {@code remaining}. An update applies only if the row is still as it was read (a new version wins);
 * a row no configured KEK opens is counted as unreadable and left alone.
 */
@ApplicationScoped
public class DataKeyResealer {

    private static final int BATCH = 500;
    private static final String NOT_UNDER = "wrapped_key IS NOT NULL AND left(wrapped_key, length($1)) <> $1";
    /** A confidential row with a clear file name or a metadata value (but department, confidential) not sealed. */
    private static final String CLEAR_FIELDS = "confidential AND ("
            + "left(filename, " + SealedFields.PREFIX.length() + ") <> '" + SealedFields.PREFIX + "'"
            + " OR EXISTS (SELECT 1 FROM jsonb_each(metadata_json::jsonb) m"
            + " WHERE m.key NOT IN ('department', 'confidential') AND (jsonb_typeof(m.value) <> 'string'"
            + " OR left(m.value #>> '{}', " + SealedFields.PREFIX.length() + ") <> '" + SealedFields.PREFIX + "')))";

    private static final int HASH_BATCH = 50;
    static final Duration HASH_BUDGET = Duration.ofSeconds(20);
    private static final String HASH_NOT_UNDER = "content_hmac IS NOT NULL AND left(content_hmac, length($1)) <> $1";

    /** A document's duplicate-detection hash and what it takes to compute it again. */
    record Hashed(String id, String collection, String blobKey, String wrappedKey, String hash) {

        Hashed withHash(String newHash) {
            return new Hashed(id, collection, blobKey, wrappedKey, newHash);
        }
    }

    /** A document's wrapped data key. */
    record WrappedKey(String id, String wrapped) {
    }

    /** What a confidential document stores in clear or sealed, with the data key that seals it. */
    record Fields(String id, String wrappedKey, String filename, String metadataJson) {
    }

    private final Pool db;
    private final Envelope envelope;
    private final BlobStore blobs;

    public DataKeyResealer(Pool db, Envelope envelope, BlobStore blobs) {
        this.db = db;
        this.envelope = envelope;
        this.blobs = blobs;
    }

    public Uni<ResealReport> reseal() {
        String prefix = envelope.keyring().activeId() + ":";
        return ColumnResealer.run(dataKeys(prefix), BATCH)
                .chain(keys -> ColumnResealer.run(clearFields(), BATCH).map(keys::plus))
                .chain(done -> ColumnResealer.run(contentHashes(prefix), HASH_BATCH, HASH_BUDGET).map(done::plus))
                .map(counts -> ResealReport.of("ingest-service", envelope.keyring(), counts));
    }

    /**
     * The duplicate-detection hashes keyed by a retired KEK (or older ones, which do not say): computed again under
     * the active KEK from the stored file, opened in memory if sealed. Reads every such file, so it works on a worker
     * thread, for at most {@link #HASH_BUDGET} a call. A document whose file is gone loses its hash (it can no longer
     * be confirmed) rather than keep the retired KEK needed.
     */
    private ColumnResealer.Column<Hashed> contentHashes(String prefix) {
        return new Table<>("id, collection, blob_key, wrapped_key, content_hmac", HASH_NOT_UNDER, Tuple.of(prefix),
                r -> new Hashed(r.getString("id"), r.getString("collection"), r.getString("blob_key"),
                        r.getString("wrapped_key"), r.getString("content_hmac"))) {
            @Override
            public Uni<List<Hashed>> batch(String afterId, int limit) {
                return super.batch(afterId, limit).emitOn(Infrastructure.getDefaultWorkerPool());
            }

            @Override
            public String idOf(Hashed row) {
                return row.id();
            }

            @Override
            public Hashed resealed(Hashed row) throws GeneralSecurityException, IOException {
                if (row.blobKey() == null || !Files.exists(blobs.path(row.blobKey()))) {
                    return row.withHash(null);
                }
                if (row.wrappedKey() == null) {
                    try (InputStream in = Files.newInputStream(blobs.path(row.blobKey()))) {
                        return row.withHash(ContentHash.underActive(envelope, row.collection(), in));
                    }
                }
                byte[] content = Aead.decrypt(envelope.unwrap(row.wrappedKey()), blobs.read(row.blobKey()),
                        row.blobKey().getBytes(StandardCharsets.UTF_8));
                return row.withHash(ContentHash.underActive(envelope, row.collection(), new ByteArrayInputStream(content)));
            }

            @Override
            public Uni<Integer> write(List<Change<Hashed>> changes) {
                return update("UPDATE document SET content_hmac = $1 WHERE id = $2 AND content_hmac = $3", changes.stream()
                        .map(c -> Tuple.of(c.after().hash(), c.before().id(), c.before().hash())).toList());
            }
        };
    }

    private ColumnResealer.Column<WrappedKey> dataKeys(String prefix) {
        return new Table<>("id, wrapped_key", NOT_UNDER, Tuple.of(prefix), r -> new WrappedKey(r.getString("id"), r.getString("wrapped_key"))) {
            @Override
            public String idOf(WrappedKey row) {
                return row.id();
            }

            @Override
            public WrappedKey resealed(WrappedKey row) throws GeneralSecurityException {
                return new WrappedKey(row.id(), envelope.rewrap(row.wrapped()));
            }

            @Override
            public Uni<Integer> write(List<Change<WrappedKey>> changes) {
                return update("UPDATE document SET wrapped_key = $1 WHERE id = $2 AND wrapped_key = $3", changes.stream()
                        .map(c -> Tuple.of(c.after().wrapped(), c.before().id(), c.before().wrapped())).toList());
            }
        };
    }

    private ColumnResealer.Column<Fields> clearFields() {
        return new Table<>("id, wrapped_key, filename, metadata_json", CLEAR_FIELDS, Tuple.tuple(),
                r -> new Fields(r.getString("id"), r.getString("wrapped_key"), r.getString("filename"), r.getString("metadata_json"))) {
            @Override
            public String idOf(Fields row) {
                return row.id();
            }

            @Override
            public Fields resealed(Fields row) throws GeneralSecurityException {
                if (row.wrappedKey() == null) {
                    throw new GeneralSecurityException("a confidential document without a data key");
                }
                SecretKey dataKey = envelope.unwrap(row.wrappedKey());
                String filename = SealedFields.isSealed(row.filename()) ? row.filename()
                        : SealedFields.sealFilename(dataKey, row.id(), row.filename());
                Map<String, Object> metadata = new LinkedHashMap<>();
                EventJson.decodeMap(row.metadataJson()).forEach((key, value) -> metadata.put(key,
                        SealedFields.isSealed(value) ? value : SealedFields.sealMetadata(dataKey, row.id(), Collections.singletonMap(key, value)).get(key)));
                return new Fields(row.id(), row.wrappedKey(), filename, EventJson.encodeMap(metadata));
            }

            @Override
            public Uni<Integer> write(List<Change<Fields>> changes) {
                return update("UPDATE document SET filename = $1, metadata_json = $2 WHERE id = $3 AND wrapped_key = $4"
                        + " AND filename IS NOT DISTINCT FROM $5 AND metadata_json = $6", changes.stream()
                        .map(c -> Tuple.of(c.after().filename(), c.after().metadataJson(), c.before().id(),
                                c.before().wrappedKey(), c.before().filename(), c.before().metadataJson())).toList());
            }
        };
    }

    /** The SQL a column of the {@code document} table shares: the rows matching {@code where}, by id. */
    private abstract class Table<R> implements ColumnResealer.Column<R> {

        private final String columns;
        private final String where;
        private final Tuple params;
        private final Function<Row, R> read;

        Table(String columns, String where, Tuple params, Function<Row, R> read) {
            this.columns = columns;
            this.where = where;
            this.params = params;
            this.read = read;
        }

        @Override
        public Uni<List<R>> batch(String afterId, int limit) {
            int after = params.size() + 1;
            return db.preparedQuery("SELECT " + columns + " FROM document WHERE " + where + " AND id > $" + after
                            + " ORDER BY id LIMIT " + limit)
                    .execute(with(afterId))
                    .map(rows -> {
                        List<R> batch = new ArrayList<>();
                        rows.forEach(r -> batch.add(read.apply(r)));
                        return batch;
                    });
        }

        @Override
        public Uni<Integer> remaining() {
            return db.preparedQuery("SELECT count(*) FROM document WHERE " + where).execute(params)
                    .map(rows -> rows.iterator().next().getLong(0).intValue());
        }

        Uni<Integer> update(String sql, List<Tuple> tuples) {
            return db.preparedQuery(sql).executeBatch(tuples).map(r -> tuples.size());
        }

        private Tuple with(String afterId) {
            Tuple t = Tuple.tuple();
            for (int i = 0; i < params.size(); i++) {
                t.addValue(params.getValue(i));
            }
            return t.addString(afterId);
        }
    }
}
