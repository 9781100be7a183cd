package fr.osfria.embed.index;

import static io.qdrant.client.ConditionFactory.hasId;
import static io.qdrant.client.ConditionFactory.isEmpty;
import static io.qdrant.client.ConditionFactory.match;
import static io.qdrant.client.ConditionFactory.matchKeyword;
import static io.qdrant.client.ConditionFactory.matchKeywords;
import static io.qdrant.client.ConditionFactory.range;
import static io.qdrant.client.PointIdFactory.id;
import static io.qdrant.client.ValueFactory.list;
import static io.qdrant.client.ValueFactory.value;
import static io.qdrant.client.VectorsFactory.vectors;

import fr.osfria.embed.EmbedConfig;
import fr.osfria.events.EventJson;
import fr.osfria.security.crypto.Keyring;
import io.qdrant.client.QdrantClient;
import io.qdrant.client.QdrantGrpcClient;
import io.qdrant.client.WithPayloadSelectorFactory;
import io.qdrant.client.grpc.Collections.Distance;
import io.qdrant.client.grpc.Collections.PayloadSchemaType;
import io.qdrant.client.grpc.Collections.VectorParams;
import io.qdrant.client.grpc.Common.Filter;
import io.qdrant.client.grpc.Common.PointId;
import io.qdrant.client.grpc.Common.Range;
import io.qdrant.client.grpc.JsonWithInt.Value;
import io.qdrant.client.grpc.Points.PointStruct;
import io.qdrant.client.grpc.Points.RetrievedPoint;
import io.qdrant.client.grpc.Points.ScrollPoints;
import io.qdrant.client.grpc.Points.ScrollResponse;
import io.qdrant.client.grpc.Points.ScoredPoint;
import io.qdrant.client.grpc.Points.SearchPoints;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/**
 * The chunks in a Qdrant collection, over gRPC: one point per chunk (id derived from the chunk id, so a
 * redelivery overwrites), the permission and filter fields as indexed payload, the caller's rights as the
 * search's filter. Qdrant serves dense search; keyword and hybrid requests are answered by dense search here.
 * Confidential chunks carry sealed text and their blind-index terms, never clear words.
 */
public class QdrantStore implements VectorStore {

    private static final String NO_DEPARTMENT = "__none__";
    /** Tombstones are points of their own kind: no collection, so no search ever matches one. */
    private static final String TOMBSTONE = "tombstone";


    private final QdrantClient client;
    private final String collection;
    private final int dimension;
    private final int floorsPage;
    /**
     * Every known tombstone's floor by document id: loaded at start, raised by {@link #retire} and, for the documents
     * of a batch, by {@link #refreshFloors} (other replicas share the collection), so {@link #retired} asks Qdrant
     * nothing per chunk. Floors only rise, so a floor held here is never wrong, at most not yet known.
     */
    private final Map<String, Integer> floors = new ConcurrentHashMap<>();

    public QdrantStore(EmbedConfig.Qdrant config, String model, int dimension) throws IOException {
        this(config, model, dimension, 1_000);
    }

    /** {@code floorsPage}: tombstones read per query at start. */
    QdrantStore(EmbedConfig.Qdrant config, String model, int dimension, int floorsPage) throws IOException {
        this.floorsPage = floorsPage;
        QdrantGrpcClient.Builder grpc = QdrantGrpcClient.newBuilder(config.host(), config.port(), config.tls());
        config.apiKey().ifPresent(grpc::withApiKey);
        this.client = new QdrantClient(grpc.build());
        this.collection = config.collection();
        this.dimension = dimension;
        if (!get(client.collectionExistsAsync(collection))) {
            get(client.createCollectionAsync(collection, VectorParams.newBuilder().setSize(dimension).setDistance(Distance.Cosine).build()));
            for (String field : List.of("chunk_id", "document_id", "collection", "department")) {
                get(client.createPayloadIndexAsync(collection, field, PayloadSchemaType.Keyword, null, true, null, null));
            }
            get(client.createPayloadIndexAsync(collection, "version", PayloadSchemaType.Integer, null, true, null, null));
            get(client.createPayloadIndexAsync(collection, "confidential", PayloadSchemaType.Bool, null, true, null, null));
        } else {
            long size = get(client.getCollectionInfoAsync(collection)).getConfig().getParams().getVectorsConfig().getParams().getSize();
            if (size != dimension) {
                throw new IllegalStateException("the Qdrant collection " + collection + " holds " + size
                        + "-dimension vectors, not " + dimension + " (" + model + "); re-index into a new collection");
            }
        }
        // also on collections created before tombstones existed (creating an existing index changes nothing)
        get(client.createPayloadIndexAsync(collection, "tombstone_of", PayloadSchemaType.Keyword, null, true, null, null));
        get(client.createPayloadIndexAsync(collection, "floor", PayloadSchemaType.Integer, null, true, null, null));
        loadFloors(Filter.newBuilder().addMust(matchKeyword("kind", TOMBSTONE)).build());
    }

    /** Raises {@link #floors} to the tombstones matching {@code filter}, a page at a time. */
    private void loadFloors(Filter filter) throws IOException {
        PointId offset = null;
        do {
            ScrollPoints.Builder page = ScrollPoints.newBuilder().setCollectionName(collection).setFilter(filter)
                    .setLimit(floorsPage).setWithPayload(WithPayloadSelectorFactory.include(List.of("tombstone_of", "floor")));
            if (offset != null) {
                page.setOffset(offset);
            }
            ScrollResponse r = get(client.scrollAsync(page.build()));
            for (RetrievedPoint p : r.getResultList()) {
                floors.merge(p.getPayloadMap().get("tombstone_of").getStringValue(),
                        (int) p.getPayloadMap().get("floor").getIntegerValue(), Math::max);
            }
            offset = r.hasNextPageOffset() ? r.getNextPageOffset() : null;
        } while (offset != null);
    }

    /** Qdrant point ids are UUIDs: the chunk id's name-based UUID, the same on every delivery. */
    static UUID pointId(String chunkId) {
        return UUID.nameUUIDFromBytes(chunkId.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void upsert(Collection<IndexedChunk> chunks) throws IOException {
        if (chunks.isEmpty()) {
            return;
        }
        List<PointStruct> points = new ArrayList<>();
        for (IndexedChunk c : chunks) {
            if (c.vector().length != dimension) {
                throw new IllegalArgumentException("vector of " + c.vector().length + " dimensions, the collection has " + dimension);
            }
            Map<String, Value> payload = new HashMap<>();
            payload.put("chunk_id", value(c.chunkId()));
            payload.put("document_id", value(c.documentId()));
            payload.put("version", value(c.version()));
            payload.put("ordinal", value(c.ordinal()));
            payload.put("total", value(c.totalChunks()));
            payload.put("collection", value(c.collection()));
            payload.put("department", value(c.department() == null ? NO_DEPARTMENT : c.department()));
            payload.put("confidential", value(c.confidential()));
            payload.put("text", value(c.text()));
            payload.put("metadata", value(EventJson.encodeMap(c.metadata())));
            if (c.page() != null) {
                payload.put("page", value(c.page()));
            }
            if (c.section() != null) {
                payload.put("section", value(c.section()));
            }
            payload.putAll(sealing(c));
            payload.putAll(filterTerms(c));
            points.add(PointStruct.newBuilder().setId(id(pointId(c.chunkId()))).setVectors(vectors(c.vector()))
                    .putAllPayload(payload).build());
        }
        get(client.upsertAsync(collection, points));
    }

    /** The wrapped key, its KEK id (what a re-seal looks for) and the blind terms of a sealed chunk. */
    private static Map<String, Value> sealing(IndexedChunk c) {
        Map<String, Value> payload = new HashMap<>();
        if (c.wrappedKey() != null) {
            payload.put("wrapped_key", value(c.wrappedKey()));
            String kek = Keyring.idOf(c.wrappedKey());
            payload.put("kek", value(kek == null ? "" : kek));
        }
        if (c.blindTerms() != null) {
            payload.put("blind", list(java.util.Arrays.stream(c.blindTerms().split(" ")).distinct().map(t -> value(t)).toList()));
        }
        return payload;
    }

    /** The metadata filter terms ({@code m.<key>}): clear values, or a confidential value's keyed hashes. */
    private static Map<String, Value> filterTerms(IndexedChunk c) {
        Map<String, Value> payload = new HashMap<>();
        c.filterTerms().forEach((key, terms) -> {
            if (!terms.isEmpty()) {
                payload.put("m." + key, list(terms.stream().map(t -> value(t)).toList()));
            }
        });
        return payload;
    }

    @Override
    public int sealedOutside(String kekId) throws IOException {
        return Math.toIntExact(get(client.countAsync(collection, sealedOutside(kekId, Set.of()), true)));
    }

    /**
     * Re-seals by payload only (the vector, sealed text and sealed metadata stay; the wrapped key, blind terms and
     * metadata filter hashes are replaced), each point updated only if it still holds the
     * wrapped key it was read with: a chunk deleted or replaced meanwhile is left as it is, never brought back.
     */
    @Override
    public int reseal(String kekId, int max, Set<String> skip, Resealing resealing) throws IOException {
        List<RetrievedPoint> points = get(client.scrollAsync(ScrollPoints.newBuilder().setCollectionName(collection)
                .setFilter(sealedOutside(kekId, skip)).setLimit(max).setWithPayload(WithPayloadSelectorFactory.enable(true))
                .build())).getResultList();
        int written = 0;
        for (RetrievedPoint p : points) {
            Map<String, Value> pl = p.getPayloadMap();
            String chunkId = pl.get("chunk_id").getStringValue();
            String wrapped = pl.get("wrapped_key").getStringValue();
            IndexedChunk next = resealing.reseal(new IndexedChunk(chunkId, pl.get("document_id").getStringValue(),
                    (int) pl.get("version").getIntegerValue(), (int) pl.get("ordinal").getIntegerValue(),
                    (int) pl.get("total").getIntegerValue(), pl.get("collection").getStringValue(), null,
                    pl.get("confidential").getBoolValue(), null, pl.containsKey("section") ? pl.get("section").getStringValue() : null,
                    pl.get("text").getStringValue(), wrapped, EventJson.decodeMap(pl.get("metadata").getStringValue()),
                    new float[0], null, null));
            if (next == null) {
                skip.add(chunkId);
                continue;
            }
            // the filter hashes are keyed by the KEK too: written anew with the key, or filters stop matching after a prune
            Map<String, Value> resealed = new HashMap<>(sealing(next));
            resealed.putAll(filterTerms(next));
            get(client.setPayloadAsync(collection, resealed, Filter.newBuilder().addMust(hasId(p.getId()))
                    .addMust(matchKeyword("wrapped_key", wrapped)).build(), true, null, null));
            written++;
        }
        return written;
    }

    private static Filter sealedOutside(String kekId, Set<String> skip) {
        Filter.Builder f = Filter.newBuilder().addMustNot(isEmpty("wrapped_key")).addMustNot(matchKeyword("kek", kekId));
        if (!skip.isEmpty()) {
            f.addMustNot(hasId(skip.stream().map(id -> id(pointId(id))).toList()));
        }
        return f.build();
    }

    /**
     * One tombstone point per floor (a payload with a placeholder vector), written before the chunks are deleted;
     * Qdrant applies both before answering, and concurrent retirements add points rather than overwrite a floor.
     */
    @Override
    public void retire(String documentId, int floor) throws IOException {
        float[] placeholder = new float[dimension];
        placeholder[0] = 1;
        get(client.upsertAsync(collection, List.of(PointStruct.newBuilder()
                .setId(id(pointId(TOMBSTONE + ":" + documentId + "#" + floor))).setVectors(vectors(placeholder))
                .putAllPayload(Map.of("kind", value(TOMBSTONE), "tombstone_of", value(documentId), "floor", value(floor)))
                .build())));
        floors.merge(documentId, floor, Math::max);
        deleteVersionsBefore(documentId, floor);
    }

    @Override
    public boolean retired(String documentId, int version) {
        Integer floor = floors.get(documentId);
        return floor != null && version < floor;
    }

    /** One query for the tombstones of all these documents, whichever replica wrote them. */
    @Override
    public void refreshFloors(Collection<String> documentIds) throws IOException {
        if (!documentIds.isEmpty()) {
            loadFloors(Filter.newBuilder().addMust(matchKeyword("kind", TOMBSTONE))
                    .addMust(matchKeywords("tombstone_of", List.copyOf(new java.util.LinkedHashSet<>(documentIds)))).build());
        }
    }

    @Override
    public void deleteVersionsBefore(String documentId, int version) throws IOException {
        get(client.deleteAsync(collection, Filter.newBuilder().addMust(matchKeyword("document_id", documentId))
                .addMust(range("version", Range.newBuilder().setLt(version).build())).build()));
    }

    @Override
    public void commit() {
        // upserts and deletes wait for Qdrant's acknowledgement: nothing is pending here
    }

    @Override
    public int count(String documentId, int version) throws IOException {
        return Math.toIntExact(get(client.countAsync(collection, Filter.newBuilder().addMust(matchKeyword("document_id", documentId))
                .addMust(match("version", version)).build(), true)));
    }

    @Override
    public boolean hasNewerVersion(String documentId, int version) throws IOException {
        return get(client.countAsync(collection, Filter.newBuilder().addMust(matchKeyword("document_id", documentId))
                .addMust(range("version", Range.newBuilder().setGt(version).build())).build(), true)) > 0;
    }

    @Override
    public int size() throws IOException {
        return Math.toIntExact(get(client.countAsync(collection,
                Filter.newBuilder().addMustNot(matchKeyword("kind", TOMBSTONE)).build(), true)));
    }

    @Override
    public List<SearchHit> search(SearchQuery query) throws IOException {
        List<Float> vector = new ArrayList<>(query.vector().length);
        for (float f : query.vector()) {
            vector.add(f);
        }
        List<ScoredPoint> points = get(client.searchAsync(SearchPoints.newBuilder().setCollectionName(collection)
                .addAllVector(vector).setFilter(filter(query)).setLimit(query.topK())
                .setWithPayload(WithPayloadSelectorFactory.enable(true)).build()));
        List<SearchHit> hits = new ArrayList<>();
        for (ScoredPoint p : points) {
            Map<String, Value> pl = p.getPayloadMap();
            hits.add(new SearchHit(pl.get("chunk_id").getStringValue(), pl.get("document_id").getStringValue(), p.getScore(),
                    pl.get("confidential").getBoolValue(), pl.containsKey("page") ? (int) pl.get("page").getIntegerValue() : null,
                    pl.containsKey("section") ? pl.get("section").getStringValue() : null, pl.get("text").getStringValue(),
                    pl.containsKey("wrapped_key") ? pl.get("wrapped_key").getStringValue() : null,
                    EventJson.decodeMap(pl.get("metadata").getStringValue())));
        }
        return hits;
    }

    /** The caller's rights and the request's filters, translated to one Qdrant filter. */
    static Filter filter(SearchQuery query) {
        Filter.Builder f = Filter.newBuilder().addMust(matchKeyword("collection", query.collection()));
        if (query.departments() != null) {
            List<String> allowed = new ArrayList<>(query.departments());
            allowed.add(NO_DEPARTMENT);
            f.addMust(matchKeywords("department", allowed));
        }
        if (!query.cleared()) {
            f.addMust(match("confidential", false));
        }
        query.filters().forEach((key, values) -> {
            switch (key) {
                case "confidential" -> {
                    if (values.size() == 1) { // both true and false: no constraint
                        f.addMust(match("confidential", Boolean.parseBoolean(values.get(0))));
                    }
                }
                case "department", "document_id" -> f.addMust(matchKeywords(key, values));
                default -> f.addMust(matchKeywords("m." + key, values));
            }
        });
        return f.build();
    }

    private static <T> T get(Future<T> future) throws IOException {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for Qdrant", e);
        } catch (ExecutionException e) {
            throw new IOException("Qdrant: " + e.getCause().getMessage(), e.getCause());
        }
    }

    @Override
    public boolean ranksKeywords() {
        return false;
    }

    @Override
    public void close() {
        client.close();
    }
}
