package fr.osfria.ingest.document.service;

import fr.osfria.security.crypto.Envelope;
import fr.osfria.security.crypto.KeyedHash;
import java.io.IOException;
import java.io.InputStream;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;

/**
 * The keyed hash that finds duplicates: HMAC-SHA256 of the collection and the bytes under a key derived from the
 * KEK (never a plain hash, which confirms a guessed file), stored as {@code <kek id>:<hex>} so that a re-seal knows
 * which ones a rotation left under a retired KEK. Rows stored before carry the bare hex.
 */
public final class ContentHash {

    /** Label of the key derived from the KEK. */
    static final String LABEL = "osfria-content-hash-v1";

    private ContentHash() {
    }

    /**
     * What an upload may match: its hash under every KEK of the keyring (one read of the bytes), in the stored form,
     * the active KEK's first (what a new document stores), then the bare forms of older rows.
     */
    public static List<String> candidates(Envelope envelope, String collection, InputStream content)
            throws IOException, GeneralSecurityException {
        List<String> ids = envelope.keyring().ids();
        List<String> hashes = KeyedHash.ofAll(envelope.keyedHashes(LABEL), collection, content);
        List<String> candidates = new ArrayList<>();
        for (int i = 0; i < ids.size(); i++) {
            candidates.add(ids.get(i) + ":" + hashes.get(i));
        }
        candidates.addAll(hashes);
        return candidates;
    }

    /** The hash under the active KEK, as stored. */
    public static String underActive(Envelope envelope, String collection, InputStream content) throws IOException {
        return envelope.keyring().activeId() + ":" + envelope.keyedHash(LABEL).of(collection, content);
    }
}
