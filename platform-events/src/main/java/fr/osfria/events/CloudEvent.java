package fr.osfria.events;

import com.fasterxml.jackson.annotation.JsonInclude;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import java.time.Instant;
import java.util.UUID;

/**
 * The CloudEvents 1.0 envelope (structured JSON mode) carried as the value of every Kafka record.
 * The record key is the {@code subject}: the id of the entity the event is about.
 *
 * @param <T> the event's data record, one of the records of this module
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CloudEvent<T>(
        @NotBlank String specversion,
        @NotBlank String id,
        @NotBlank String source,
        @NotBlank String type,
        @NotNull Instant time,
        String subject,
        String datacontenttype,
        T data) {

    public static final String SPEC_VERSION = "1.0";
    public static final String JSON = "application/json";

    /** A new event with a fresh id, stamped now. {@code source} names the producing service, e.g. {@code /osfria/ingest-service}. */
    public static <T> CloudEvent<T> of(String source, String type, String subject, T data) {
        return new CloudEvent<>(SPEC_VERSION, UUID.randomUUID().toString(), source, type, Instant.now(), subject, JSON, data);
    }

    /** The same event under another id: one that must be kept once however often it is sent derives its id. */
    public CloudEvent<T> withId(String newId) {
        return new CloudEvent<>(specversion, newId, source, type, time, subject, datacontenttype, data);
    }
}
