package fr.osfria.events;

import java.util.Set;

/** CloudEvent {@code type} values. Past tense, stable: receivers filter on them. */
public final class EventTypes {

    public static final String DOCUMENT_INDEXED = "document.indexed";
    public static final String DOCUMENT_FAILED = "document.failed";
    public static final String DOCUMENT_DELETED = "document.deleted";
    public static final String MODEL_LOADED = "model.loaded";
    public static final String MODEL_UNLOADED = "model.unloaded";
    public static final String ALERT_TRIGGERED = "alert.triggered";
    public static final String ALERT_RESOLVED = "alert.resolved";
    public static final String USAGE_THRESHOLD = "usage.threshold";
    public static final String WEBHOOK_EXHAUSTED = "webhook.exhausted";

    /** The types published on {@link Topics#PUBLIC_EVENTS}, which webhook subscriptions may name. */
    public static final Set<String> PUBLIC = Set.of(DOCUMENT_INDEXED, DOCUMENT_FAILED, DOCUMENT_DELETED,
            MODEL_LOADED, MODEL_UNLOADED, ALERT_TRIGGERED, ALERT_RESOLVED, USAGE_THRESHOLD, WEBHOOK_EXHAUSTED);

    /**
     * Kafka applications' own events start with {@code app.<name>.} (e.g. {@code app.billing.invoice.created}): each
     * application publishes the types its key declares, on {@code osfria.app.<name>.events.v1}, and webhook
     * subscriptions may name them beside {@link #PUBLIC}.
     */
    public static final String APPLICATION_PREFIX = "app.";

    // Internal work events, each on its own topic.
    public static final String DOCUMENT_UPLOADED = "document.uploaded";
    public static final String DOCUMENT_CHUNKED = "document.chunked";
    /**
     * On the chunks topic, keyed by document id, ahead of a new version's chunks or at deletion: older chunks of the
     * document leave the index and may never be indexed again ({@link fr.osfria.events.document.VersionSuperseded}).
     */
    public static final String VERSION_SUPERSEDED = "document.version-superseded";
    public static final String CHUNKS_INDEXED = "document.chunks-indexed";
    /** On the index-results topic too: a version's chunks indexed so far ({@code IndexingProgress}). */
    public static final String CHUNKS_PROGRESS = "document.chunks-progress";
    public static final String AUDIT_RECORDED = "audit.recorded";
    public static final String USAGE_RECORDED = "usage.recorded";
    public static final String USAGE_TALLIED = "usage.tallied";

    private EventTypes() {
    }
}
