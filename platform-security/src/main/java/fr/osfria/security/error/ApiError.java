package fr.osfria.security.error;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * The one error body of the platform, OpenAI's shape: {@code {"error":{"message","type","code"}}}. OpenAI SDKs
 * read it on the inference paths, and one shape everywhere is simpler for every other client.
 */
public record ApiError(Detail error) {

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Detail(String message, String type, String code) {
    }

    public static ApiError of(String message, String type, String code) {
        return new ApiError(new Detail(message, type, code));
    }
}
