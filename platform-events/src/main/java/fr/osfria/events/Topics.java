package fr.osfria.events;

/**
 * Kafka topic names. Stable, kebab-case, versioned: a breaking change to a topic's records means a new
 * topic name, never a silent change of shape.
 */
public final class Topics {

    /** Every public event ({@link EventTypes#PUBLIC}); consumed by webhook-service. */
    public static final String PUBLIC_EVENTS = "osfria.public-events.v1";
    /** One record per RAG request: who, what, when, result. */
    public static final String AUDIT = "osfria.audit.v1";
    /** Internal: a document (or a new version of one) waits to be parsed and chunked. */
    public static final String DOCUMENT_UPLOADS = "osfria.document-uploads.v1";
    /**
     * Internal: chunks ready to be embedded and indexed, keyed by document id; in the same order per document, the
     * {@link EventTypes#VERSION_SUPERSEDED} records that retire older versions (or every version, on deletion).
     */
    public static final String DOCUMENT_CHUNKS = "osfria.document-chunks.v1";
    /** Internal: embed-service's answer to a document's chunks (indexed or failed). */
    public static final String INDEX_RESULTS = "osfria.index-results.v1";
    /** Internal: one record per inference request, with its exact token counts. */
    public static final String USAGE = "osfria.usage.v1";
    /**
     * Internal: per key and minute, the tokens one router replica counted in about a second; what quotas and
     * {@code usage.threshold} are computed from, so replicas read a record per key and second, not per request.
     */
    public static final String USAGE_TALLIES = "osfria.usage-tallies.v1";

    /** The prefix of a Kafka application's topics, {@code osfria.app.<name>.}: the name is its key's name. */
    public static final String APP_PREFIX = "osfria.app.";
    /** Every application's documents topic, for a pattern subscription; group 1 is the application's name. */
    public static final String APP_DOCUMENTS_PATTERN = "osfria\\.app\\.([a-z0-9-]{1,40})\\.documents\\.v1";

    /** What the application {@code app} submits: documents to index (CloudEvents {@code fr.osfria.app.document.submitted}). */
    public static String appDocuments(String app) {
        return APP_PREFIX + app + ".documents.v1";
    }

    /** Every application's batch inference topic, for a pattern subscription; group 1 is the application's name. */
    public static final String APP_INFERENCE_PATTERN = "osfria\\.app\\.([a-z0-9-]{1,40})\\.inference\\.v1";

    /** What the application {@code app} submits: batch inference requests, one OpenAI Batch API line per record. */
    public static String appInference(String app) {
        return APP_PREFIX + app + ".inference.v1";
    }

    /** Every application's events topic, for a pattern subscription; group 1 is the application's name. */
    public static final String APP_EVENTS_PATTERN = "osfria\\.app\\.([a-z0-9-]{1,40})\\.events\\.v1";

    /**
     * What the application {@code app} publishes for webhooks: CloudEvents of its declared types
     * ({@code app.<name>.…}, {@link EventTypes#APPLICATION_PREFIX}), fanned out by webhook-service.
     */
    public static String appEvents(String app) {
        return APP_PREFIX + app + ".events.v1";
    }

    /** What the application {@code app} reads: the outcome of each of its records. */
    public static String appResults(String app) {
        return APP_PREFIX + app + ".results.v1";
    }

    /** The application's records that could not be processed, with the reason (for its operators). */
    public static String appDeadLetter(String app) {
        return APP_PREFIX + app + ".dlq.v1";
    }

    /** Where a consumer puts what it cannot process, with the reason in the record's headers. */
    public static String deadLetter(String topic) {
        return topic + ".dlq";
    }

    private Topics() {
    }
}
