package fr.osfria.events.usage;

import jakarta.validation.constraints.NotBlank;
import java.time.Instant;

/** Internal: the exact token usage of one inference request. */
public record UsageRecord(
        @NotBlank String requestId,
        @NotBlank String keyName,
        @NotBlank String model,
        String backend,
        long promptTokens,
        long completionTokens,
        long totalTokens,
        boolean stream,
        @NotBlank String outcome,
        Instant time) {
}
