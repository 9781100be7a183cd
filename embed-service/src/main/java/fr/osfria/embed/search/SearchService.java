package fr.osfria.embed.search;

import fr.osfria.embed.embedding.Embedder;
import fr.osfria.embed.index.IndexHolder;
import fr.osfria.embed.index.SearchHit;
import fr.osfria.embed.index.SearchQuery;
import fr.osfria.embed.indexing.ChunkPreparer;
import fr.osfria.security.crypto.Aead;
import fr.osfria.security.crypto.Envelope;
import fr.osfria.security.crypto.SealedFields;
import fr.osfria.security.key.KeyEntry;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.crypto.SecretKey;

/**
 * Runs a search for a key: its rights go into the store query, so a forbidden chunk can neither be returned nor
 * change the count; confidential hits (only ever found for cleared keys) are opened for the answer. Blocking.
 */
@ApplicationScoped
public class SearchService {

    private final IndexHolder index;
    private final Embedder embedder;
    private final Envelope envelope;
    private final ChunkPreparer preparer;
    private final Timer searchTimer;

    public SearchService(IndexHolder index, Embedder embedder, Envelope envelope, ChunkPreparer preparer, MeterRegistry metrics) {
        this.index = index;
        this.embedder = embedder;
        this.envelope = envelope;
        this.preparer = preparer;
        this.searchTimer = Timer.builder("osfria.embed.search").description("search latency, query embedding included")
                .publishPercentileHistogram().register(metrics);
    }

    public SearchResponse search(KeyEntry key, SearchRequest request, Map<String, List<String>> filters) throws IOException {
        long start = System.nanoTime();
        SearchQuery.Mode mode = request.mode() == null ? SearchQuery.Mode.HYBRID
                : SearchQuery.Mode.valueOf(request.mode().toUpperCase(Locale.ROOT));
        if (!index.store().ranksKeywords()) {
            mode = SearchQuery.Mode.DENSE;
        }
        boolean cleared = key.admin() || key.confidential();
        List<String> departments = key.admin() || key.departments().contains(KeyEntry.ALL) ? null : key.departments();
        float[] vector = mode == SearchQuery.Mode.KEYWORD ? null : embedder.query(request.query());
        // chunks sealed before a KEK rotation and not re-sealed yet are keyed by a retired KEK: ask for both
        String blind = cleared && mode != SearchQuery.Mode.DENSE && envelope.available()
                ? preparer.blindQueryTerms(request.query()) : null;
        // a cleared caller's metadata filters also match confidential chunks, whose values are indexed as hashes
        Map<String, List<String>> storeFilters = cleared && envelope.available() ? preparer.widenFilters(filters) : filters;
        List<SearchHit> hits = index.store().search(new SearchQuery(request.collection(), departments, cleared, storeFilters, mode,
                vector, request.query(), blind, request.topKOrDefault()));
        List<SearchResponse.Result> results = new ArrayList<>();
        for (SearchHit hit : hits) {
            if (request.scoreThreshold() != null && hit.score() < request.scoreThreshold()) {
                continue;
            }
            results.add(toResult(hit));
        }
        long elapsed = System.nanoTime() - start;
        searchTimer.record(elapsed, java.util.concurrent.TimeUnit.NANOSECONDS);
        return new SearchResponse(results, results.size(), elapsed / 1_000_000);
    }

    private SearchResponse.Result toResult(SearchHit hit) throws IOException {
        String content = hit.text();
        String section = hit.section();
        Map<String, Object> metadata = new LinkedHashMap<>(hit.metadata());
        if (hit.confidential() && hit.wrappedKey() != null) {
            try {
                SecretKey dataKey = envelope.unwrap(hit.wrappedKey());
                content = Aead.openText(dataKey, content, hit.chunkId());
                section = section == null ? null : Aead.openText(dataKey, section, hit.chunkId() + "#section");
                metadata = SealedFields.openMetadata(dataKey, hit.documentId(), metadata);
            } catch (GeneralSecurityException e) {
                throw new IOException("a confidential chunk cannot be opened: " + e.getMessage(), e);
            }
        }
        if (hit.page() != null) {
            metadata.put("page", hit.page());
        }
        if (section != null) {
            metadata.put("section", section);
        }
        return new SearchResponse.Result(hit.documentId(), hit.chunkId(), content, hit.score(), metadata);
    }
}
