package fr.osfria.ingest.appkafka;

import fr.osfria.events.Topics;
import fr.osfria.events.app.DocumentResult;
import fr.osfria.ingest.IngestConfig;
import fr.osfria.ingest.appkafka.fetch.FetchLanes;
import fr.osfria.ingest.appkafka.fetch.Fetched;
import fr.osfria.ingest.appkafka.fetch.FileFetcher;
import fr.osfria.ingest.document.Document;
import fr.osfria.ingest.document.service.DocumentUploads;
import fr.osfria.ingest.document.service.InvalidUpload;
import fr.osfria.ingest.document.service.Submission;
import fr.osfria.ingest.document.service.Upload;
import fr.osfria.ingest.pipeline.WhileDatabaseDown;
import fr.osfria.security.error.DatabaseUnavailable;
import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.key.KeyRegistry;
import fr.osfria.security.rights.Rights;
import io.quarkus.logging.Log;
import io.quarkus.vertx.core.runtime.context.VertxContextSafetyToggle;
import io.smallrye.common.vertx.VertxContext;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.unchecked.Unchecked;
import io.smallrye.reactive.messaging.kafka.api.IncomingKafkaRecordMetadata;
import io.vertx.mutiny.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Documents that Kafka applications submit on {@code osfria.app.<name>.documents.v1} (a pattern subscription: a new
 * application's topic is found within seconds). The topic names the application, and the application is its key:
 * the record is uploaded with exactly that key's rights and audit trail, by the REST upload's own path
 * ({@link DocumentUploads}); nothing in the record can name another key. A record that cannot be processed (not a
 * CloudEvent, over size, no right on its collection, a revoked key…) gets a {@code rejected} result and a copy
 * (without its file) on the dead-letter topic, and the next record goes on: this method never fails.
 *
 * <p>A record may name its file by URL instead ({@code file_url}): it is fetched beside the consumer, in the
 * application's own lane ({@link FetchLanes}, {@link FileFetcher}), and the listener goes on to the next record
 * meanwhile; the fetched file then takes the inline file's way. A fetch that fails answers {@code failed} with a
 * coarse reason ({@link Fetched}).
 */
@ApplicationScoped
public class AppDocumentListener {

    public static final String CHANNEL = "app-documents";
    /** The reason of a record that waited for PostgreSQL until its deadline ({@link IngestConfig#appRecordDeadline()}). */
    public static final String DATABASE_DOWN = "database_unavailable: the database was out of reach until this record's"
            + " deadline; send the same record again (same id: if it was stored meanwhile, the answer is duplicate)";
    private static final Pattern TOPIC = Pattern.compile(Topics.APP_DOCUMENTS_PATTERN);

    private final KeyRegistry keys;
    private final DocumentUploads uploads;
    private final AppResults results;
    private final IngestConfig config;
    private final Vertx vertx;
    private final Path spool;
    private final FileFetcher fetcher;
    private final FetchLanes fetches;
    private final RecordsInFlight inFlight = new RecordsInFlight();

    public AppDocumentListener(KeyRegistry keys, DocumentUploads uploads, AppResults results, IngestConfig config,
                               Vertx vertx, @ConfigProperty(name = "quarkus.http.body.uploads-directory") String spool,
                               FileFetcher fetcher) {
        this.keys = keys;
        this.uploads = uploads;
        this.results = results;
        this.config = config;
        this.vertx = vertx;
        this.fetcher = fetcher;
        this.fetches = new FetchLanes(config.fetch().maxInFlightPerApplication(), config.fetch().maxWaitingPerApplication());
        this.spool = Path.of(spool); // a crash's leftovers there are removed by the request-body sweep
    }

    @Incoming(CHANNEL)
    public Uni<Void> onRecord(Message<String> message) {
        ConsumerRecord<String, String> record = message.getMetadata(IncomingKafkaRecordMetadata.class)
                .map(m -> (ConsumerRecord<String, String>) m.getRecord()).orElseThrow();
        Acknowledgement ack = new Acknowledgement(message);
        Matcher topic = TOPIC.matcher(record.topic());
        if (!topic.matches()) {
            Log.warnf("ignoring a record of %s: not an application's documents topic", record.topic());
            return ack.now();
        }
        String app = topic.group(1);
        long start = System.nanoTime();
        return process(app, record, start, ack)
                .onFailure().recoverWithUni(e -> {
                    // never block the next record: an unexpected failure is this record's rejection
                    Log.errorf(e, "record %s-%d@%d of application %s could not be processed", record.topic(),
                            record.partition(), record.offset(), app);
                    return reject(app, record, null, reasonFor(e));
                })
                .call(ack::unlessHandedOff);
    }

    private Uni<Void> process(String app, ConsumerRecord<String, String> record, long start, Acknowledgement ack) {
        return keyOf(app).chain(key -> key.isEmpty()
                ? reject(app, record, null, "no active Kafka application key named '" + app + "' (revoked?)")
                : process(app, key, record, start, ack));
    }

    /**
     * The application's key. Until the key file is first read, nothing is decided (waiting: a record refused then
     * would be lost to its application); a name not found is looked up again in the file, which may be newer than
     * the last periodic reload (a key just created with {@code --kafka}, whose topic a record reached at once).
     */
    private Uni<Optional<KeyEntry>> keyOf(String app) {
        return Uni.createFrom().item(() -> {
                    if (!keys.state().loaded()) {
                        throw new KeysNotLoaded();
                    }
                    return keys.active(app).filter(KeyEntry::kafkaApplication);
                })
                .onFailure(KeysNotLoaded.class).retry().withBackOff(Duration.ofMillis(500), Duration.ofSeconds(5))
                .indefinitely()
                .chain(key -> key.isPresent() ? Uni.createFrom().item(key)
                        : vertx.executeBlocking(Uni.createFrom().item(() -> {
                            keys.reload();
                            return keys.active(app).filter(KeyEntry::kafkaApplication);
                        })));
    }

    private Uni<Void> process(String app, Optional<KeyEntry> key, ConsumerRecord<String, String> record, long start,
                              Acknowledgement ack) {
        long limit = Math.min(config.appMaxFileBytes(), config.maxFileBytes());
        return vertx.executeBlocking(Uni.createFrom().item(Unchecked.supplier(() -> {
                    SubmittedRecord submitted = SubmittedRecord.parse(record.value(), limit);
                    if (submitted.byUrl()) {
                        return new Spooled(submitted, null);
                    }
                    Path file = spoolFile();
                    Files.write(file, submitted.file());
                    return new Spooled(submitted, file);
                })))
                .chain(spooled -> spooled.submitted().byUrl()
                        ? handOff(app, key.get(), spooled.submitted(), record, start, ack)
                        : uploadSpooled(app, key.get(), spooled, spooled.submitted().file().length, record, start, limit))
                .onFailure(InvalidUpload.class).recoverWithUni(e -> uploads.refused(key.get(), null, (InvalidUpload) e)
                        .chain(() -> reject(app, record, null, e.getMessage())));
    }

    private Path spoolFile() throws java.io.IOException {
        Files.createDirectories(spool);
        return Files.createTempFile(spool, "kafka-", ".upload");
    }

    /** Uploads the spooled file as a REST upload would, then removes it. */
    private Uni<Void> uploadSpooled(String app, KeyEntry key, Spooled spooled, long size,
                                    ConsumerRecord<String, String> record, long start, long limit) {
        return upload(app, key, spooled, size, record, start, limit)
                .onTermination().call(() -> vertx.executeBlocking(Uni.createFrom().item(Unchecked.supplier(
                        () -> Files.deleteIfExists(spooled.file())))));
    }

    /**
     * A record by URL: checked first, without any network access (the record's fields as {@code Upload.of} checks
     * them, the key's write right on the collection, its right to have this URL fetched: a refusal says the same
     * whatever is at the URL); then its fetch gets a place in the application's lane and the listener goes on to the
     * next record at once; the record is acknowledged when its fetch and upload end (a crash before that reads it
     * again). A lane already full answers {@code failed} at once. When the job starts, the key is looked up again: a
     * key revoked while its record waited uploads nothing. A job that the service's shutdown interrupts is neither
     * answered nor acknowledged: the record is read again after the restart. A record read again fetches nothing
     * once its first reading stored the file, and waits for that reading when it still runs on this replica
     * ({@link RecordsInFlight}).
     */
    private Uni<Void> handOff(String app, KeyEntry key, SubmittedRecord s, ConsumerRecord<String, String> record,
                              long start, Acknowledgement ack) {
        long limit = config.maxFileBytes(); // as a REST upload: the file does not travel in the record
        Upload form = Upload.of(Path.of("not-fetched-yet"), s.filename(), 1, limit, s.collection(), s.metadataJson());
        if (!Rights.canWrite(key, form.collection(), form.department(), form.confidential())) {
            String reason = denied(form.collection());
            return uploads.refused(key, s.collection(), new InvalidUpload(403, reason))
                    .chain(() -> reject(app, record, s, reason));
        }
        if (!fetcher.enabled() || !Rights.canFetch(key, s.fileUrl())) {
            return fetchFailed(app, key, s, fetcher.enabled() ? Fetched.NOT_ALLOWED : Fetched.NOT_ENABLED);
        }
        ack.handOff();
        AtomicBoolean leftForRestart = new AtomicBoolean();
        RecordsInFlight.Turn turn = inFlight.enter(app, s.eventId());
        java.util.function.Supplier<Uni<Void>> job = () -> turn.run(() -> onOwnContext(
                () -> fetcher.stopping()
                        ? leave(leftForRestart)
                        : keyOf(app).chain(current -> current.isEmpty()
                                ? reject(app, record, s, "no active Kafka application key named '" + app + "' (revoked?)")
                                : fetchAndUpload(app, current.get(), s, record, start, limit, leftForRestart)))
                .onFailure().recoverWithUni(e -> {
                    if (fetcher.stopping()) {
                        return leave(leftForRestart);
                    }
                    Log.errorf(e, "record %s-%d@%d of application %s could not be processed", record.topic(),
                            record.partition(), record.offset(), app);
                    return fetchFailed(app, key, s, reasonFor(e));
                })
                .onTermination().call(() -> leftForRestart.get() ? Uni.createFrom().voidItem() : ack.now()));
        if (turn.second()) {
            // read again while its first reading waits or fetches here: no slot of its own (a rebalance re-reads
            // every such record at once, which would have filled the lane and been answered fetch_busy); it waits
            // for the first and then finds its document (or, if the first stored nothing, fetches itself)
            job.get().subscribe().with(done -> { }, e -> Log.errorf(e, "record %s of application %s", s.eventId(), app));
            return Uni.createFrom().voidItem();
        }
        if (fetches.offer(app, job)) {
            return Uni.createFrom().voidItem();
        }
        turn.end();
        return fetchFailed(app, key, s, Fetched.BUSY).call(ack::now);
    }

    /** A job the shutdown interrupted: no answer, no acknowledgement (the record is read again after the restart). */
    private static Uni<Void> leave(AtomicBoolean leftForRestart) {
        leftForRestart.set(true);
        return Uni.createFrom().voidItem();
    }

    private Uni<Void> fetchAndUpload(String app, KeyEntry key, SubmittedRecord s, ConsumerRecord<String, String> record,
                                     long start, long limit, AtomicBoolean leftForRestart) {
        // a record read again whose first reading stored its file has nothing to fetch; and no fetch starts before
        // PostgreSQL answers (a file fetched while it is down could not be stored: the record's time spent for nothing)
        return WhileDatabaseDown.retry("record " + record.topic() + "@" + record.offset() + " (before its fetch)",
                        () -> uploads.recordTaken(key, submission(app, s)),
                        patienceLeft(start))
                .chain(taken -> taken != null ? readAgain(app, s, taken.document()) : fetchThenUpload(app, key, s, record,
                        start, limit, leftForRestart));
    }

    private Uni<Void> fetchThenUpload(String app, KeyEntry key, SubmittedRecord s, ConsumerRecord<String, String> record,
                                      long start, long limit, AtomicBoolean leftForRestart) {
        return vertx.executeBlocking(Uni.createFrom().item(Unchecked.supplier(this::spoolFile)))
                .chain(file -> fetcher.fetch(app, s.fileUrl(), file, limit)
                        .chain(fetched -> fetched.ok()
                                ? upload(app, key, new Spooled(s, file), fetched.bytes(), record, start, limit)
                                : fetcher.stopping() ? leave(leftForRestart) : fetchFailed(app, key, s, fetched.failure()))
                        .onTermination().call(() -> vertx.executeBlocking(Uni.createFrom().item(Unchecked.supplier(
                                () -> Files.deleteIfExists(file))))));
    }

    /** A file by URL that could not be fetched: audited under the key, answered {@code failed}; nothing is stored. */
    private Uni<Void> fetchFailed(String app, KeyEntry key, SubmittedRecord s, String reason) {
        return uploads.refused(key, s.collection(), new InvalidUpload(422, reason))
                .onFailure().recoverWithItem(e -> {
                    Log.warnf("the audit of a failed fetch could not be written: %s", e.toString());
                    return null;
                })
                .chain(() -> patiently(results.result(app, new DocumentResult(DocumentResult.FAILED, s.correlationId(),
                        null, s.collection(), reason, null)), "the failed result of a file by URL for application " + app));
    }

    /**
     * Runs {@code work} on a new Vert.x duplicated context of its own, as the connector runs each record: a fetch
     * started from a lane (any thread) gets the context Hibernate Reactive's sessions need.
     */
    private Uni<Void> onOwnContext(java.util.function.Supplier<Uni<Void>> work) {
        return Uni.createFrom().emitter(emitter -> {
            io.vertx.core.Context context = VertxContext.createNewDuplicatedContext(vertx.getDelegate().getOrCreateContext());
            VertxContextSafetyToggle.setContextSafe(context, true);
            context.runOnContext(v -> work.get().subscribe().with(emitter::complete, emitter::fail));
        });
    }

    /**
     * A record's acknowledgement, once: when the listener is done with it, or, for a record handed to a fetch, when
     * the fetch and its upload end. The connector commits an offset once every record before it is acknowledged.
     */
    private static final class Acknowledgement {
        private final Message<String> message;
        private final AtomicBoolean handedOff = new AtomicBoolean();
        private final AtomicBoolean done = new AtomicBoolean();

        Acknowledgement(Message<String> message) {
            this.message = message;
        }

        void handOff() {
            handedOff.set(true);
        }

        Uni<Void> unlessHandedOff() {
            return handedOff.get() ? Uni.createFrom().voidItem() : now();
        }

        Uni<Void> now() {
            return done.compareAndSet(false, true) ? Uni.createFrom().completionStage(message::ack)
                    : Uni.createFrom().voidItem();
        }
    }

    private static final class KeysNotLoaded extends RuntimeException {
        KeysNotLoaded() {
            super("the key file is not loaded yet", null, false, false);
        }
    }

    private record Spooled(SubmittedRecord submitted, Path file) {
    }

    private Uni<Void> upload(String app, KeyEntry key, Spooled spooled, long size, ConsumerRecord<String, String> record,
                             long start, long limit) {
        SubmittedRecord s = spooled.submitted();
        Upload upload;
        try {
            upload = Upload.of(spooled.file(), s.filename(), size, limit, s.collection(), s.metadataJson());
        } catch (InvalidUpload e) {
            return uploads.refused(key, s.collection(), e).chain(() -> reject(app, record, s, e.getMessage()));
        }
        Submission submission = submission(app, s);
        return WhileDatabaseDown.retry("record " + record.topic() + "@" + record.offset(),
                        // no session around it: the upload opens one around each of its database steps, so that its
                        // file's checks and storage hold no connection (a slow volume's uploads took the pool)
                        () -> uploads.upload(key, upload, submission, start),
                        patienceLeft(start))
                .chain(result -> switch (result.outcome()) {
                    // its id at once; indexed or failed follows, through the outbox. The document is stored now:
                    // whatever happens to this answer, the record is not rejected
                    case ACCEPTED -> stored(app, new DocumentResult(DocumentResult.ACCEPTED, s.correlationId(),
                            result.document().id, result.document().collection, null, null));
                    case DUPLICATE -> stored(app, new DocumentResult(DocumentResult.DUPLICATE,
                            s.correlationId(), result.document().id, result.document().collection, null,
                            result.document().status.word()));
                    case DENIED -> reject(app, record, s, denied(upload.collection()));
                    case INVALID -> reject(app, record, s, result.refusal().getMessage());
                    case RECORD_TAKEN -> readAgain(app, s, result.document());
                });
    }

    private static Submission submission(String app, SubmittedRecord s) {
        return new Submission(app, s.eventId(), s.correlationId());
    }

    /**
     * A record read again, which already made {@code doc}: answered {@code duplicate} naming that same document, or
     * not at all when the key may no longer read it (a later version moved it out of its reach).
     */
    private Uni<Void> readAgain(String app, SubmittedRecord s, Document doc) {
        if (doc == null) {
            Log.infof("record %s of application %s was read again; its document is deleted or out of its reach now",
                    s.eventId(), app);
            return Uni.createFrom().voidItem();
        }
        return stored(app, new DocumentResult(DocumentResult.DUPLICATE, s.correlationId(), doc.id, doc.collection, null,
                doc.status.word()));
    }

    /** What is left of a record's {@link IngestConfig#appRecordDeadline()}, from its arrival ({@code start}, nanoTime). */
    private Duration patienceLeft(long start) {
        Duration left = config.appRecordDeadline().minusNanos(System.nanoTime() - start);
        return left.isNegative() || left.isZero() ? Duration.ofMillis(1) : left;
    }

    /** The reason an unexpected failure gives the application: coarse, no class of the database client. */
    private static String reasonFor(Throwable failure) {
        return DatabaseUnavailable.causes(failure) ? DATABASE_DOWN : "internal error: " + failure.getClass().getSimpleName();
    }

    private static String denied(String collection) {
        return "this key may not write to collection " + collection + " for that department or confidentiality";
    }

    /** The answer about a stored document: tried again while Kafka refuses it, never turned into a rejection. */
    private Uni<Void> stored(String app, DocumentResult result) {
        return patiently(results.result(app, result), "the " + result.status() + " result of document "
                + result.documentId() + " for application " + app);
    }

    /**
     * A send tried again for about a minute; past that it is logged and given up (the record's offset is committed,
     * the next record goes on): a send that fails never runs a second rejection of the same record.
     */
    private static Uni<Void> patiently(Uni<Void> send, String what) {
        return send.onFailure().retry().withBackOff(Duration.ofMillis(200), Duration.ofSeconds(10)).atMost(8)
                .onFailure().recoverWithItem(e -> {
                    Log.errorf(e, "%s could not be sent", what);
                    return null;
                });
    }

    private Uni<Void> reject(String app, ConsumerRecord<String, String> record, SubmittedRecord parsed, String reason) {
        SubmittedRecord.Ids ids = parsed != null ? new SubmittedRecord.Ids(parsed.eventId(), parsed.correlationId())
                : SubmittedRecord.ids(record.value());
        // only what passed the checks is echoed (a refused id or collection could be a megabyte, or hold a NUL)
        String collection = parsed != null ? Upload.auditable(parsed.collection()) : null;
        String what = "the rejection of record " + record.topic() + "-" + record.partition() + "@" + record.offset();
        return patiently(results.result(app, new DocumentResult(DocumentResult.REJECTED, ids.correlationId(), null,
                        collection, reason, null)), what)
                .chain(() -> patiently(results.deadLetter(app, record.topic(), record.partition(), record.offset(),
                        record.value(), reason), what + " (dead letter)"));
    }
}
