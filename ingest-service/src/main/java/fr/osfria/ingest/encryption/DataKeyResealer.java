package fr.osfria.ingest.encryption;

import fr.osfria.events.EventJson;
import fr.osfria.ingest.blob.BlobStore;
import fr.osfria.ingest.document.repository.DocumentRepository;
import fr.osfria.ingest.document.repository.DocumentRepository.ConfidentialFields;
import fr.osfria.ingest.document.repository.DocumentRepository.HashedContent;
import fr.osfria.ingest.document.repository.DocumentRepository.ResealRows;
import fr.osfria.ingest.document.repository.DocumentRepository.WrappedKey;
import fr.osfria.ingest.document.service.ContentHash;
import fr.osfria.security.crypto.Aead;
import fr.osfria.security.crypto.ColumnResealer;
import fr.osfria.security.crypto.ColumnResealer.Change;
import fr.osfria.security.crypto.Envelope;
import fr.osfria.security.crypto.ResealReport;
import fr.osfria.security.crypto.SealedFields;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.io.InputStream;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.SecretKey;

/**
 * The re-seal of the {@code document} table ({@code POST /v1/admin/kek/reseal}), with {@link ColumnResealer}'s loop:
 * <ol>
 *   <li>every confidential document's data key is re-wrapped under the active KEK. The data key itself does not
 *   change, so the sealed original, chunks and index entries stay as they are;</li>
 *   <li>confidential documents stored before names and metadata were sealed get their file name and metadata values
 *   sealed under their data key, as new ones are (see {@link SealedFields});</li>
 *   <li>duplicate-detection hashes keyed by a retired KEK are computed again under the active one (see
 *   {@link #contentHashes}).</li>
 * </ol>
 * All count in {@code remaining}. An update applies only if the row is still as it was read (a new version wins);
 * a row no configured KEK opens is counted as unreadable and left alone. The selections and their statements are
 * {@link DocumentRepository}'s, the table's owner; the cryptography is this class's.
 */
@ApplicationScoped
public class DataKeyResealer {

    private static final int BATCH = 500;
    private static final int HASH_BATCH = 50;
    static final Duration HASH_BUDGET = Duration.ofSeconds(20);

    private final DocumentRepository documents;
    private final Envelope envelope;
    private final BlobStore blobs;

    public DataKeyResealer(DocumentRepository documents, Envelope envelope, BlobStore blobs) {
        this.documents = documents;
        this.envelope = envelope;
        this.blobs = blobs;
    }

    public Uni<ResealReport> reseal() {
        String prefix = envelope.keyring().activeId() + ":";
        return ColumnResealer.run(dataKeys(prefix), BATCH)
                .chain(keys -> ColumnResealer.run(clearFields(), BATCH).map(keys::plus))
                .chain(done -> ColumnResealer.run(contentHashes(prefix), HASH_BATCH, HASH_BUDGET).map(done::plus))
                .map(counts -> ResealReport.of("ingest-service", envelope.keyring(), counts));
    }

    /**
     * The duplicate-detection hashes keyed by a retired KEK (or older ones, which do not say): computed again under
     * the active KEK from the stored file, opened in memory if sealed. Reads every such file, so it works on a worker
     * thread, for at most {@link #HASH_BUDGET} a call. A document whose file is gone loses its hash (it can no longer
     * be confirmed) rather than keep the retired KEK needed.
     */
    private ColumnResealer.Column<HashedContent> contentHashes(String prefix) {
        return new Rows<>(documents.hashesNotKeyedBy(prefix)) {
            @Override
            public Uni<List<HashedContent>> batch(String afterId, int limit) {
                return super.batch(afterId, limit).emitOn(Infrastructure.getDefaultWorkerPool());
            }

            @Override
            public String idOf(HashedContent row) {
                return row.id();
            }

            @Override
            public HashedContent resealed(HashedContent row) throws GeneralSecurityException, IOException {
                if (row.blobKey() == null || !Files.exists(blobs.path(row.blobKey()))) {
                    return row.withHash(null);
                }
                if (row.wrappedKey() == null) {
                    try (InputStream in = Files.newInputStream(blobs.path(row.blobKey()))) {
                        return row.withHash(ContentHash.underActive(envelope, row.collection(), in));
                    }
                }
                byte[] content = Aead.decrypt(envelope.unwrap(row.wrappedKey()), blobs.read(row.blobKey()),
                        row.blobKey().getBytes(StandardCharsets.UTF_8));
                return row.withHash(ContentHash.underActive(envelope, row.collection(), new ByteArrayInputStream(content)));
            }
        };
    }

    private ColumnResealer.Column<WrappedKey> dataKeys(String prefix) {
        return new Rows<>(documents.dataKeysNotWrappedUnder(prefix)) {
            @Override
            public String idOf(WrappedKey row) {
                return row.id();
            }

            @Override
            public WrappedKey resealed(WrappedKey row) throws GeneralSecurityException {
                return new WrappedKey(row.id(), envelope.rewrap(row.wrapped()));
            }
        };
    }

    private ColumnResealer.Column<ConfidentialFields> clearFields() {
        return new Rows<>(documents.confidentialWithClearFields()) {
            @Override
            public String idOf(ConfidentialFields row) {
                return row.id();
            }

            @Override
            public ConfidentialFields resealed(ConfidentialFields row) throws GeneralSecurityException {
                if (row.wrappedKey() == null) {
                    throw new GeneralSecurityException("a confidential document without a data key");
                }
                SecretKey dataKey = envelope.unwrap(row.wrappedKey());
                String filename = SealedFields.isSealed(row.filename()) ? row.filename()
                        : SealedFields.sealFilename(dataKey, row.id(), row.filename());
                Map<String, Object> metadata = new LinkedHashMap<>();
                EventJson.decodeMap(row.metadataJson()).forEach((key, value) -> metadata.put(key,
                        SealedFields.isSealed(value) ? value : SealedFields.sealMetadata(dataKey, row.id(), Collections.singletonMap(key, value)).get(key)));
                return new ConfidentialFields(row.id(), row.wrappedKey(), filename, EventJson.encodeMap(metadata));
            }
        };
    }

    /** A column of the loop whose rows, count and writes are the document repository's; the re-seal is the column's. */
    private abstract static class Rows<R> implements ColumnResealer.Column<R> {

        private final ResealRows<R> rows;

        Rows(ResealRows<R> rows) {
            this.rows = rows;
        }

        @Override
        public Uni<List<R>> batch(String afterId, int limit) {
            return rows.after(afterId, limit);
        }

        @Override
        public Uni<Integer> write(List<Change<R>> changes) {
            return rows.write(changes);
        }

        @Override
        public Uni<Integer> remaining() {
            return rows.remaining();
        }
    }
}
