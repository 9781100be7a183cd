package fr.osfria.events.webhook;

import jakarta.validation.constraints.NotBlank;

/** Public {@code webhook.exhausted}: a delivery failed its last attempt and will not be retried. */
public record WebhookExhausted(
        @NotBlank String subscriptionId,
        @NotBlank String deliveryId,
        @NotBlank String event,
        int attempts,
        String lastError) {
}
