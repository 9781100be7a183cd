package fr.osfria.ingest.document;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import jakarta.persistence.Version;
import java.time.Instant;

/** A document and where it is in its lifecycle. Owned by ingest-service; no other service reads this table. */
@Entity
@Table(name = "document")
// an update writes only the columns it changed: a pipeline step that read the row before a re-seal rewrote its sealed
// columns (name, metadata, wrapped data key, content hash) must not write the old values back (a data key wrapped
// by the retired KEK is unreadable once that KEK is pruned); the re-seal's own statements check what they replace
@org.hibernate.annotations.DynamicUpdate
public class Document extends PanacheEntityBase {

    @Id
    public String id;

    @Column(nullable = false)
    public String collection;

    /** Sealed ({@code sealed:…}, see {@code SealedFields}) when the document is confidential. */
    public String filename;

    public String department;

    @Column(nullable = false)
    public boolean confidential;

    /** The caller's metadata object, as JSON text; values sealed (but department, confidential) when confidential. */
    @Column(name = "metadata_json", nullable = false)
    public String metadataJson = "{}";

    @Column(name = "content_type")
    public String contentType;

    @Column(name = "size_bytes", nullable = false)
    public long sizeBytes;

    /** Keyed hash of the collection and the bytes, for duplicate detection; null without a KEK or for older rows. */
    @Column(name = "content_hmac")
    public String contentHmac;

    public Integer pages;

    @Enumerated(EnumType.STRING)
    @Column(nullable = false)
    public DocumentStatus status;

    public String error;

    @Column(name = "chunks_count", nullable = false)
    public int chunksCount;

    /** Chunks of the current version in the index so far (embed-service's progress reports). */
    @Column(name = "chunks_indexed", nullable = false)
    public int chunksIndexed;

    /** Incremented by each new version (PUT); events carry it so stale results are ignored. */
    @Column(name = "content_version", nullable = false)
    public int contentVersion = 1;

    @Column(name = "blob_key")
    public String blobKey;

    /** Confidential documents: the data key of this version, wrapped by the key-encryption key. Null otherwise. */
    @Column(name = "wrapped_key")
    public String wrappedKey;

    @Column(name = "uploaded_by", nullable = false)
    public String uploadedBy;

    @Column(name = "upload_time", nullable = false)
    public Instant uploadTime;

    @Column(name = "updated_at", nullable = false)
    public Instant updatedAt;

    @Column(name = "indexed_at")
    public Instant indexedAt;

    @Column(name = "chunked_at")
    public Instant chunkedAt;

    /** How many times processing of the current version has been started (stalled ones are retried). */
    @Column(nullable = false)
    public int attempts = 1;

    /** The Kafka application whose record this document came in (its outcome goes to its results topic); null for REST. */
    @Column(name = "app_name")
    public String appName;

    @Column(name = "app_correlation_id")
    public String appCorrelationId;

    @Version
    @Column(name = "row_version")
    public long rowVersion;
}
