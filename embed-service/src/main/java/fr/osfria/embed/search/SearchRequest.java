package fr.osfria.embed.search;

import com.fasterxml.jackson.annotation.JsonProperty;
import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;
import java.util.Map;

/** {@code POST /v1/search}. Filters are equality on metadata keys; a list value means any of. */
public record SearchRequest(
        @NotBlank @Size(max = 4000) String query,
        @NotBlank @Size(max = 128) String collection,
        Map<String, Object> filters,
        @Min(1) @Max(100) @JsonProperty("top_k") Integer topK,
        @DecimalMin("-1.0") @DecimalMax("1.0") @JsonProperty("score_threshold") Double scoreThreshold,
        @Pattern(regexp = "dense|keyword|hybrid", message = "mode is dense, keyword or hybrid") String mode) {

    public int topKOrDefault() {
        return topK == null ? 5 : topK;
    }
}
