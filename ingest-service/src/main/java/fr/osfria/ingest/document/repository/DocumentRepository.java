package fr.osfria.ingest.document.repository;

import fr.osfria.ingest.document.Document;
import fr.osfria.ingest.document.DocumentStatus;
import fr.osfria.security.crypto.ColumnResealer.Change;
import fr.osfria.security.crypto.SealedFields;
import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.rights.Rights;
import io.quarkus.hibernate.reactive.panache.PanacheRepositoryBase;
import io.quarkus.panache.common.Parameters;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

@ApplicationScoped
public class DocumentRepository implements PanacheRepositoryBase<Document, String> {

    /** The service's pool, for the statements that run outside a Hibernate session (the KEK re-seal's). */
    private final Pool db;

    public DocumentRepository(Pool db) {
        this.db = db;
    }

    /** One page of a collection's documents, newest first, only those the key may read (filtered in SQL). */
    public record Page(List<Document> documents, long total) {
    }

    private static final String VISIBLE_IN_ANY_COLLECTION =
            "(:allDepartments = true or department is null or department in :departments)"
            + " and (:cleared = true or confidential = false)";
    private static final String VISIBLE = "collection = :collection and " + VISIBLE_IN_ANY_COLLECTION;

    public Uni<Page> visiblePage(KeyEntry key, String collection, int offset, int limit) {
        Parameters params = visibility(key, collection);
        // one round trip: each row carries the count of the whole filtered set (a list is on every client's path)
        return getSession().chain(s -> {
            var query = s.createSelectionQuery("select d, count(*) over () from Document d where " + VISIBLE
                    + " order by d.uploadTime desc, d.id", Object[].class);
            params.map().forEach(query::setParameter);
            return query.setFirstResult(offset).setMaxResults(limit).getResultList();
        }).chain(rows -> {
            if (rows.isEmpty()) { // past the end (or nothing at all): no row to carry the count
                return offset == 0 ? Uni.createFrom().item(new Page(List.of(), 0))
                        : count(VISIBLE, params).map(total -> new Page(List.of(), total));
            }
            List<Document> docs = rows.stream().map(row -> (Document) row[0]).toList();
            return Uni.createFrom().item(new Page(docs, ((Number) rows.get(0)[1]).longValue()));
        });
    }

    /**
     * A document of the collection with the same content that {@code key} may read (the rule of GET), or null:
     * documents the key cannot see are never an answer, so an upload learns nothing about them. {@code contentHmacs}
     * are the upload's keyed hashes under every KEK of the keyring: a document hashed before a rotation is found too.
     */
    public Uni<Document> findReadableDuplicate(KeyEntry key, String collection, List<String> contentHmacs) {
        if (contentHmacs.isEmpty() || !Rights.canReadCollection(key, collection)) {
            return Uni.createFrom().nullItem();
        }
        return find("collection = ?1 and contentHmac in ?2 order by uploadTime", collection, contentHmacs).list()
                .map(same -> same.stream()
                        .filter(d -> Rights.canRead(key, d.collection, d.department, d.confidential))
                        .findFirst().orElse(null));
    }

    /**
     * Holds, until the caller's transaction ends, the right to record a document of this content in this collection:
     * a concurrent upload of the same content waits here, then sees this one's copy.
     */
    public Uni<Void> lockSameContent(String collection, String contentHmac) {
        return getSession().chain(s -> s.createNativeQuery("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))::text")
                .setParameter("key", "same-content\n" + collection + "\n" + contentHmac).getSingleResult()).replaceWithVoid();
    }

    /**
     * Holds, to the end of the transaction, every other upload and new version of {@code keyName}'s: its storage is
     * counted, then grown, one at a time.
     */
    public Uni<Void> lockStorageOf(String keyName) {
        return getSession().chain(s -> s.createNativeQuery("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))::text")
                .setParameter("key", "storage\n" + keyName).getSingleResult()).replaceWithVoid();
    }

    /**
     * What the documents whose content {@code keyName} uploaded cost (each document's version as it is now): its
     * size, at least {@code minBytes}, and its metadata's.
     */
    public Uni<Long> storedBy(String keyName, long minBytes) {
        return getSession().chain(s -> s.createNativeQuery("SELECT coalesce(sum(greatest(size_bytes, :min)"
                        + " + octet_length(metadata_json)), 0)::bigint FROM document WHERE uploaded_by = :key", Long.class)
                .setParameter("key", keyName).setParameter("min", minBytes).getSingleResult());
    }

    /**
     * The collections holding at least one document the key may read, its collection grant aside (the caller applies
     * {@code Rights} to the names): department and clearance filtered in SQL, as for a list. At most {@code limit}.
     */
    public Uni<List<String>> collectionsWithVisibleDocuments(KeyEntry key, int limit) {
        Parameters params = scope(key);
        return getSession().chain(s -> {
            var query = s.createSelectionQuery("select distinct d.collection from Document d where "
                    + VISIBLE_IN_ANY_COLLECTION + " order by d.collection", String.class);
            params.map().forEach(query::setParameter);
            return query.setMaxResults(limit).getResultList();
        });
    }

    /**
     * Notes, in the caller's transaction, that the application's record {@code eventId} makes document
     * {@code documentId}: false when the record is already taken, by a reading committed before or by a concurrent
     * one (whose transaction this insert waits for).
     */
    public Uni<Boolean> takeRecord(String application, String eventId, String documentId) {
        return getSession().chain(s -> s.createNativeQuery("INSERT INTO app_record (app_name, event_id, document_id)"
                        + " VALUES (:app, :event, :document) ON CONFLICT DO NOTHING")
                .setParameter("app", application).setParameter("event", eventId).setParameter("document", documentId)
                .executeUpdate()).map(inserted -> inserted == 1);
    }

    /** What the application's record {@code eventId} made: null if it made nothing yet. */
    public Uni<RecordMade> madeByRecord(String application, String eventId) {
        return getSession().chain(s -> s.createNativeQuery("SELECT COALESCE(document_id, '') FROM app_record"
                        + " WHERE app_name = :app AND event_id = :event", String.class)
                .setParameter("app", application).setParameter("event", eventId).getResultList())
                .chain(ids -> ids.isEmpty() ? Uni.createFrom().<RecordMade>nullItem()
                        : ids.get(0).isEmpty() ? Uni.createFrom().item(new RecordMade(null))
                        : findById(ids.get(0)).map(RecordMade::new));
    }

    /** A record that made a document: the document, or null once it was deleted (the record stays taken). */
    public record RecordMade(Document document) {
    }

    /** A batch of the record memory's sweep: how many rows it removed, the newest {@code taken_at} among them. */
    public record Forgotten(int count, Instant last) {
    }

    /**
     * Forgets, in the caller's transaction, at most {@code limit} of the records taken before {@code before} and from
     * {@code from} on, oldest first. A row another transaction holds (its document being deleted sets it to null) is
     * left for the next time: the sweep never waits for it. The next batch starts from {@link Forgotten#last()}: it
     * does not scan again from the oldest index entry, which an old snapshot may keep alive for every row removed.
     */
    public Uni<Forgotten> forgetRecordsTakenBefore(Instant before, Instant from, int limit) {
        return getSession().chain(s -> s.createNativeQuery("WITH gone AS (DELETE FROM app_record WHERE (app_name,"
                        + " event_id) IN (SELECT app_name, event_id FROM app_record WHERE taken_at < :before AND taken_at"
                        + " >= :from ORDER BY taken_at LIMIT :limit FOR UPDATE SKIP LOCKED) RETURNING taken_at)"
                        + " SELECT count(*), (extract(epoch FROM max(taken_at)) * 1000000)::bigint FROM gone", Object[].class)
                .setParameter("before", before).setParameter("from", from).setParameter("limit", limit)
                .getSingleResult())
                .map(row -> new Forgotten(((Number) row[0]).intValue(), row[1] == null ? from
                        : Instant.EPOCH.plus(((Number) row[1]).longValue(), ChronoUnit.MICROS)));
    }

    /** embed-service's progress on a version: a statement, never the entity (see {@code DocumentService.progress}). */
    public Uni<Integer> progress(String id, int version, int chunksIndexed, Instant now) {
        return update("chunksIndexed = greatest(chunksIndexed, ?1), updatedAt = ?2 "
                + "where id = ?3 and contentVersion = ?4 and status = ?5",
                chunksIndexed, now, id, version, DocumentStatus.PROCESSING);
    }

    /**
     * The channel on which a document's settling (indexed or failed), deletion or new version is announced, its id as
     * payload: what wakes the requests waiting for it ({@code GET /v1/documents/{id}?wait=}), in every replica.
     */
    public static final String SETTLED_CHANNEL = "osfria_document_settled";

    /**
     * Announces, in the caller's transaction, that document {@code id} has settled, is gone or has a new version:
     * PostgreSQL delivers it to every listener once the transaction commits, and never if it rolls back.
     */
    public Uni<Void> announceChanged(String id) {
        return getSession().chain(s -> s.createNativeQuery("SELECT pg_notify(:channel, :id)::text")
                .setParameter("channel", SETTLED_CHANNEL).setParameter("id", id).getSingleResult()).replaceWithVoid();
    }

    /**
     * Of {@code ids} (document ids, well formed), those still processing: a settled or deleted document is not among
     * them. One query with one parameter whatever their number (a list would take one bind parameter each, and
     * PostgreSQL takes at most 65535).
     */
    public Uni<Set<String>> stillProcessing(Collection<String> ids) {
        if (ids.isEmpty()) {
            return Uni.createFrom().item(Set.of());
        }
        return getSession().chain(s -> s.createNativeQuery(
                        "SELECT id FROM document WHERE id = ANY(string_to_array(:ids, ',')) AND status = :status", String.class)
                .setParameter("ids", String.join(",", ids)).setParameter("status", DocumentStatus.PROCESSING.name())
                .getResultList()).map(found -> (Set<String>) new HashSet<>(found));
    }

    /**
     * The documents of one status as the table stores it: how many, when the least recently changed of them changed,
     * and their chunks sent to the index and not indexed yet.
     */
    public record StatusTally(String status, long documents, Instant oldestChange, long chunksPending) {

        /**
         * The status as this version knows it; empty for one it does not, which a newer version sharing the database
         * during a rolling upgrade may have written.
         */
        public Optional<DocumentStatus> known() {
            return Arrays.stream(DocumentStatus.values()).filter(s -> s.name().equals(status)).findFirst();
        }
    }

    /**
     * Documents by status, for the metrics: one aggregate over the table. The status is read as text: mapped to
     * {@link DocumentStatus} in the query, one status this version does not know failed the whole tally.
     */
    public Uni<List<StatusTally>> tallyByStatus() {
        return getSession().chain(s -> s.createNativeQuery("SELECT status, count(*),"
                        + " (extract(epoch FROM min(updated_at)) * 1000000)::bigint,"
                        + " coalesce(sum(greatest(chunks_count - chunks_indexed, 0)), 0)"
                        + " FROM document GROUP BY status", Object[].class).getResultList())
                .map(rows -> rows.stream().map(r -> new StatusTally((String) r[0], ((Number) r[1]).longValue(),
                        Instant.EPOCH.plus(((Number) r[2]).longValue(), ChronoUnit.MICROS), ((Number) r[3]).longValue()))
                        .toList());
    }

    /** Documents whose processing started before {@code before} and has not finished. */
    public Uni<List<Document>> stalled(Instant before, int limit) {
        return find("status = ?1 and updatedAt < ?2 order by updatedAt", DocumentStatus.PROCESSING, before)
                .range(0, limit - 1).list();
    }

    /** Of {@code blobKeys}, those a document references (the original of its current version). */
    public Uni<Set<String>> referencedBlobKeys(List<String> blobKeys) {
        if (blobKeys.isEmpty()) {
            return Uni.createFrom().item(Set.of());
        }
        return getSession().chain(s -> s.createSelectionQuery("select blobKey from Document where blobKey in :keys", String.class)
                .setParameter("keys", blobKeys).getResultList()).map(found -> (Set<String>) new HashSet<>(found));
    }

    // The KEK re-seal's statements (DataKeyResealer). They run on the pool, outside any session: the hash pass reads
    // files on a worker thread between two of them, where a Hibernate Reactive session cannot follow, and each batch of
    // updates goes as one batched statement.

    private static final String NOT_WRAPPED_UNDER = "wrapped_key IS NOT NULL AND left(wrapped_key, length($1)) <> $1";
    /** A confidential row with a clear file name or a metadata value (but department, confidential) not sealed. */
    private static final String CLEAR_FIELDS = "confidential AND ("
            + "left(filename, " + SealedFields.PREFIX.length() + ") <> '" + SealedFields.PREFIX + "'"
            + " OR EXISTS (SELECT 1 FROM jsonb_each(metadata_json::jsonb) m"
            + " WHERE m.key NOT IN ('department', 'confidential') AND (jsonb_typeof(m.value) <> 'string'"
            + " OR left(m.value #>> '{}', " + SealedFields.PREFIX.length() + ") <> '" + SealedFields.PREFIX + "')))";
    private static final String HASH_NOT_KEYED_BY = "content_hmac IS NOT NULL AND left(content_hmac, length($1)) <> $1";

    /**
     * One selection of the re-seal: its rows in batches by id, how many are left, and the writes, each applied only if
     * its row still holds what was read (a concurrent new version or re-seal wins).
     */
    public interface ResealRows<R> {

        /** Up to {@code limit} rows whose id sorts after {@code afterId}, by id. */
        Uni<List<R>> after(String afterId, int limit);

        Uni<Integer> remaining();

        /** Writes each change whose row still holds its {@code before}; yields how many changes were sent. */
        Uni<Integer> write(List<Change<R>> changes);
    }

    /** A document's wrapped data key. */
    public record WrappedKey(String id, String wrapped) {
    }

    /** What a confidential document stores in clear or sealed, with the data key that seals it. */
    public record ConfidentialFields(String id, String wrappedKey, String filename, String metadataJson) {
    }

    /** A document's duplicate-detection hash and what it takes to compute it again. */
    public record HashedContent(String id, String collection, String blobKey, String wrappedKey, String hash) {

        public HashedContent withHash(String newHash) {
            return new HashedContent(id, collection, blobKey, wrappedKey, newHash);
        }
    }

    /** The confidential documents whose data key is not wrapped by the KEK whose wrappings start with {@code kekPrefix}. */
    public ResealRows<WrappedKey> dataKeysNotWrappedUnder(String kekPrefix) {
        return new ResealSelection<>("id, wrapped_key", NOT_WRAPPED_UNDER, Tuple.of(kekPrefix),
                r -> new WrappedKey(r.getString("id"), r.getString("wrapped_key")),
                "UPDATE document SET wrapped_key = $1 WHERE id = $2 AND wrapped_key = $3",
                c -> Tuple.of(c.after().wrapped(), c.before().id(), c.before().wrapped()));
    }

    /** The confidential documents stored before names and metadata were sealed, with a field still in clear. */
    public ResealRows<ConfidentialFields> confidentialWithClearFields() {
        return new ResealSelection<>("id, wrapped_key, filename, metadata_json", CLEAR_FIELDS, Tuple.tuple(),
                r -> new ConfidentialFields(r.getString("id"), r.getString("wrapped_key"), r.getString("filename"),
                        r.getString("metadata_json")),
                "UPDATE document SET filename = $1, metadata_json = $2 WHERE id = $3 AND wrapped_key = $4"
                        + " AND filename IS NOT DISTINCT FROM $5 AND metadata_json = $6",
                c -> Tuple.of(c.after().filename(), c.after().metadataJson(), c.before().id(), c.before().wrappedKey(),
                        c.before().filename(), c.before().metadataJson()));
    }

    /** The documents whose duplicate-detection hash is not keyed by the KEK named {@code kekPrefix} (or names none). */
    public ResealRows<HashedContent> hashesNotKeyedBy(String kekPrefix) {
        return new ResealSelection<>("id, collection, blob_key, wrapped_key, content_hmac", HASH_NOT_KEYED_BY,
                Tuple.of(kekPrefix), r -> new HashedContent(r.getString("id"), r.getString("collection"),
                        r.getString("blob_key"), r.getString("wrapped_key"), r.getString("content_hmac")),
                "UPDATE document SET content_hmac = $1 WHERE id = $2 AND content_hmac = $3",
                c -> Tuple.of(c.after().hash(), c.before().id(), c.before().hash()));
    }

    /** The SQL the re-seal's selections share: the rows matching {@code where}, by id, and one update per change. */
    private class ResealSelection<R> implements ResealRows<R> {

        private final String columns;
        private final String where;
        private final Tuple params;
        private final Function<Row, R> read;
        private final String update;
        private final Function<Change<R>, Tuple> updateParams;

        ResealSelection(String columns, String where, Tuple params, Function<Row, R> read, String update,
                        Function<Change<R>, Tuple> updateParams) {
            this.columns = columns;
            this.where = where;
            this.params = params;
            this.read = read;
            this.update = update;
            this.updateParams = updateParams;
        }

        @Override
        public Uni<List<R>> after(String afterId, int limit) {
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

        @Override
        public Uni<Integer> write(List<Change<R>> changes) {
            List<Tuple> tuples = changes.stream().map(updateParams).toList();
            return db.preparedQuery(update).executeBatch(tuples).map(r -> tuples.size());
        }

        private Tuple with(String afterId) {
            Tuple t = Tuple.tuple();
            for (int i = 0; i < params.size(); i++) {
                t.addValue(params.getValue(i));
            }
            return t.addString(afterId);
        }
    }

    private static Parameters visibility(KeyEntry key, String collection) {
        return scope(key).and("collection", collection);
    }

    /** The key's department and clearance, the parameters of {@link #VISIBLE_IN_ANY_COLLECTION}. */
    private static Parameters scope(KeyEntry key) {
        boolean all = key.admin() || key.departments().contains(KeyEntry.ALL);
        // an empty IN list is not valid SQL; the blank department, which uploads never store, stands in
        List<String> departments = key.departments().isEmpty() ? List.of("") : key.departments();
        return Parameters.with("allDepartments", all)
                .and("departments", departments)
                .and("cleared", key.admin() || key.confidential());
    }
}
