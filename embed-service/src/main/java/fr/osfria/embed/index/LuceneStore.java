package fr.osfria.embed.index;

import fr.osfria.events.EventJson;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.core.WhitespaceAnalyzer;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.fr.FrenchAnalyzer;
import org.apache.lucene.analysis.miscellaneous.PerFieldAnalyzerWrapper;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.IntPoint;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.BooleanClause.Occur;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.MatchAllDocsQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.search.TermInSetQuery;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.util.BytesRef;
import org.apache.lucene.util.QueryBuilder;

/**
 * The embedded vector store: one Lucene index on local disk with an HNSW vector field, BM25 text fields analysed
 * in French and in English, a blind-index field for confidential chunks, and the permission and metadata fields
 * every query filters on inside the search. Writes become durable at {@link #commit()}.
 */
public class LuceneStore implements VectorStore {

    /** Reciprocal-rank fusion constant, as in the original RRF paper. */
    private static final int RRF_K = 60;
    private static final String NO_DEPARTMENT = "\u0000none";
    /** Candidates the HNSW search explores for a dense top-k (at least top_k): 30 measured recall@10 0.98 at 100k. */
    private static final int DENSE_CANDIDATES = 30;
    private static final String MODEL = "osfria.model";
    private static final String DIMENSION = "osfria.dimension";
    /** Tombstones are documents of their own kind: no collection, so no search ever matches one. */
    private static final String KIND = "kind";
    private static final String TOMBSTONE = "tombstone";
    private static final String SEALED = "sealed";
    private static final String KEK = "kek";
    /** The stored fields a search hit is made of. */
    private static final java.util.Set<String> HIT_FIELDS = java.util.Set.of("id", "document_id", "version", "confidential",
            "page", "section", "text", "wrapped_key", "metadata");

    private static final java.util.concurrent.ExecutorService SEARCH_THREADS = java.util.concurrent.Executors.newFixedThreadPool(
            Runtime.getRuntime().availableProcessors(), r -> {
                Thread t = new Thread(r, "osfria-search");
                t.setDaemon(true);
                return t;
            });

    private final FSDirectory directory;
    private final IndexWriter writer;
    private final SearcherManager searchers;
    private final Analyzer french = new FrenchAnalyzer();
    private final Analyzer english = new EnglishAnalyzer();
    private final int dimension;
    /** Every tombstone's floor by document id, read from the index at start and kept current by {@link #retire}. */
    private final Map<String, Integer> floors = new java.util.concurrent.ConcurrentHashMap<>();

    /** Null when the store does not compact itself. */
    private final IdleCompaction compaction;
    private final java.time.Duration closePatience;

    /**
     * When the index is merged into one segment in the background: once no write has come for {@code whenIdleFor}
     * (and it pays, see {@link IdleCompaction}); {@link #close()} waits {@code closePatience} at most for a running one.
     */
    public record Compaction(java.time.Duration whenIdleFor, java.time.Duration closePatience) {
        /** Closing waits less than the 15 s the launcher gives a service to stop before it kills it. */
        public static final Compaction DEFAULT = new Compaction(java.time.Duration.ofSeconds(30), java.time.Duration.ofSeconds(10));
    }

    /**
     * Opens (or creates) the index at {@code dir} for {@code model}. An index built by another model is refused:
     * its vectors would be compared with vectors they have nothing in common with. No compaction in the background
     * (tests, a re-index's target): see {@link #LuceneStore(Path, String, int, Compaction)}.
     */
    public LuceneStore(Path dir, String model, int dimension) throws IOException {
        this(dir, model, dimension, null);
    }

    /**
     * The same, and once writes pause the index is merged into one segment in the background ({@link #compact()}):
     * a dense search explores each segment's HNSW graph in turn, so its cost grows with the number of segments,
     * which indexing (a commit per batch) keeps creating.
     */
    public LuceneStore(Path dir, String model, int dimension, Compaction compaction) throws IOException {
        Files.createDirectories(dir);
        this.directory = FSDirectory.open(dir);
        this.dimension = dimension;
        if (DirectoryReader.indexExists(directory)) {
            Map<String, String> data = new HashMap<>();
            try (DirectoryReader reader = DirectoryReader.open(directory)) {
                data.putAll(reader.getIndexCommit().getUserData());
            }
            String builtWith = data.get(MODEL);
            if (builtWith != null && (!builtWith.equals(model) || !String.valueOf(dimension).equals(data.get(DIMENSION)))) {
                directory.close();
                throw new IllegalStateException("the index in " + dir + " was built with model " + builtWith + " ("
                        + data.get(DIMENSION) + " dimensions), not " + model + " (" + dimension
                        + "); re-index with the new model, or start with the model that built it");
            }
        }
        Map<String, Analyzer> perField = Map.of("text_fr", french, "text_en", english, "blind", new WhitespaceAnalyzer());
        IndexWriterConfig config = new IndexWriterConfig(new PerFieldAnalyzerWrapper(new WhitespaceAnalyzer(), perField));
        config.setCommitOnClose(true);
        config.setRAMBufferSizeMB(64); // fewer, larger segments: a search visits each segment's graph
        this.writer = new IndexWriter(directory, config);
        writer.setLiveCommitData(Map.of(MODEL, model, DIMENSION, String.valueOf(dimension)).entrySet());
        // segments are searched in parallel, one task per core
        this.searchers = new SearcherManager(writer, new org.apache.lucene.search.SearcherFactory() {
            @Override
            public IndexSearcher newSearcher(org.apache.lucene.index.IndexReader reader, org.apache.lucene.index.IndexReader previous) {
                return new IndexSearcher(reader, SEARCH_THREADS);
            }
        });
        withSearcher(searcher -> {
            Query tombstones = new TermQuery(new Term(KIND, TOMBSTONE));
            for (ScoreDoc sd : searcher.search(tombstones, Math.max(1, searcher.count(tombstones))).scoreDocs) {
                Document t = searcher.storedFields().document(sd.doc);
                floors.merge(t.get("tombstone_of"), t.getField("floor").numericValue().intValue(), Math::max);
            }
            return null;
        });
        this.closePatience = compaction == null ? java.time.Duration.ZERO : compaction.closePatience();
        this.compaction = compaction == null ? null : new IdleCompaction(this, dir, compaction, largestMergedSegmentBytes(config));
    }

    private static long largestMergedSegmentBytes(IndexWriterConfig config) {
        return config.getMergePolicy() instanceof org.apache.lucene.index.TieredMergePolicy tiered
                ? (long) (tiered.getMaxMergedSegmentMB() * 1024 * 1024) : Long.MAX_VALUE;
    }

    private void written() {
        if (compaction != null) {
            compaction.written();
        }
    }

    /**
     * Merges the index into one segment, if it has more, and commits it. At 100,000 chunks a dense search over one
     * segment cost a third of the CPU it took over four (p95 1.4 against 3.5 ms) with a higher recall (bench/RESULTS.md).
     * The merge builds on the largest segment's graph and inserts the others' vectors: its cost is the chunks
     * written since the last compaction, plus copying the rest. Searches and writes go on meanwhile.
     */
    public boolean compact() throws IOException {
        if (segmentCount() <= 1) {
            return false;
        }
        writer.forceMerge(1);
        commit();
        return true;
    }

    /** Segments the searches see now. */
    public int segmentCount() throws IOException {
        return withSearcher(s -> s.getIndexReader().leaves().size());
    }

    /** What {@link IdleCompaction} weighs before merging the segments searches see now. */
    IdleCompaction.Segments segments() throws IOException {
        return withSearcher(s -> {
            long docs = 0;
            long bytes = 0;
            org.apache.lucene.index.LeafReader largest = null;
            for (org.apache.lucene.index.LeafReaderContext leaf : s.getIndexReader().leaves()) {
                org.apache.lucene.index.LeafReader reader = leaf.reader();
                docs += reader.maxDoc();
                bytes += ((org.apache.lucene.index.SegmentReader) org.apache.lucene.index.FilterLeafReader.unwrap(reader))
                        .getSegmentInfo().sizeInBytes();
                if (largest == null || reader.maxDoc() > largest.maxDoc()) {
                    largest = reader;
                }
            }
            return new IdleCompaction.Segments(s.getIndexReader().leaves().size(), docs,
                    largest == null ? 0 : largest.numDocs(), bytes);
        });
    }

    /** Adds or replaces chunks by id: a redelivered chunk overwrites itself. */
    @Override
    public synchronized void upsert(Collection<IndexedChunk> chunks) throws IOException {
        written();
        for (IndexedChunk chunk : chunks) {
            if (chunk.vector().length != dimension) {
                throw new IllegalArgumentException("vector of " + chunk.vector().length + " dimensions, the index has " + dimension);
            }
            writer.updateDocument(new Term("id", chunk.chunkId()), toDocument(chunk));
        }
    }

    /**
     * The floor counts at once in memory (searches and {@link #retired} honour it before the commit); the tombstone
     * document, one per floor so concurrent retirements never lower one, becomes durable with the next commit.
     */
    @Override
    public synchronized void retire(String documentId, int floor) throws IOException {
        written();
        floors.merge(documentId, floor, Math::max);
        Document tombstone = new Document();
        tombstone.add(new StringField(KIND, TOMBSTONE, Field.Store.NO));
        tombstone.add(new StringField("tombstone_id", documentId + "#" + floor, Field.Store.NO));
        tombstone.add(new StoredField("tombstone_of", documentId));
        tombstone.add(new StoredField("floor", floor));
        writer.updateDocument(new Term("tombstone_id", documentId + "#" + floor), tombstone);
        deleteVersionsBefore(documentId, floor);
    }

    @Override
    public boolean retired(String documentId, int version) {
        Integer floor = floors.get(documentId);
        return floor != null && version < floor;
    }

    /** Drops a document's chunks of versions before {@code version}: a new version replaces them. */
    @Override
    public synchronized void deleteVersionsBefore(String documentId, int version) throws IOException {
        written();
        writer.deleteDocuments(new BooleanQuery.Builder()
                .add(new TermQuery(new Term("document_id", documentId)), Occur.FILTER)
                .add(IntPoint.newRangeQuery("version", Integer.MIN_VALUE, version - 1), Occur.FILTER)
                .build());
    }

    /** Makes every write so far durable and visible to searches. */
    @Override
    public void commit() throws IOException {
        boolean changes = writer.hasUncommittedChanges();
        writer.commit();
        searchers.maybeRefreshBlocking();
        if (changes) {
            written(); // a pause counts from when the writes are visible: a commit can take longer than the pause
        }
    }

    /** How many chunks of this version of a document are searchable now. */
    @Override
    public int count(String documentId, int version) throws IOException {
        return withSearcher(s -> s.count(new BooleanQuery.Builder()
                .add(new TermQuery(new Term("document_id", documentId)), Occur.FILTER)
                .add(IntPoint.newExactQuery("version", version), Occur.FILTER)
                .build()));
    }

    /** Whether a version newer than {@code version} of the document is indexed (a late chunk must not come back). */
    @Override
    public boolean hasNewerVersion(String documentId, int version) throws IOException {
        return withSearcher(s -> s.count(new BooleanQuery.Builder()
                .add(new TermQuery(new Term("document_id", documentId)), Occur.FILTER)
                .add(IntPoint.newRangeQuery("version", version + 1, Integer.MAX_VALUE), Occur.FILTER)
                .build()) > 0);
    }

    @Override
    public int size() throws IOException {
        return withSearcher(s -> s.count(new BooleanQuery.Builder().add(new MatchAllDocsQuery(), Occur.MUST)
                .add(new TermQuery(new Term(KIND, TOMBSTONE)), Occur.MUST_NOT).build()));
    }

    @Override
    public List<SearchHit> search(SearchQuery query) throws IOException {
        return withSearcher(searcher -> {
            Query filter = filter(query);
            // HNSW is approximate: exploring more candidates than asked for buys recall for little time
            int candidates = query.mode() == SearchQuery.Mode.HYBRID ? Math.max(50, query.topK() * 4) : Math.max(DENSE_CANDIDATES, query.topK());
            List<ScoredDoc> dense = query.mode() == SearchQuery.Mode.KEYWORD ? List.of() : dense(searcher, query, filter, candidates);
            List<ScoredDoc> keyword = query.mode() == SearchQuery.Mode.DENSE ? List.of() : keyword(searcher, query, filter, candidates);
            List<ScoredDoc> ranked = switch (query.mode()) {
                case DENSE -> dense;
                case KEYWORD -> normalise(keyword);
                case HYBRID -> fuse(searcher, query, dense, keyword);
            };
            List<SearchHit> hits = new ArrayList<>();
            // one reader of stored fields per search, and only the fields of a hit (not the stored vector: 1.5 KB)
            org.apache.lucene.index.StoredFields stored = searcher.storedFields();
            for (ScoredDoc d : ranked) {
                if (hits.size() == query.topK()) {
                    break;
                }
                Document doc = stored.document(d.doc(), HIT_FIELDS);
                // retired but not yet committed away: already gone as far as any caller can tell
                if (!retired(doc.get("document_id"), doc.getField("version").numericValue().intValue())) {
                    hits.add(toHit(doc, d.score()));
                }
            }
            return hits;
        });
    }

    private record ScoredDoc(int doc, float score) {
    }

    /** Nearest neighbours among the permitted chunks only: the filter runs inside the HNSW search. */
    private List<ScoredDoc> dense(IndexSearcher searcher, SearchQuery query, Query filter, int k) throws IOException {
        TopDocs top = searcher.search(new KnnFloatVectorQuery("vector", query.vector(), k, filter), k);
        List<ScoredDoc> result = new ArrayList<>();
        for (ScoreDoc sd : top.scoreDocs) {
            result.add(new ScoredDoc(sd.doc, 2 * sd.score - 1)); // Lucene's dot-product score back to cosine
        }
        return result;
    }

    private List<ScoredDoc> keyword(IndexSearcher searcher, SearchQuery query, Query filter, int k) throws IOException {
        BooleanQuery.Builder words = new BooleanQuery.Builder();
        add(words, new QueryBuilder(french).createBooleanQuery("text_fr", query.keywordText()));
        add(words, new QueryBuilder(english).createBooleanQuery("text_en", query.keywordText()));
        if (query.cleared() && query.blindTerms() != null && !query.blindTerms().isBlank()) {
            add(words, new QueryBuilder(new WhitespaceAnalyzer()).createBooleanQuery("blind", query.blindTerms()));
        }
        BooleanQuery wordsQuery = words.build();
        if (wordsQuery.clauses().isEmpty()) {
            return List.of(); // only stop words
        }
        TopDocs top = searcher.search(new BooleanQuery.Builder().add(wordsQuery, Occur.MUST).add(filter, Occur.FILTER).build(), k);
        List<ScoredDoc> result = new ArrayList<>();
        for (ScoreDoc sd : top.scoreDocs) {
            result.add(new ScoredDoc(sd.doc, sd.score));
        }
        return result;
    }

    /** BM25 scores have no fixed scale: relative to the best hit, so a threshold means the same across queries. */
    private static List<ScoredDoc> normalise(List<ScoredDoc> keyword) {
        if (keyword.isEmpty()) {
            return keyword;
        }
        float best = keyword.get(0).score();
        return keyword.stream().map(d -> new ScoredDoc(d.doc(), best > 0 ? d.score() / best : 0)).toList();
    }

    /**
     * Reciprocal-rank fusion of the dense and keyword lists; each hit keeps its cosine similarity to the query as
     * its score, so {@code score_threshold} means the same in dense and hybrid modes.
     */
    private List<ScoredDoc> fuse(IndexSearcher searcher, SearchQuery query, List<ScoredDoc> dense, List<ScoredDoc> keyword)
            throws IOException {
        Map<Integer, Double> rrf = new LinkedHashMap<>();
        Map<Integer, Float> cosine = new HashMap<>();
        for (int i = 0; i < dense.size(); i++) {
            rrf.merge(dense.get(i).doc(), 1.0 / (RRF_K + i + 1), Double::sum);
            cosine.put(dense.get(i).doc(), dense.get(i).score());
        }
        for (int i = 0; i < keyword.size(); i++) {
            rrf.merge(keyword.get(i).doc(), 1.0 / (RRF_K + i + 1), Double::sum);
        }
        List<ScoredDoc> fused = new ArrayList<>();
        for (var e : rrf.entrySet().stream().sorted((a, b) -> Double.compare(b.getValue(), a.getValue())).toList()) {
            Float cos = cosine.get(e.getKey());
            if (cos == null) {
                cos = dot(query.vector(), storedVector(searcher, e.getKey()));
            }
            fused.add(new ScoredDoc(e.getKey(), cos));
        }
        return fused;
    }

    private static float[] storedVector(IndexSearcher searcher, int doc) throws IOException {
        BytesRef bytes = searcher.storedFields().document(doc).getBinaryValue("vector_stored");
        ByteBuffer buffer = ByteBuffer.wrap(bytes.bytes, bytes.offset, bytes.length);
        float[] v = new float[bytes.length / 4];
        for (int i = 0; i < v.length; i++) {
            v[i] = buffer.getFloat();
        }
        return v;
    }

    private static float dot(float[] a, float[] b) {
        float s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    /** The caller's rights and the request's filters, as one query every search runs inside. */
    private static Query filter(SearchQuery query) {
        BooleanQuery.Builder filter = new BooleanQuery.Builder()
                .add(new TermQuery(new Term("collection", query.collection())), Occur.FILTER);
        if (query.departments() != null) {
            List<BytesRef> allowed = new ArrayList<>();
            allowed.add(new BytesRef(NO_DEPARTMENT));
            query.departments().forEach(d -> allowed.add(new BytesRef(d)));
            filter.add(new TermInSetQuery("department", allowed), Occur.FILTER);
        }
        if (!query.cleared()) {
            filter.add(new TermQuery(new Term("confidential", "false")), Occur.FILTER);
        }
        query.filters().forEach((key, values) -> filter.add(new TermInSetQuery(filterField(key),
                values.stream().map(BytesRef::new).toList()), Occur.FILTER));
        return filter.build();
    }

    private static String filterField(String key) {
        return switch (key) {
            case "department", "confidential", "document_id" -> key;
            default -> "m." + key;
        };
    }

    private static void add(BooleanQuery.Builder words, Query q) {
        if (q != null) {
            words.add(q, Occur.SHOULD);
        }
    }

    private Document toDocument(IndexedChunk c) {
        Document doc = new Document();
        doc.add(new StringField("id", c.chunkId(), Field.Store.YES));
        doc.add(new StringField("document_id", c.documentId(), Field.Store.YES));
        doc.add(new IntPoint("version", c.version()));
        doc.add(new StoredField("version", c.version()));
        doc.add(new StoredField("ordinal", c.ordinal()));
        doc.add(new StoredField("total", c.totalChunks()));
        doc.add(new StringField("collection", c.collection(), Field.Store.YES));
        doc.add(new StringField("department", c.department() == null ? NO_DEPARTMENT : c.department(), Field.Store.YES));
        doc.add(new StringField("confidential", String.valueOf(c.confidential()), Field.Store.YES));
        if (c.page() != null) {
            doc.add(new StoredField("page", c.page()));
        }
        if (c.section() != null) {
            doc.add(new StoredField("section", c.section()));
        }
        doc.add(new StoredField("text", c.text()));
        if (c.wrappedKey() != null) {
            doc.add(new StoredField("wrapped_key", c.wrappedKey()));
            // the KEK of the wrapped key and of the blind terms: what a re-seal after a rotation looks for
            doc.add(new StringField(SEALED, "true", Field.Store.NO));
            String kek = fr.osfria.security.crypto.Keyring.idOf(c.wrappedKey());
            doc.add(new StringField(KEK, kek == null ? "" : kek, Field.Store.NO));
        }
        doc.add(new StoredField("metadata", EventJson.encodeMap(c.metadata())));
        c.filterTerms().forEach((key, values) -> values.forEach(v -> doc.add(new StringField("m." + key, v, Field.Store.NO))));
        if (c.keywordText() != null) {
            doc.add(new TextField("text_fr", c.keywordText(), Field.Store.NO));
            doc.add(new TextField("text_en", c.keywordText(), Field.Store.NO));
        }
        if (c.blindTerms() != null) {
            doc.add(new TextField("blind", c.blindTerms(), Field.Store.NO));
        }
        doc.add(new KnnFloatVectorField("vector", c.vector(), VectorSimilarityFunction.DOT_PRODUCT));
        ByteBuffer buffer = ByteBuffer.allocate(c.vector().length * 4);
        for (float f : c.vector()) {
            buffer.putFloat(f);
        }
        doc.add(new StoredField("vector_stored", buffer.array()));
        return doc;
    }

    private static SearchHit toHit(Document d, float score) {
        return new SearchHit(d.get("id"), d.get("document_id"), score, Boolean.parseBoolean(d.get("confidential")),
                d.getField("page") == null ? null : d.getField("page").numericValue().intValue(), d.get("section"),
                d.get("text"), d.get("wrapped_key"), EventJson.decodeMap(d.get("metadata")));
    }

    /**
     * Rebuilds the index in {@code dir} for another model: every chunk is read back from the old index, turned
     * into a new chunk by {@code rebuild} (re-embedding it), and written to a new index that then takes the old
     * one's place. The old index is kept beside it, renamed, until someone removes it.
     */
    public static int reindex(Path dir, String model, int dimension,
                              java.util.function.Function<StoredChunk, IndexedChunk> rebuild) throws IOException {
        Path fresh = dir.resolveSibling(dir.getFileName() + ".reindex");
        if (Files.exists(fresh)) {
            try (var files = Files.walk(fresh)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        int count = 0;
        try (FSDirectory old = FSDirectory.open(dir); DirectoryReader reader = DirectoryReader.open(old);
             LuceneStore target = new LuceneStore(fresh, model, dimension)) {
            var stored = reader.storedFields();
            var live = org.apache.lucene.index.MultiBits.getLiveDocs(reader);
            List<IndexedChunk> batch = new ArrayList<>();
            for (int i = 0; i < reader.maxDoc(); i++) {
                if (live != null && !live.get(i)) {
                    continue;
                }
                Document doc = stored.document(i);
                if (doc.get("tombstone_of") != null) { // tombstones outlive the model
                    target.retire(doc.get("tombstone_of"), doc.getField("floor").numericValue().intValue());
                    continue;
                }
                batch.add(rebuild.apply(toStored(doc)));
                if (batch.size() == 256) {
                    target.upsert(batch);
                    count += batch.size();
                    batch.clear();
                }
            }
            target.upsert(batch);
            count += batch.size();
            target.commit();
        }
        Files.move(dir, dir.resolveSibling(dir.getFileName() + ".before-reindex-" + System.currentTimeMillis()));
        Files.move(fresh, dir);
        return count;
    }

    @Override
    public int sealedOutside(String kekId) throws IOException {
        return withSearcher(s -> s.count(sealedOutside(kekId, java.util.Set.of())));
    }

    /**
     * Re-seals up to {@code max} sealed chunks not under {@code kekId}, skipping the ids in {@code skip} (those it
     * cannot open are added there). The chunks are read and written back under the store's lock, after the writer's
     * pending deletions are visible, so a chunk deleted meanwhile is never written back.
     */
    @Override
    public synchronized int reseal(String kekId, int max, java.util.Set<String> skip, Resealing resealing) throws IOException {
        searchers.maybeRefreshBlocking();
        List<IndexedChunk> resealed = new ArrayList<>();
        withSearcher(s -> {
            for (ScoreDoc sd : s.search(sealedOutside(kekId, skip), max).scoreDocs) {
                Document d = s.storedFields().document(sd.doc);
                StoredChunk c = toStored(d);
                IndexedChunk sealed = new IndexedChunk(c.chunkId(), c.documentId(), c.version(), c.ordinal(), c.totalChunks(),
                        c.collection(), c.department(), c.confidential(), c.page(), c.section(), c.text(), c.wrappedKey(),
                        c.metadata(), storedVector(s, sd.doc), null, null);
                IndexedChunk next = resealing.reseal(sealed);
                if (next == null) {
                    skip.add(c.chunkId());
                } else {
                    resealed.add(next);
                }
            }
            return null;
        });
        written();
        for (IndexedChunk c : resealed) {
            writer.updateDocument(new Term("id", c.chunkId()), toDocument(c));
        }
        commit();
        return resealed.size();
    }

    private static Query sealedOutside(String kekId, java.util.Set<String> skip) {
        BooleanQuery.Builder q = new BooleanQuery.Builder()
                .add(new TermQuery(new Term(SEALED, "true")), Occur.FILTER)
                .add(new TermQuery(new Term(KEK, kekId)), Occur.MUST_NOT);
        if (!skip.isEmpty()) {
            q.add(new TermInSetQuery("id", skip.stream().map(BytesRef::new).toList()), Occur.MUST_NOT);
        }
        return q.build();
    }

    private static StoredChunk toStored(Document d) {
        return new StoredChunk(d.get("id"), d.get("document_id"), d.getField("version").numericValue().intValue(),
                d.getField("ordinal").numericValue().intValue(), d.getField("total").numericValue().intValue(),
                d.get("collection"), NO_DEPARTMENT.equals(d.get("department")) ? null : d.get("department"),
                Boolean.parseBoolean(d.get("confidential")),
                d.getField("page") == null ? null : d.getField("page").numericValue().intValue(), d.get("section"),
                d.get("text"), d.get("wrapped_key"), EventJson.decodeMap(d.get("metadata")));
    }

    @FunctionalInterface
    private interface SearcherWork<T> {
        T apply(IndexSearcher searcher) throws IOException;
    }

    private <T> T withSearcher(SearcherWork<T> work) throws IOException {
        IndexSearcher searcher = searchers.acquire();
        try {
            return work.apply(searcher);
        } finally {
            searchers.release(searcher);
        }
    }

    @Override
    public void close() throws IOException {
        if (compaction != null && !compaction.stop(closePatience)) {
            // IndexWriter.close waits for running merges, and Lucene 9.12 cannot abort one building its vector graph
            // (minutes at 100,000 chunks): every write is committed instead, and the writer is left to the process's
            // exit (the merge's unfinished files are deleted when the index is next opened)
            commit();
            searchers.close();
            io.quarkus.logging.Log.warn("the index was being compacted: writes committed, the merge abandoned (tried again after the next pause)");
            return;
        }
        searchers.close();
        writer.close();
        directory.close();
    }
}
