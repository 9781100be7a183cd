package fr.osfria.embed.search;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;

/** The seed's search answer. */
public record SearchResponse(List<Result> results, @JsonProperty("total_results") int totalResults,
                             @JsonProperty("search_time_ms") long searchTimeMs) {

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Result(@JsonProperty("document_id") String documentId, @JsonProperty("chunk_id") String chunkId,
                         String content, float score, Map<String, Object> metadata) {
    }
}
