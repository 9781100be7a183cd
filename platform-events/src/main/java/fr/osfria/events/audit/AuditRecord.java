package fr.osfria.events.audit;

import jakarta.validation.constraints.NotBlank;
import java.time.Instant;

/**
 * One audited request: who ({@code keyName}), what ({@code action} on {@code target} in {@code collection}),
 * when, and with what {@code outcome} ({@code ok}, {@code denied}, {@code not_found}, {@code invalid}, {@code error}).
 */
public record AuditRecord(
        @NotBlank String service,
        @NotBlank String keyName,
        @NotBlank String action,
        String target,
        String collection,
        @NotBlank String outcome,
        Instant time,
        String detail) {
}
