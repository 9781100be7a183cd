package fr.osfria.router.usage;

import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.Topics;
import fr.osfria.events.usage.UsageRecord;
import fr.osfria.events.usage.UsageTally;
import fr.osfria.router.RouterConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Sends one usage record per request to the usage topic (billing's exact record), keyed by key name so one
 * partition holds a key's records, and every {@link #TALLY_INTERVAL} ms one tally per key to the tallies topic (what
 * quotas and thresholds are computed from: every replica reads all of it, so it must not grow with the request
 * rate). The request's event loop only drops the record in a queue; one thread encodes and sends what gathered
 * in the {@link #HAND_OVER} ms after the first record it finds there; with nothing to send it sleeps until a record
 * comes (it looks at the tallies' time and whether it must stop at least every {@link #IDLE_WAIT} ms). That thread
 * may wait where an event loop must not: for the topics' metadata after a start (a send that may not wait loses the
 * first records) and for Kafka while it is away (records then gather in the producer's 32 MiB buffer, ~100,000
 * records, for up to 10 minutes). A plain Kafka producer, not a messaging channel: it is fed by every inference
 * request.
 */
@ApplicationScoped
public class UsageRecorder {

    private static final long HAND_OVER = 20;
    /** Longest wait for a record: how late a stop is seen, and an idle router's wake-ups (not 50 a second). */
    static final long IDLE_WAIT = 250;
    private static final long TALLY_INTERVAL = 1000;
    private static final int QUEUE = 100_000;

    private final KafkaProducer<String, String> producer;
    private final BlockingQueue<UsageRecord> queue = new ArrayBlockingQueue<>(QUEUE);
    private final UsageTallies tallies = new UsageTallies();
    private final Counter lost;
    private final Counter talliesLost;
    private final Thread sender = new Thread(this::run, "osfria-usage-recorder");
    private final UsageLedger ledger;
    private volatile boolean running = true;

    public UsageRecorder(@ConfigProperty(name = "kafka.bootstrap.servers") String bootstrap, MeterRegistry meters,
                         UsageLedger ledger) {
        this.ledger = ledger;
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        // one produce request a second, large and compressed: each one wakes the producer's network thread and the
        // broker, and at 1,000 req/s ten a second (linger 100 ms) still doubled the latency the router adds at p99
        p.put(ProducerConfig.LINGER_MS_CONFIG, "1000");
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, "262144");
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "inference-router-usage");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "600000");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "600000");
        this.producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
        this.lost = Counter.builder("osfria.router.usage.records.lost")
                .description("Usage records Kafka did not take (its outage outlasted the buffer)").register(meters);
        this.talliesLost = Counter.builder("osfria.router.usage.tallies.lost")
                .description("Per-key usage tallies Kafka did not take: other replicas' quotas undercount their tokens").register(meters);
        Gauge.builder("osfria.router.usage.records.queued", queue, BlockingQueue::size)
                .description("Usage records waiting to be handed to the Kafka producer").register(meters);
        sender.setDaemon(true);
    }

    void start(@Observes StartupEvent event) {
        sender.start();
    }

    void stop(@Observes ShutdownEvent event) throws InterruptedException {
        running = false; // no interrupt: one in the middle of a send would count the records of its round as lost
        sender.join(5000);
        sendQueued(); // whatever arrived after the sender's last round
        sendTallies();
        producer.close(Duration.ofSeconds(10)); // flushes what is buffered
    }

    /** Called on the request's event loop: never blocks. */
    public void record(UsageRecord record) {
        if (!queue.offer(record)) {
            failed(record, "the queue to Kafka is full (" + QUEUE + " records)");
            // never tallied: this replica's quotas count it themselves
            ledger.countLocally(record.keyName(), record.time() != null ? record.time() : java.time.Instant.now(),
                    record.totalTokens(), 1);
        }
    }

    private void run() {
        long lastTally = System.nanoTime();
        while (running) {
            try {
                long untilTally = TALLY_INTERVAL - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastTally);
                UsageRecord first = queue.poll(Math.max(1, Math.min(IDLE_WAIT, untilTally)), TimeUnit.MILLISECONDS);
                if (first != null) {
                    TimeUnit.MILLISECONDS.sleep(HAND_OVER); // a pause, not a wake-up per record
                    send(first);
                    sendQueued();
                }
                if (System.nanoTime() - lastTally >= TimeUnit.MILLISECONDS.toNanos(TALLY_INTERVAL)) {
                    lastTally = System.nanoTime();
                    sendTallies();
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                Log.errorf(e, "usage recorder");
            }
        }
    }

    private void sendQueued() {
        List<UsageRecord> batch = new ArrayList<>();
        queue.drainTo(batch);
        batch.forEach(this::send);
    }

    private void send(UsageRecord record) {
        tallies.add(record);
        send(Topics.USAGE, EventTypes.USAGE_RECORDED, record.keyName(), record, false, why -> failed(record, why));
    }

    private void sendTallies() {
        for (UsageTally tally : tallies.drain()) {
            send(Topics.USAGE_TALLIES, EventTypes.USAGE_TALLIED, tally.keyName(), tally, true, why -> failed(tally, why));
        }
    }

    /**
     * One event keyed by key name, {@code signed} with this process's name (tallies: see {@link UsageLedger});
     * {@code failed} learns why when Kafka does not take it.
     */
    private void send(String topic, String type, String keyName, Object data, boolean signed, Consumer<String> failed) {
        String value = EventJson.encode(CloudEvent.of(RouterConfig.EVENT_SOURCE, type, keyName, data));
        ProducerRecord<String, String> record = new ProducerRecord<>(topic, keyName, value);
        if (signed) {
            record.headers().add(TalliesTopic.WRITER_HEADER, TalliesTopic.WRITER);
        }
        try {
            producer.send(record, (metadata, e) -> {
                if (e != null) {
                    failed.accept(e.getMessage());
                }
            });
        } catch (RuntimeException e) {
            failed.accept(e.getMessage());
        }
    }

    private void failed(UsageTally tally, String why) {
        talliesLost.increment();
        ledger.countLocally(tally.keyName(), tally.time(), tally.totalTokens(), tally.requests()); // other replicas will not see it
        Log.errorf("usage tally of key %s (%d tokens in %d requests) not written, quotas will not count them: %s",
                tally.keyName(), tally.totalTokens(), tally.requests(), why);
    }

    private void failed(UsageRecord record, String why) {
        lost.increment();
        Log.errorf("usage record %s (key %s, %d tokens) not written: %s", record.requestId(), record.keyName(),
                record.totalTokens(), why);
    }
}
