package fr.osfria.router;

import fr.osfria.testing.OpenAiSimulator;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.HashMap;
import java.util.Map;

/**
 * Two simulated vLLM servers, started before the router so that its configuration can name them. The time-outs are
 * short enough for fault tests to run in seconds, or lenient ({@link LenientBackends}) for the attack tests: there
 * the time-outs that are not under test must hold on a loaded build machine, since a backend must never look down
 * because the machine was busy (idle stays short, two failures still eject, and a client may leave the router's send
 * buffer full for 5 s).
 */
public class SimulatedBackends implements QuarkusTestResourceLifecycleManager {

    public static final String LLAMA = "meta-llama/Llama-3.1-8B-Instruct";
    public static final String MISTRAL = "mistralai/Mistral-7B-Instruct-v0.3";

    public static OpenAiSimulator first;
    public static OpenAiSimulator second;

    private final boolean lenient;

    public SimulatedBackends() {
        this(false);
    }

    protected SimulatedBackends(boolean lenient) {
        this.lenient = lenient;
    }

    @Override
    public Map<String, String> start() {
        first = OpenAiSimulator.start(LLAMA);
        second = OpenAiSimulator.start(LLAMA, MISTRAL);
        Map<String, String> config = new HashMap<>();
        config.put("osfria.router.backends", first.baseUrl() + "," + second.baseUrl());
        config.put("osfria.router.probe-interval", "200ms");
        config.put("osfria.router.probe-timeout", lenient ? "10s" : "2s");
        config.put("osfria.router.timeouts.connect", "500ms");
        config.put("osfria.router.timeouts.first-token", lenient ? "20s" : "1s");
        config.put("osfria.router.timeouts.idle", lenient ? "2s" : "1s");
        config.put("osfria.router.timeouts.request", lenient ? "30s" : "3s");
        config.put("osfria.router.timeouts.client-write", lenient ? "5s" : "30s");
        config.put("osfria.router.circuit-breaker.failures", "2");
        config.put("osfria.router.circuit-breaker.eject-for", "1s");
        config.put("osfria.router.retries.budget-min-per-second", "100");
        config.put("osfria.router.admission.max-in-flight-per-backend", "16");
        config.put("osfria.router.admission.queue-size", lenient ? "256" : "8");
        config.put("osfria.router.admission.queue-timeout", lenient ? "20s" : "3s");
        if (lenient) {
            config.put("test.http.send-buffer-size", "16384"); // see SmallSendBuffer
        }
        return config;
    }

    /** Both backends healthy and behaving, serving their initial models. */
    public static void resetAll() {
        first.reset();
        second.reset();
        first.setModels(LLAMA);
        second.setModels(LLAMA, MISTRAL);
    }

    @Override
    public void stop() {
        first.close();
        second.close();
    }
}
