package fr.osfria.router.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The router's Prometheus series. Latencies are histograms with fixed buckets, so P50/P95/P99 come from
 * {@code histogram_quantile} over any set of replicas. Model tags only carry models a backend listed, never a
 * client's free text.
 */
@ApplicationScoped
public class RouterMetrics {

    private static final Duration[] LATENCY_BUCKETS = seconds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
            30, 60, 120, 300);
    private static final Duration[] TOKEN_GAP_BUCKETS = seconds(0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15,
            0.2, 0.3, 0.5, 1, 2.5);

    private final MeterRegistry registry;
    private final ConcurrentHashMap<String, Timer> durations = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Counter> requests = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Timer> firstToken = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Timer> interToken = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Counter> tokens = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, DistributionSummary> speed = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Counter> retries = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Counter> ejections = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Counter> rejections = new ConcurrentHashMap<>();

    public RouterMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** One finished request: {@code outcome} is {@code ok}, {@code client_error}, {@code backend_error}, ... */
    public void request(String model, String outcome, long nanos) {
        String k = model + '\0' + outcome;
        durations.computeIfAbsent(k, x -> Timer.builder("osfria.router.request.duration")
                .description("Time from request to the last byte of the answer")
                .tags("model", model, "outcome", outcome)
                .serviceLevelObjectives(LATENCY_BUCKETS).register(registry)).record(nanos, TimeUnit.NANOSECONDS);
        requests.computeIfAbsent(k, x -> Counter.builder("osfria.router.requests")
                .description("Requests by model and outcome").tags("model", model, "outcome", outcome)
                .register(registry)).increment();
    }

    public void timeToFirstToken(String model, long nanos) {
        firstToken.computeIfAbsent(model, m -> Timer.builder("osfria.router.time.to.first.token")
                .description("Time from request to the first streamed token").tag("model", m)
                .serviceLevelObjectives(LATENCY_BUCKETS).register(registry)).record(nanos, TimeUnit.NANOSECONDS);
    }

    public Timer interTokenTimer(String model) {
        return interToken.computeIfAbsent(model, m -> Timer.builder("osfria.router.inter.token.latency")
                .description("Gap between two streamed tokens").tag("model", m)
                .serviceLevelObjectives(TOKEN_GAP_BUCKETS).register(registry));
    }

    public void tokens(String model, long prompt, long completion) {
        tokenCounter(model, "prompt").increment(prompt);
        tokenCounter(model, "completion").increment(completion);
    }

    /** Completion tokens per second of one answer, from its first token to its last. */
    public void generationSpeed(String model, double tokensPerSecond) {
        speed.computeIfAbsent(model, m -> DistributionSummary.builder("osfria.router.generation.tokens.per.second")
                .description("Decode speed of one answer, completion tokens per second").tag("model", m)
                .serviceLevelObjectives(5, 10, 20, 30, 50, 75, 100, 150, 200, 400).register(registry))
                .record(tokensPerSecond);
    }

    public void retry(String reason) {
        retries.computeIfAbsent(reason, r -> Counter.builder("osfria.router.retries")
                .description("Attempts sent again to another backend, by reason").tag("reason", r)
                .register(registry)).increment();
    }

    public void ejection(String backend) {
        ejections.computeIfAbsent(backend, b -> Counter.builder("osfria.router.ejections")
                .description("Times the circuit breaker took a backend out").tag("backend", b)
                .register(registry)).increment();
    }

    /** A request refused before reaching a backend: {@code rate_limit}, {@code quota}, {@code overloaded}, ... */
    public void rejection(String reason) {
        rejections.computeIfAbsent(reason, r -> Counter.builder("osfria.router.rejections")
                .description("Requests refused by the router before any backend, by reason").tag("reason", r)
                .register(registry)).increment();
    }

    private Counter tokenCounter(String model, String kind) {
        return tokens.computeIfAbsent(model + '\0' + kind, x -> Counter.builder("osfria.router.tokens")
                .description("Tokens by model and kind (prompt, completion)").tags("model", model, "kind", kind)
                .register(registry));
    }

    private static Duration[] seconds(double... values) {
        Duration[] d = new Duration[values.length];
        for (int i = 0; i < values.length; i++) {
            d[i] = Duration.ofNanos((long) (values[i] * 1e9));
        }
        return d;
    }
}
