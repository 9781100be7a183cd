package fr.osfria.security.crypto;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.Map;
import java.util.Optional;

/** The key-encryption key shared by the services that handle confidential documents (ingest, embed). */
@ConfigMapping(prefix = "osfria.encryption")
public interface EncryptionConfig {

    /**
     * 32 random bytes in base64 (a Kubernetes Secret in production; the local platform generates one). Without it,
     * confidential documents are refused.
     */
    Optional<String> kek();

    /** The name of {@link #kek()}, stored with every wrapped key. Change it when rotating. */
    @WithDefault("kek-1")
    String kekId();

    /** Earlier KEKs by id, kept so documents wrapped with them can still be read. */
    Map<String, String> retiredKeks();
}
