package fr.osfria.router.batch;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.Topics;
import fr.osfria.events.app.InferenceResult;
import fr.osfria.router.RouterConfig;
import fr.osfria.security.messaging.ConsumerLiveness;
import io.quarkus.logging.Log;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Consumes every application's {@code osfria.app.<name>.inference.v1} (pattern subscription, one consumer group for
 * the router replicas) and writes one answer per record to the application's {@code results.v1}, or a dead letter
 * to its {@code dlq.v1} when the record has no {@code custom_id} to answer.
 *
 * <p>Exactly once, for readers of the results in {@code read_committed}: answers and the consumed offsets are
 * committed together in one Kafka transaction, every {@code commitInterval}, for each partition's records answered
 * so far in offset order (a slow request holds back the commit of later records of its partition, never their
 * processing). A replica that dies leaves its open transaction uncommitted (aborted when it starts again, or after
 * the transaction time-out): its records are read again from the last committed offset and answered once. A replica
 * that lost its partitions cannot commit answers for them any more (the offsets carry the group's generation,
 * KIP-447). A request in progress when its replica died is sent to a backend again: its usage then counts twice.
 *
 * <p>At most {@code maxPending} records (and {@link #MAX_PENDING_BYTES}) are read and not yet committed: the
 * consumer pauses beyond, and keeps polling, so a long batch never costs its group membership.
 */
public final class BatchWorker implements Runnable, AutoCloseable {

    static final Pattern TOPIC = Pattern.compile(Topics.APP_INFERENCE_PATTERN);
    static final String REASON_HEADER = "dead-letter-reason";
    static final long MAX_PENDING_BYTES = 64L * 1024 * 1024;
    /** Results topics keep the broker's default record size: a larger answer is replaced by an error. */
    static final int MAX_ANSWER_BYTES = 1_000_000;

    private final String bootstrap;
    private final RouterConfig.Batch config;
    private final long maxBodyBytes;
    private final BiFunction<String, BatchLine, CompletableFuture<InferenceResult>> runner;
    private final Map<TopicPartition, ArrayDeque<Pending>> pending = new HashMap<>();
    private int pendingCount;
    private long pendingBytes;
    private long lastCommitNanos = System.nanoTime();
    private volatile boolean running = true;
    private volatile boolean crashAtNextCommit;
    private volatile KafkaConsumer<String, String> consumer;

    /** A record read and not yet committed; {@code out} completes with what to write for it. */
    private record Pending(long offset, int bytes, CompletableFuture<List<ProducerRecord<String, String>>> out) {
    }

    /** Thrown by {@link #crashAtNextCommit()}'s commit: the worker stops as a killed process would. */
    private static final class Crash extends RuntimeException {
        Crash() {
            super("simulated crash", null, false, false);
        }
    }

    private final String transactionalId;

    /**
     * @param transactionalId this replica's, the same across its restarts: a restarted replica's first
     *                        {@code initTransactions} aborts what its previous life left open, at once, instead of
     *                        the transaction time-out later (until then its group's committed offsets are unstable
     *                        and its answers hold back read_committed readers). Two live replicas must not share it.
     */
    public BatchWorker(String bootstrap, RouterConfig.Batch config, long maxBodyBytes, String transactionalId,
                       BiFunction<String, BatchLine, CompletableFuture<InferenceResult>> runner) {
        this.bootstrap = bootstrap;
        this.transactionalId = transactionalId;
        this.config = config;
        this.maxBodyBytes = maxBodyBytes;
        this.runner = runner;
    }

    @Override
    public void run() {
        while (running) {
            KafkaConsumer<String, String> c = new KafkaConsumer<>(consumerProperties(), new StringDeserializer(),
                    new StringDeserializer());
            KafkaProducer<String, String> producer = new KafkaProducer<>(producerProperties(), new StringSerializer(),
                    new StringSerializer());
            boolean crashed = false;
            try {
                consumer = c;
                producer.initTransactions();
                c.subscribe(TOPIC, new ConsumerRebalanceListener() {
                    @Override
                    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                        commit(c, producer); // still their owner: what is answered goes out with its offsets
                        drop(partitions);
                    }

                    @Override
                    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    }

                    @Override
                    public void onPartitionsLost(Collection<TopicPartition> partitions) {
                        drop(partitions); // another replica owns them already: it answers them
                    }
                });
                while (running) {
                    for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) {
                        accept(r);
                    }
                    if (System.nanoTime() - lastCommitNanos >= config.commitInterval().toNanos()) {
                        commit(c, producer);
                    }
                    flowControl(c);
                }
            } catch (Crash e) {
                crashed = true;
                running = false;
            } catch (WakeupException e) {
                if (!running) {
                    try {
                        commit(c, producer); // a clean stop: what is answered is not done again
                    } catch (RuntimeException ignored) {
                        // read again and answered by the next owner
                    }
                    break;
                }
            } catch (Exception e) {
                if (!running) {
                    break;
                }
                // nothing uncommitted is kept: the records are read again from the committed offsets
                Log.warnf("batch inference: %s; starting again in 2 s", e.toString());
                sleep(2000);
            } finally {
                pending.clear();
                pendingCount = 0;
                pendingBytes = 0;
                consumer = null;
                producer.close(crashed ? Duration.ZERO : Duration.ofSeconds(5));
                c.close(crashed ? Duration.ZERO : Duration.ofSeconds(5));
            }
        }
    }

    private void accept(ConsumerRecord<String, String> r) {
        Matcher topic = TOPIC.matcher(r.topic());
        String app = topic.matches() ? topic.group(1) : null;
        CompletableFuture<List<ProducerRecord<String, String>>> out;
        if (app == null) {
            out = CompletableFuture.completedFuture(List.of()); // not an inference topic: nothing to answer
        } else {
            out = answer(app, r);
        }
        int bytes = r.value() == null ? 0 : r.value().length();
        pending.computeIfAbsent(new TopicPartition(r.topic(), r.partition()), p -> new ArrayDeque<>())
                .add(new Pending(r.offset(), bytes, out));
        pendingCount++;
        pendingBytes += bytes;
    }

    /** What to write for one record: its answer, or its dead letter when it has no custom_id. Never fails. */
    private CompletableFuture<List<ProducerRecord<String, String>>> answer(String app, ConsumerRecord<String, String> r) {
        BatchLine line;
        try {
            line = BatchLine.parse(r.value(), maxBodyBytes);
        } catch (BatchLine.Unanswerable e) {
            return CompletableFuture.completedFuture(List.of(deadLetter(app, r, e.getMessage())));
        } catch (BatchLine.Refused e) {
            return CompletableFuture.completedFuture(List.of(result(app, error(e.customId, e.code, e.getMessage()))));
        }
        CompletableFuture<InferenceResult> run;
        try {
            run = runner.apply(app, line);
        } catch (RuntimeException e) {
            run = CompletableFuture.failedFuture(e);
        }
        return run.exceptionally(e -> {
            Log.errorf(e, "batch request %s of %s", line.customId(), app);
            return error(line.customId(), "internal_error", "internal error: " + e.getClass().getSimpleName());
        }).thenApply(result -> List.of(result(app, result)));
    }

    private static InferenceResult error(String customId, String code, String message) {
        return new InferenceResult("batch_req_" + UUID.randomUUID().toString().replace("-", ""), customId, null,
                new InferenceResult.Error(code, message), null);
    }

    /** The answer, keyed by custom_id. */
    static ProducerRecord<String, String> result(String app, InferenceResult result) {
        String value = EventJson.encode(CloudEvent.of(RouterConfig.EVENT_SOURCE, InferenceResult.TYPE,
                result.customId(), result));
        if (value.length() > MAX_ANSWER_BYTES / 4 && value.getBytes(StandardCharsets.UTF_8).length > MAX_ANSWER_BYTES) {
            InferenceResult small = new InferenceResult(result.id(), result.customId(), null, new InferenceResult.Error(
                    "response_too_large", "the answer is larger than " + MAX_ANSWER_BYTES + " bytes"), result.usage());
            value = EventJson.encode(CloudEvent.of(RouterConfig.EVENT_SOURCE, InferenceResult.TYPE, result.customId(), small));
        }
        return new ProducerRecord<>(Topics.appResults(app), result.customId(), value);
    }

    /**
     * The record as sent when it was a JSON object of at most {@link #MAX_ANSWER_BYTES} (else its size), where it was
     * read and why it is refused.
     */
    static ProducerRecord<String, String> deadLetter(String app, ConsumerRecord<String, String> r, String reason) {
        Map<String, Object> letter = new LinkedHashMap<>();
        letter.put("reason", reason);
        letter.put("application", app);
        letter.put("topic", r.topic());
        letter.put("partition", r.partition());
        letter.put("offset", r.offset());
        JsonNode record = null;
        try {
            record = r.value() == null ? null : EventJson.MAPPER.readTree(r.value());
        } catch (JsonProcessingException e) {
            // not JSON: only its size is kept
        }
        // a large record is kept as its size: its letter must fit the dead-letter topic, or it would fail every commit
        if (record != null && record.isObject() && r.value().length() <= MAX_ANSWER_BYTES) {
            letter.put("record", record);
        } else {
            letter.put("record_bytes", r.value() == null ? 0 : r.value().getBytes(StandardCharsets.UTF_8).length);
        }
        String json;
        try {
            json = EventJson.MAPPER.writeValueAsString(letter);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        ProducerRecord<String, String> out = new ProducerRecord<>(Topics.appDeadLetter(app),
                r.topic() + "-" + r.partition() + "-" + r.offset(), json);
        out.headers().add(REASON_HEADER, reason.getBytes(StandardCharsets.UTF_8));
        return out;
    }

    /** Each partition's answered records, in offset order up to the first unanswered one, in one transaction. */
    private void commit(KafkaConsumer<String, String> c, KafkaProducer<String, String> producer) {
        lastCommitNanos = System.nanoTime();
        List<ProducerRecord<String, String>> out = new ArrayList<>();
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (Map.Entry<TopicPartition, ArrayDeque<Pending>> e : pending.entrySet()) {
            ArrayDeque<Pending> queue = e.getValue();
            while (!queue.isEmpty() && queue.peekFirst().out().isDone()) {
                Pending p = queue.pollFirst();
                pendingCount--;
                pendingBytes -= p.bytes();
                out.addAll(p.out().join());
                offsets.put(e.getKey(), new OffsetAndMetadata(p.offset() + 1));
            }
        }
        if (offsets.isEmpty()) {
            return;
        }
        producer.beginTransaction();
        try {
            out.forEach(producer::send);
            producer.sendOffsetsToTransaction(offsets, c.groupMetadata());
            if (crashAtNextCommit) {
                throw new Crash(); // the answers are sent, not committed: what a crash at this point leaves
            }
            producer.commitTransaction();
        } catch (Crash e) {
            throw e;
        } catch (RuntimeException e) {
            try {
                producer.abortTransaction();
            } catch (RuntimeException ignored) {
                // fenced or broken: the clients are made again
            }
            throw e; // the run loop starts over from the committed offsets
        }
    }

    private void drop(Collection<TopicPartition> partitions) {
        for (TopicPartition p : partitions) {
            ArrayDeque<Pending> queue = pending.remove(p);
            if (queue != null) {
                pendingCount -= queue.size();
                queue.forEach(q -> pendingBytes -= q.bytes());
            }
        }
    }

    private void flowControl(KafkaConsumer<String, String> c) {
        if (pendingCount >= config.maxPending() || pendingBytes >= MAX_PENDING_BYTES) {
            c.pause(c.assignment());
        } else if (!c.paused().isEmpty()) {
            c.resume(c.paused());
        }
    }

    /** Tests: the next commit sends its answers and offsets, then the worker dies without committing them. */
    public void crashAtNextCommit() {
        crashAtNextCommit = true;
    }

    private Properties consumerProperties() {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, config.group());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        // a new application's topic is seen within seconds
        p.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, "2000");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "100");
        // a new application's topic (or another replica) moves only the partitions that change owner: with the
        // eager protocol every rebalance would drop all the work in progress, to be done again
        p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
                org.apache.kafka.clients.consumer.CooperativeStickyAssignor.class.getName());
        // a killed replica's partitions move to another within the platform's session time-out
        ConsumerLiveness.applyTo(p);
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, String.valueOf(13 * 1024 * 1024));
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "inference-router-batch");
        return p;
    }

    private Properties producerProperties() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        // a zombie that lost its partitions is fenced through the consumer group's generation (KIP-447)
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, String.valueOf(config.transactionTimeout().toMillis()));
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(13 * 1024 * 1024)); // dead letters of large records
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "inference-router-batch");
        return p;
    }

    @Override
    public void close() {
        running = false;
        KafkaConsumer<String, String> c = consumer;
        if (c != null) {
            c.wakeup();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
