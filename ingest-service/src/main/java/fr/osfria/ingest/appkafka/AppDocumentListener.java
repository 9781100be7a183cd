package fr.osfria.ingest.appkafka;

import fr.osfria.events.Topics;
import fr.osfria.events.app.DocumentResult;
import fr.osfria.ingest.IngestConfig;
import fr.osfria.ingest.document.service.DocumentUploads;
import fr.osfria.ingest.document.service.InvalidUpload;
import fr.osfria.ingest.document.service.Submission;
import fr.osfria.ingest.document.service.Upload;
import fr.osfria.ingest.pipeline.WhileDatabaseDown;
import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.key.KeyRegistry;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.logging.Log;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.unchecked.Unchecked;
import io.vertx.mutiny.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Documents that Kafka applications submit on {@code osfria.app.<name>.documents.v1} (a pattern subscription: a new
 * application's topic is found within seconds). The topic names the application, and the application is its key:
 * the record is uploaded with exactly that key's rights and audit trail, by the REST upload's own path
 * ({@link DocumentUploads}); nothing in the record can name another key. A record that cannot be processed (not a
 * CloudEvent, over size, no right on its collection, a revoked key…) gets a {@code rejected} result and a copy
 * (without its file) on the dead-letter topic, and the next record goes on: this method never fails.
 */
@ApplicationScoped
public class AppDocumentListener {

    public static final String CHANNEL = "app-documents";
    private static final Pattern TOPIC = Pattern.compile(Topics.APP_DOCUMENTS_PATTERN);

    private final KeyRegistry keys;
    private final DocumentUploads uploads;
    private final AppResults results;
    private final IngestConfig config;
    private final Vertx vertx;
    private final Path spool;

    public AppDocumentListener(KeyRegistry keys, DocumentUploads uploads, AppResults results, IngestConfig config,
                               Vertx vertx, @ConfigProperty(name = "quarkus.http.body.uploads-directory") String spool) {
        this.keys = keys;
        this.uploads = uploads;
        this.results = results;
        this.config = config;
        this.vertx = vertx;
        this.spool = Path.of(spool); // a crash's leftovers there are removed by the request-body sweep
    }

    @Incoming(CHANNEL)
    public Uni<Void> onRecord(ConsumerRecord<String, String> record) {
        Matcher topic = TOPIC.matcher(record.topic());
        if (!topic.matches()) {
            Log.warnf("ignoring a record of %s: not an application's documents topic", record.topic());
            return Uni.createFrom().voidItem();
        }
        String app = topic.group(1);
        long start = System.nanoTime();
        return process(app, record, start)
                .onFailure().recoverWithUni(e -> {
                    // never block the next record: an unexpected failure is this record's rejection
                    Log.errorf(e, "record %s-%d@%d of application %s could not be processed", record.topic(),
                            record.partition(), record.offset(), app);
                    return reject(app, record, null, "internal error: " + e.getClass().getSimpleName());
                });
    }

    private Uni<Void> process(String app, ConsumerRecord<String, String> record, long start) {
        Optional<KeyEntry> key = keys.active(app).filter(KeyEntry::kafkaApplication);
        if (key.isEmpty()) {
            return reject(app, record, null, "no active Kafka application key named '" + app + "' (revoked?)");
        }
        long limit = Math.min(config.appMaxFileBytes(), config.maxFileBytes());
        return vertx.executeBlocking(Uni.createFrom().item(Unchecked.supplier(() -> {
                    SubmittedRecord submitted = SubmittedRecord.parse(record.value(), limit);
                    Files.createDirectories(spool);
                    Path file = Files.createTempFile(spool, "kafka-", ".upload");
                    Files.write(file, submitted.file());
                    return new Spooled(submitted, file);
                })))
                .chain(spooled -> upload(app, key.get(), spooled, record, start, limit)
                        .onTermination().call(() -> vertx.executeBlocking(Uni.createFrom().item(Unchecked.supplier(
                                () -> Files.deleteIfExists(spooled.file()))))))
                .onFailure(InvalidUpload.class).recoverWithUni(e -> uploads.refused(key.get(), null, (InvalidUpload) e)
                        .chain(() -> reject(app, record, null, e.getMessage())));
    }

    private record Spooled(SubmittedRecord submitted, Path file) {
    }

    private Uni<Void> upload(String app, KeyEntry key, Spooled spooled, ConsumerRecord<String, String> record, long start,
                             long limit) {
        SubmittedRecord s = spooled.submitted();
        Upload upload;
        try {
            upload = Upload.of(spooled.file(), s.filename(), s.file().length, limit, s.collection(), s.metadataJson());
        } catch (InvalidUpload e) {
            return uploads.refused(key, s.collection(), e).chain(() -> reject(app, record, s, e.getMessage()));
        }
        Submission submission = new Submission(app, s.correlationId());
        return WhileDatabaseDown.retry("record " + record.topic() + "@" + record.offset(),
                        () -> Panache.withSession(() -> uploads.upload(key, upload, submission, start)))
                .chain(result -> switch (result.outcome()) {
                    // its id at once; indexed or failed follows, through the outbox
                    case ACCEPTED -> results.result(app, new DocumentResult(DocumentResult.ACCEPTED, s.correlationId(),
                            result.document().id, result.document().collection, null, null));
                    case DUPLICATE -> results.result(app, new DocumentResult(DocumentResult.DUPLICATE,
                            s.correlationId(), result.document().id, result.document().collection, null,
                            result.document().status.word()));
                    case DENIED -> reject(app, record, s, "this key may not write to collection " + upload.collection()
                            + " for that department or confidentiality");
                    case INVALID -> reject(app, record, s, result.refusal().getMessage());
                });
    }

    private Uni<Void> reject(String app, ConsumerRecord<String, String> record, SubmittedRecord parsed, String reason) {
        SubmittedRecord.Ids ids = parsed != null ? new SubmittedRecord.Ids(parsed.eventId(), parsed.correlationId())
                : SubmittedRecord.ids(record.value());
        String collection = parsed != null ? parsed.collection() : null;
        return results.result(app, new DocumentResult(DocumentResult.REJECTED, ids.correlationId(), null, collection,
                        reason, null))
                .chain(() -> results.deadLetter(app, record.topic(), record.partition(), record.offset(), record.value(),
                        reason));
    }
}
