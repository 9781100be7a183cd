package fr.osfria.webhook.subscription;

import fr.osfria.security.crypto.Keyring;
import jakarta.enterprise.context.ApplicationScoped;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Webhook secrets at rest: sealed under a key derived from the active KEK, bound to the subscription id, stored as
 * {@code <kek id>:<sealed>} so that a retired KEK still opens them and a re-seal can move them to the active one.
 */
@ApplicationScoped
public class SecretBox {

    static final String PURPOSE = "osfria-webhook-secrets-v1";
    private static final SecureRandom RANDOM = new SecureRandom();
    private final Keyring keyring;

    public SecretBox(Keyring keyring) {
        this.keyring = keyring;
    }

    public boolean available() {
        return keyring.available();
    }

    /** A new Standard Webhooks secret: {@code whsec_} and 24 random bytes in base64. */
    public static String generate() {
        byte[] bytes = new byte[24];
        RANDOM.nextBytes(bytes);
        return "whsec_" + Base64.getEncoder().encodeToString(bytes);
    }

    public String seal(String subscriptionId, String secret) {
        return keyring.seal(PURPOSE, secret, subscriptionId);
    }

    /** Opens a secret sealed under any KEK of the keyring (or, from before versioning, without its id). */
    public String open(String subscriptionId, String sealed) throws GeneralSecurityException {
        return keyring.open(PURPOSE, sealed, subscriptionId);
    }

    /** The same secret sealed under the active KEK. */
    String reseal(String subscriptionId, String sealed) throws GeneralSecurityException {
        return keyring.reseal(PURPOSE, sealed, subscriptionId);
    }

    boolean underActive(String sealed) {
        return keyring.underActive(sealed);
    }

    Keyring keyring() {
        return keyring;
    }
}
