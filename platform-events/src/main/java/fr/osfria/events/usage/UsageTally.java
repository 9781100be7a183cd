package fr.osfria.events.usage;

import jakarta.validation.constraints.NotBlank;
import java.time.Instant;

/**
 * Internal: the tokens of {@code requests} usage records of one key, all within the minute starting at {@code time},
 * sent together by one router replica.
 */
public record UsageTally(@NotBlank String keyName, Instant time, long totalTokens, long requests) {
}
