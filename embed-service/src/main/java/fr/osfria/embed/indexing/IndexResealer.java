package fr.osfria.embed.indexing;

import fr.osfria.embed.index.IndexHolder;
import fr.osfria.security.crypto.Keyring;
import fr.osfria.security.crypto.ResealReport;
import io.quarkus.logging.Log;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

/**
 * Moves the index's sealed chunks to the active KEK after a rotation: data keys re-wrapped, blind terms keyed anew
 * (keyword search finds them under the new KEK alone), sealed text and vectors untouched. Works in batches for at
 * most {@link #BUDGET} per call; the answer says how many remain. Blocking.
 */
@ApplicationScoped
public class IndexResealer {

    static final Duration BUDGET = Duration.ofSeconds(20);
    private static final int BATCH = 256;

    private final IndexHolder index;
    private final ChunkPreparer preparer;
    private final Keyring keyring;

    public IndexResealer(IndexHolder index, ChunkPreparer preparer, Keyring keyring) {
        this.index = index;
        this.preparer = preparer;
        this.keyring = keyring;
    }

    public synchronized ResealReport reseal() throws IOException {
        long deadline = System.nanoTime() + BUDGET.toNanos();
        Set<String> unreadable = new HashSet<>();
        int resealed = 0;
        boolean progress;
        do {
            int skipped = unreadable.size();
            int written = index.store().reseal(keyring.activeId(), BATCH, unreadable, sealed -> {
                try {
                    return preparer.reseal(sealed);
                } catch (GeneralSecurityException | IllegalArgumentException e) {
                    Log.warnf("chunk %s cannot be re-sealed: %s", sealed.chunkId(), e.getMessage());
                    return null;
                }
            });
            resealed += written;
            progress = written > 0 || unreadable.size() > skipped; // a batch of unreadable ones hides none behind it
        } while (progress && System.nanoTime() < deadline);
        return ResealReport.of("embed-service", keyring, resealed, index.store().sealedOutside(keyring.activeId()), unreadable.size());
    }
}
