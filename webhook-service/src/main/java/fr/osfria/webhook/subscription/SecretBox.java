package fr.osfria.webhook.subscription;

import fr.osfria.security.crypto.Aead;
import fr.osfria.security.crypto.Envelope;
import jakarta.enterprise.context.ApplicationScoped;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/** Webhook secrets at rest: sealed under a key derived from the platform's KEK, bound to the subscription id. */
@ApplicationScoped
public class SecretBox {

    private static final SecureRandom RANDOM = new SecureRandom();
    private final Envelope envelope;

    public SecretBox(Envelope envelope) {
        this.envelope = envelope;
    }

    public boolean available() {
        return envelope.available();
    }

    /** A new Standard Webhooks secret: {@code whsec_} and 24 random bytes in base64. */
    public static String generate() {
        byte[] bytes = new byte[24];
        RANDOM.nextBytes(bytes);
        return "whsec_" + Base64.getEncoder().encodeToString(bytes);
    }

    public String seal(String subscriptionId, String secret) {
        return Aead.sealText(key(), secret, subscriptionId);
    }

    public String open(String subscriptionId, String sealed) throws GeneralSecurityException {
        return Aead.openText(key(), sealed, subscriptionId);
    }

    private SecretKey key() {
        return new SecretKeySpec(envelope.derivedKey("osfria-webhook-secrets-v1").getEncoded(), "AES");
    }
}
