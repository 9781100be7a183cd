package fr.osfria.webhook.subscription;

import java.util.List;

/** {@code POST /v1/webhooks} and {@code PUT /v1/webhooks/{id}}: the seed's body. On PUT, absent fields are kept. */
public record SubscriptionRequest(String url, List<String> events, String secret, Boolean active) {
}
