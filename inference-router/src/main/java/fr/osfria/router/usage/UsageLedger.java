package fr.osfria.router.usage;

import fr.osfria.events.Topics;
import fr.osfria.router.RouterConfig;
import fr.osfria.router.limit.RateLimiter.Refusal;
import fr.osfria.security.key.KeyEntry;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Every key's token use this day and month, read by every router replica from the whole usage tallies topic (from
 * the start of the month on start-up), so a daily or monthly quota is enforced the same by all replicas, whichever
 * served the requests. Replicas tally their usage per key every second, so a key may overrun its quota by what it
 * uses in about two seconds (the tally, then the read).
 */
@ApplicationScoped
public class UsageLedger {

    private final String bootstrap;
    private final UsageTotals totals;
    private volatile boolean running;
    private volatile boolean caughtUp;
    private Thread thread;
    private KafkaConsumer<String, String> consumer;

    public UsageLedger(@ConfigProperty(name = "kafka.bootstrap.servers") String bootstrap, RouterConfig config) {
        this.bootstrap = bootstrap;
        this.totals = new UsageTotals(ZoneId.of(config.quota().zone()));
    }

    void start(@Observes StartupEvent event) {
        running = true;
        thread = new Thread(this::run, "osfria-usage-ledger");
        thread.setDaemon(true);
        thread.start();
    }

    void stop(@Observes ShutdownEvent event) {
        running = false;
        KafkaConsumer<String, String> c = consumer;
        if (c != null) {
            c.wakeup();
        }
    }

    /** A quota refusal for the key, or null while it is under its daily and monthly quotas. */
    public Refusal check(KeyEntry key, Instant now) {
        if (key.dailyTokens() != null && totals.today(key.name(), now) >= key.dailyTokens()) {
            return new Refusal(totals.secondsToEndOfDay(now), "Key '" + key.name() + "' has used its daily quota of "
                    + key.dailyTokens() + " tokens");
        }
        if (key.monthlyTokens() != null && totals.thisMonth(key.name(), now) >= key.monthlyTokens()) {
            return new Refusal(totals.secondsToEndOfMonth(now), "Key '" + key.name()
                    + "' has used its monthly quota of " + key.monthlyTokens() + " tokens");
        }
        return null;
    }

    public long usedToday(String key, Instant now) {
        return totals.today(key, now);
    }

    /** Whether the initial replay reached the end of the topic. */
    public boolean caughtUp() {
        return caughtUp;
    }

    private void run() {
        while (running) {
            try (KafkaConsumer<String, String> c = new KafkaConsumer<>(
                    TalliesTopic.consumerProperties(bootstrap, "inference-router-usage-ledger"), new StringDeserializer(),
                    new StringDeserializer())) {
                consumer = c;
                List<TopicPartition> partitions = c.partitionsFor(Topics.USAGE_TALLIES, Duration.ofSeconds(10)).stream()
                        .map(p -> new TopicPartition(Topics.USAGE_TALLIES, p.partition())).toList();
                if (partitions.isEmpty()) {
                    Thread.sleep(1000);
                    continue;
                }
                c.assign(partitions);
                TalliesTopic.monthStartOffsets(c, partitions, totals.monthStart(Instant.now())).forEach(c::seek);
                Map<TopicPartition, Long> ends = c.endOffsets(partitions);
                while (running) {
                    for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) {
                        add(r);
                    }
                    if (!caughtUp && partitions.stream().allMatch(p -> c.position(p) >= ends.get(p))) {
                        caughtUp = true;
                        Log.infof("usage ledger caught up with %s", Topics.USAGE_TALLIES);
                    }
                }
            } catch (WakeupException e) {
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                Log.warnf("usage ledger: %s; reading the tallies again in 2 s", e.toString());
                totals.clear();
                sleep(2000);
            }
        }
    }

    private void add(ConsumerRecord<String, String> r) {
        TalliesTopic.Tally u = TalliesTopic.read(r, "usage ledger");
        if (u != null) {
            totals.add(u.keyName(), u.time(), u.totalTokens());
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
