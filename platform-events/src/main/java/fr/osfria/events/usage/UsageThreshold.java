package fr.osfria.events.usage;

import jakarta.validation.constraints.NotBlank;

/**
 * Public {@code usage.threshold}: a key crossed a fraction of its token quota in a window
 * ({@code daily} / {@code monthly}); {@code period} names the window, e.g. {@code 2026-11-26} or {@code 2026-11}.
 */
public record UsageThreshold(
        @NotBlank String keyName,
        @NotBlank String window,
        @NotBlank String period,
        double fraction,
        long tokensUsed,
        long tokenQuota) {
}
