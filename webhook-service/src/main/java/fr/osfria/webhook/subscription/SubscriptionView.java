package fr.osfria.webhook.subscription;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;
import java.util.List;

/** A subscription as the API shows it; {@code secret} only in the answer that created (or rotated) it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SubscriptionView(String id, String url, List<String> events, boolean active,
                               @JsonProperty("disabled_reason") String disabledReason, String secret,
                               @JsonProperty("created_at") Instant createdAt, @JsonProperty("updated_at") Instant updatedAt) {

    static SubscriptionView of(Subscription s, String secret) {
        return new SubscriptionView(s.id, s.url, s.eventList(), s.active, s.disabledReason, secret, s.createdAt, s.updatedAt);
    }
}
