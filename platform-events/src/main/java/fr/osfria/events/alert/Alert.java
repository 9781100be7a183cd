package fr.osfria.events.alert;

import jakarta.validation.constraints.NotBlank;
import java.time.Instant;
import java.util.Map;

/** Public {@code alert.triggered} / {@code alert.resolved}: one Alertmanager alert. */
public record Alert(
        @NotBlank String alertName,
        @NotBlank String status,
        String severity,
        String summary,
        String description,
        Map<String, String> labels,
        Map<String, String> annotations,
        Instant startsAt,
        Instant endsAt,
        @NotBlank String fingerprint,
        String generatorUrl) {
}
