package fr.osfria.alert.receiver;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Alertmanager's webhook payload, version 4 (the only version Alertmanager has sent since 0.x). */
@JsonIgnoreProperties(ignoreUnknown = true)
public record AlertmanagerPayload(
        @NotNull @Pattern(regexp = "4", message = "only Alertmanager webhook payload version 4 is understood") String version,
        String groupKey,
        String status,
        String receiver,
        String externalURL,
        @NotNull @Size(max = 10_000) List<@Valid @NotNull AlertmanagerAlert> alerts) {

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record AlertmanagerAlert(
            @NotNull @Pattern(regexp = "firing|resolved", message = "status is 'firing' or 'resolved'") String status,
            @NotNull Map<String, String> labels,
            Map<String, String> annotations,
            Instant startsAt,
            Instant endsAt,
            @JsonProperty("generatorURL") String generatorUrl,
            @NotBlank String fingerprint) {
    }
}
