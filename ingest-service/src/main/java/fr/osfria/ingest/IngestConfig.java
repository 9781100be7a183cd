package fr.osfria.ingest;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

@ConfigMapping(prefix = "osfria.ingest")
public interface IngestConfig {

    /** Where original files are kept (a Longhorn volume in Kubernetes). */
    @WithDefault("data/blobs")
    Path blobDir();

    /** Largest file accepted, in bytes; larger uploads are refused with 413 before being read whole. */
    @WithDefault("104857600")
    long maxFileBytes();

    /**
     * Largest file a Kafka application may send inline in a record of {@code osfria.app.<name>.documents.v1} (at
     * most {@link #maxFileBytes()}); the local platform's topics take records of 12 MiB, this file in base64 and its event.
     */
    @io.smallrye.config.WithName("app-max-file-bytes")
    @WithDefault("8388608")
    long appMaxFileBytes();

    /**
     * How long after its arrival a Kafka application's record may still wait for PostgreSQL (its fetch included)
     * before it is answered {@code rejected} (send it again): long outages are waited out, one deadline per record.
     * Keep it about two minutes below the channel's unprocessed-record age (10 min), past which its health turns
     * DOWN: the answer's own retries take about a minute.
     */
    @io.smallrye.config.WithName("app-record-deadline")
    @WithDefault("8m")
    Duration appRecordDeadline();

    /**
     * How long a Kafka application's record is remembered once it made a document ({@code app_record}: a record read
     * again within it answers {@code duplicate}). A record can be read again only while it is in its topic: the
     * documents topics keep a day ({@code retention.ms}), and since the broker deletes a log segment only once its
     * newest record is past that, a record of a topic that receives a trickle stays up to {@code segment.ms} (the
     * broker's default, 7 days) longer. Keep it above the topics' retention plus their segment time; past it, a
     * record read again is a new upload.
     */
    @io.smallrye.config.WithName("app-record-retention")
    @WithDefault("9d")
    Duration appRecordRetention();

    /**
     * How often remembered records past {@link #appRecordRetention()} are removed (the first time a minute after
     * start); "off" disables it (tests run it themselves).
     */
    @io.smallrye.config.WithName("app-record-sweep-interval")
    @WithDefault("1h")
    String appRecordSweepInterval();

    /**
     * Heap that every upload together (REST and Kafka) may hold in files read whole (a confidential file is read and
     * encrypted: about twice its size); an upload past it waits for room. Default: a third of the maximum heap.
     */
    Optional<Long> uploadMemoryBytes();

    /** How often the outbox is relayed to Kafka when no commit has nudged it. */
    @WithDefault("1s")
    Duration outboxInterval();

    /** How often the document gauges (documents by status, the oldest still processing) are read from the table. */
    @WithDefault("10s")
    Duration metricsRefreshInterval();

    Parsing parsing();

    Chunking chunking();

    Stall stall();

    FileSweep fileSweep();

    Fetch fetch();

    Waits waits();

    Uploads uploads();

    Storage storage();

    /**
     * What each API key may keep stored: what the documents whose content it uploaded cost (a new version counts for
     * the key that uploaded it, in place of the version it replaces), whatever their status; a document costs its
     * file's size, at least 4 KiB, and its metadata ({@code StorageQuota}). An upload or a new
     * version past it answers 507 {@code storage_quota_exceeded} (a Kafka application's record is rejected), storing
     * nothing; deleting documents makes room. One key cannot fill the disk every other key stores on.
     */
    interface Storage {
        /** A key's quota unless {@link #keys()} names it. */
        @WithDefault("50G")
        io.quarkus.runtime.configuration.MemorySize perKey();

        /** Quotas of their own, by key name ({@code osfria.ingest.storage.keys.archive-loader=500G}). */
        java.util.Map<String, io.quarkus.runtime.configuration.MemorySize> keys();

        /**
         * What the volume the files are kept on keeps free: an upload that would leave less is answered 507
         * {@code insufficient_storage}, whoever sends it (the keys' quotas together may exceed the disk; on one
         * machine PostgreSQL and Kafka write to it too, and stop when it is full).
         */
        @WithDefault("2G")
        io.quarkus.runtime.configuration.MemorySize minFree();
    }

    /**
     * REST uploads in progress ({@code POST /v1/documents}, and new versions: {@code PUT /v1/documents/{id}}). A key's
     * count from an upload's headers (its body still arriving) until its work ends; the replica's, only uploads at
     * work (their bodies received). Work ends when it is answered or fails, not when its client leaves: the work goes
     * on until it ends or fails, and its file, removed when the request ends, is then often missing, so that nothing
     * is stored. Work holds a worker thread for its blocking steps (checking, storing the file) and may wait for room
     * in the upload memory. A Kafka application's records are not counted (their own lanes bound them).
     */
    interface Uploads {
        /**
         * Uploads of one API key in progress at once on this replica, bodies still arriving included; one more answers
         * 429 with Retry-After, from its headers.
         */
        @WithDefault("16")
        int perKey();

        /**
         * Uploads at work at once on this replica (their bodies received), every key together; one more answers 503
         * with Retry-After (from its headers when the replica is already full), but a key's first: a key with no
         * upload at work is never refused so (the replica may work this many plus one per key).
         * Keep it well below the worker pool ({@code quarkus.thread-pool.max-threads}, 200 on two cores), which
         * parsing's hand-off, the sweeps and Kafka applications' uploads share.
         */
        @WithDefault("100")
        int max();
    }

    /**
     * Requests waiting for a document to be indexed or failed ({@code GET /v1/documents/{id}?wait=}). A wait holds no
     * thread and no database connection, only its client's open connection; past a cap a request answers at once,
     * as a plain read would (the client polls).
     */
    interface Waits {
        /** Waits of one API key at once, on this replica. */
        @WithDefault("20")
        int perKey();

        /** Waits at once on this replica, every key together. */
        @WithDefault("1000")
        int max();

        /**
         * How often the documents waited for are read (one query for all of them), whatever the notifications say:
         * a wait whose notification was lost (the listening connection down) is woken then. "off" disables it.
         */
        @WithDefault("1s")
        String checkInterval();

        /**
         * How often the connection listening for settled documents must answer a statement (within 5 s): one that does
         * not, silent rather than closed (a network partition), is replaced.
         */
        @WithDefault("30s")
        String listenerCheckInterval();
    }

    /**
     * Files that Kafka applications submit by URL ({@code file_url}): fetched only from the hosts listed here, under
     * the platform's network policy for outgoing connections (the one webhook targets obey).
     */
    interface Fetch {
        /**
         * Where files may be fetched from: {@code host} (any path, on the scheme's default port, 80 or 443) or
         * {@code host:port} ({@code [v6-address]:port}), names as written in the URL. Nothing else is fetched; unset,
         * files by URL are refused.
         */
        Optional<List<String>> allowedHosts();

        /**
         * Listed hosts (names or addresses) that may nevertheless be loopback, link-local or a cloud metadata
         * endpoint, which the network policy refuses otherwise (a single-machine install): as
         * {@code osfria.webhook.allowed-hosts}.
         */
        Optional<List<String>> allowedLocalHosts();

        /**
         * Total deadline of one fetch, from the lookup to the last byte: not an idle time-out, a server that drips
         * bytes cannot stretch it.
         */
        @WithDefault("30s")
        Duration timeout();

        /** Fetches of one application at once; its other records by URL wait, its inline records do not. */
        @WithDefault("4")
        int maxInFlightPerApplication();

        /**
         * Records by URL of one application waiting for a fetch; one more fails at once ({@code fetch_busy}, send
         * it again later), so that an application's waiting records stay well below the consumer's 10-minute bound.
         */
        @WithDefault("16")
        int maxWaitingPerApplication();

        /**
         * How the URL's host is looked up: on the network policy's own threads, on behalf of the application whose
         * record names it, so that an application whose names hang delays no other's fetches.
         */
        Lookups lookups();

        interface Lookups {

            /**
             * Lookups of one application running at once; its further lookups wait in its own queue. A name server
             * that never answers holds as many threads of its application's until the JVM's resolver gives up.
             */
            @WithDefault("2")
            int perApplication();

            /**
             * Lookups running at once, every application together: the bound on the threads that hanging lookups can
             * hold. Filling it takes this many divided by {@code per-application} applications whose name servers hang
             * at the same time.
             */
            @WithDefault("32")
            int threads();

            /**
             * How long a fetch waits for its lookup: then it fails as {@code url_lookup_timeout} (send the record again
             * later), not {@code url_refused}; so does a resolver that fails after at least 5 s, half of it if that
             * is shorter (it gave up on a name server that did not answer). Counted from the ask (a wait for a thread included), longer than the
             * resolver's own 5 s per try, and shorter than {@code fetch.timeout}, which it counts against (the service
             * warns at start-up otherwise).
             */
            @WithDefault("15s")
            Duration deadline();

            /**
             * How long an answer is reused (by every application's fetches from that name) before the name is looked
             * up again; a quick failure at most 5 s. The connection always goes to the address that was checked.
             */
            @WithDefault("30s")
            Duration remembered();
        }
    }

    /** Files no document references (left by a crash between writing a file and committing its row): removed. */
    interface FileSweep {
        /**
         * A file is removed once it has not been written for this long and no row references it; an upload in
         * flight commits its row (or removes its file) long before.
         */
        @WithDefault("1h")
        Duration grace();

        /** How often the sweep runs (the first time 10 s after start); "off" disables it (tests run it themselves). */
        @WithDefault("15m")
        String interval();

        /**
         * A request body spooled to the uploads directory and not written for this long belongs to no live request:
         * the HTTP layer leaves the body of a connection reset mid-upload there, and a silent connection is closed
         * after {@code quarkus.http.idle-timeout} (5 min here), well before.
         */
        @WithDefault("10m")
        Duration bodyGrace();

        /** How often request bodies are swept ("off" disables it). */
        @WithDefault("1m")
        String bodyInterval();
    }


    interface Stall {
        /** A document still processing this long after its last progress is considered stalled. */
        @WithDefault("10m")
        Duration timeout();

        /** How often stalled documents are looked for. */
        @WithDefault("30s")
        Duration checkInterval();

        /** Processing is started this many times at most before the document is marked failed. */
        @WithDefault("3")
        int maxAttempts();
    }

    interface Parsing {
        /** A document whose parsing takes longer fails with "parsing exceeded …". */
        @WithDefault("60s")
        Duration timeout();

        /** Most characters of text taken from one document (zip bombs and runaway spreadsheets stop here). */
        @WithDefault("20000000")
        long maxTextChars();

        /** Documents parsed at once. */
        @WithDefault("2")
        int workers();

        /**
         * Parses abandoned past the time-out whose threads may still run (PDFBox and POI ignore interruption);
         * with {@link #workers()}, the bound on parser threads. When it is reached, new parses wait for one to end.
         */
        @WithDefault("4")
        int maxAbandoned();
    }

    interface Chunking {
        /** Largest chunk, in (estimated) tokens of the embedding model. */
        @WithDefault("400")
        int maxTokens();

        /** Tokens repeated from the end of a chunk at the start of the next. */
        @WithDefault("50")
        int overlapTokens();
    }
}
