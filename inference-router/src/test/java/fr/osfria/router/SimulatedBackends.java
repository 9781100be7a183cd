package fr.osfria.router;

import fr.osfria.testing.OpenAiSimulator;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/** Two simulated vLLM servers, started before the router so that its configuration can name them. */
public class SimulatedBackends implements QuarkusTestResourceLifecycleManager {

    public static OpenAiSimulator first;
    public static OpenAiSimulator second;

    @Override
    public Map<String, String> start() {
        first = OpenAiSimulator.start("meta-llama/Llama-3.1-8B-Instruct");
        second = OpenAiSimulator.start("meta-llama/Llama-3.1-8B-Instruct", "mistralai/Mistral-7B-Instruct-v0.3");
        return Map.of("osfria.router.backends", first.baseUrl() + "," + second.baseUrl(),
                "osfria.router.probe-interval", "200ms");
    }

    @Override
    public void stop() {
        first.close();
        second.close();
    }
}
