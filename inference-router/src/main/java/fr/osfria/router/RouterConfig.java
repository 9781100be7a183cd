package fr.osfria.router;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

@ConfigMapping(prefix = "osfria.router")
public interface RouterConfig {

    /** The CloudEvents {@code source} of every event the router publishes. */
    String EVENT_SOURCE = "/osfria/inference-router";

    /** Base URLs of OpenAI-compatible backends (vLLM servers), e.g. {@code http://10.0.0.5:8000}. */
    Optional<List<String>> backends();

    /** Backends found by DNS, e.g. a Kubernetes headless service. */
    Discovery discovery();

    /**
     * How often each backend's {@code /v1/models} and {@code /metrics} are polled; also how soon a backend that is back
     * returns to rotation (the chaos suite holds it to 5 s).
     */
    @WithDefault("2s")
    Duration probeInterval();

    /** Time-out of one probe; a backend that does not answer in time counts as unhealthy. */
    @WithDefault("2s")
    Duration probeTimeout();

    Balancing balancing();

    Timeouts timeouts();

    Retries retries();

    CircuitBreaker circuitBreaker();

    Admission admission();

    Quota quota();

    Batch batch();

    /** Largest request body accepted; larger answers 413. */
    @WithDefault("4M")
    io.quarkus.runtime.configuration.MemorySize maxBodySize();

    interface Discovery {
        /** DNS name whose A/AAAA records are the backends, e.g. {@code vllm-headless.osfria-ai.svc.cluster.local}. */
        Optional<String> dnsName();

        @WithDefault("8000")
        int port();

        @WithDefault("http")
        String scheme();

        /** How often the DNS name is resolved again, to see pods come and go. */
        @WithDefault("10s")
        Duration interval();
    }

    interface Balancing {
        /** {@code least-loaded} (power of two choices) or {@code affinity} (same user/session/prefix → same backend). */
        @WithDefault("least-loaded")
        String strategy();

        /** Header naming a session for affinity; the body's {@code user} is used when it is absent. */
        @WithDefault("x-session-id")
        String sessionHeader();

        /** Characters of the prompt that key affinity when neither session nor user is given; 0 turns it off. */
        @WithDefault("256")
        int prefixLength();

        /**
         * An affine backend is skipped when its load exceeds this factor times the pool's mean load (plus one), so
         * a hot key cannot overload one backend.
         */
        @WithDefault("1.5")
        double loadBound();
    }

    interface Timeouts {
        @WithDefault("2s")
        Duration connect();

        /** Streams: from sending the request to the first token. Retried on another backend when it expires. */
        @WithDefault("30s")
        Duration firstToken();

        /** Streams: longest silence between two tokens before the stream is ended with an error. */
        @WithDefault("30s")
        Duration idle();

        /** Non-streaming requests: the whole answer, which a backend sends only when generation ends. */
        @WithDefault("300s")
        Duration request();

        /**
         * Streams: longest time a client may leave the router's send buffer full. Then the stream is ended for that
         * client alone; its slowness never counts against the backend, which is paused meanwhile.
         */
        @WithDefault("30s")
        Duration clientWrite();
    }

    interface Retries {
        /** Attempts per request, the first included, each on a backend not tried yet. */
        @WithDefault("3")
        int maxAttempts();

        /** Base of the jittered exponential back-off between attempts. */
        @WithDefault("20ms")
        Duration backoff();

        /** Retries allowed as a fraction of requests over the last 10 s, so retries cannot amplify an outage. */
        @WithDefault("0.2")
        double budgetRatio();

        /** Retries always allowed per second, whatever the traffic. */
        @WithDefault("5")
        int budgetMinPerSecond();
    }

    interface CircuitBreaker {
        /** Consecutive failures that eject a backend. */
        @WithDefault("3")
        int failures();

        /** How long an ejected backend waits before one trial request (doubling while it keeps failing). */
        @WithDefault("5s")
        Duration ejectFor();

        @WithDefault("60s")
        Duration maxEjectFor();
    }

    interface Admission {
        /** Requests one backend is given at once; beyond it requests wait in the queue. */
        @WithDefault("256")
        int maxInFlightPerBackend();

        /** Requests waiting for a backend, beyond which the router answers 503 at once. */
        @WithDefault("1000")
        int queueSize();

        /** Longest wait in the queue before 503. */
        @WithDefault("10s")
        Duration queueTimeout();
    }

    /** Batch inference from Kafka applications ({@code osfria.app.<name>.inference.v1}): spare capacity only. */
    interface Batch {
        /** Whether the router consumes the applications' inference topics. */
        @WithDefault("true")
        boolean enabled();

        /**
         * A batch request starts on a backend only while the backend's whole load (interactive and batch requests,
         * vLLM's queue) is below this, and never above half of {@code admission.max-in-flight-per-backend}: the other
         * half is the room interactive requests always find. Keep it below what a backend serves without slowing.
         */
        @WithDefault("16")
        int maxLoadPerBackend();

        /** Records read and not yet answered and committed, across the applications: the consumer pauses beyond. */
        @WithDefault("256")
        int maxPending();

        /** How often answered records are committed (their answers and offsets, in one Kafka transaction). */
        @WithDefault("500ms")
        Duration commitInterval();

        /** Consumer group of the router replicas on the inference topics. */
        @WithDefault("inference-router-batch")
        String group();

        /** Kafka transaction time-out: how long a crashed replica's unfinished answers hold back read_committed readers. */
        @WithDefault("15s")
        Duration transactionTimeout();
    }

    interface Quota {
        /** Fractions of a key's daily/monthly token quota at which {@code usage.threshold} is published. */
        @WithDefault("0.5,0.8,1.0")
        List<Double> thresholds();

        /** Time zone of the daily and monthly windows. */
        @WithDefault("UTC")
        String zone();

        /** Completion tokens a request without {@code max_tokens} reserves against a key's quota while it runs. */
        @WithDefault("1024")
        long defaultMaxTokens();
    }
}
