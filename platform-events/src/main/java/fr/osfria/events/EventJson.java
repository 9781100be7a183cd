package fr.osfria.events;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

/**
 * The one JSON form of events on the wire: ISO-8601 times, unknown fields ignored so that a newer producer
 * does not break an older consumer.
 */
public final class EventJson {

    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .addModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    public static String encode(CloudEvent<?> event) {
        try {
            return MAPPER.writeValueAsString(event);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("event cannot be written as JSON: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * Reads an envelope and its data.
     *
     * @throws MalformedEventException when the text is not a CloudEvent carrying {@code dataType}
     */
    public static <T> CloudEvent<T> decode(String json, Class<T> dataType) {
        JavaType type = MAPPER.getTypeFactory().constructParametricType(CloudEvent.class, dataType);
        CloudEvent<T> event;
        try {
            event = MAPPER.readValue(json, type);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new MalformedEventException("not a CloudEvent with " + dataType.getSimpleName() + " data: "
                    + (e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()), e);
        }
        if (event == null || event.id() == null || event.id().isBlank() || event.type() == null || event.data() == null) {
            throw new MalformedEventException("CloudEvent without id, type or data");
        }
        return event;
    }

    private static final com.fasterxml.jackson.core.type.TypeReference<java.util.LinkedHashMap<String, Object>> MAP =
            new com.fasterxml.jackson.core.type.TypeReference<>() {
            };

    /** A JSON object as text (metadata kept as a column). */
    public static String encodeMap(java.util.Map<String, Object> map) {
        try {
            return MAPPER.writeValueAsString(map == null ? java.util.Map.of() : map);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not serialisable as JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** A JSON object text back as a map; blank or null text is an empty map. */
    public static java.util.Map<String, Object> decodeMap(String json) {
        if (json == null || json.isBlank()) {
            return new java.util.LinkedHashMap<>();
        }
        try {
            return MAPPER.readValue(json, MAP);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not a JSON object: " + e.getOriginalMessage(), e);
        }
    }

    /** An event that cannot be read; consumers send its record to the dead-letter topic. */
    public static final class MalformedEventException extends RuntimeException {
        public MalformedEventException(String message) {
            super(message);
        }

        public MalformedEventException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private EventJson() {
    }
}
