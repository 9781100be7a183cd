package fr.osfria.router;

import java.util.Map;

/**
 * {@link SimulatedBackends} with the time-outs that are not under test set so that a loaded build machine keeps
 * them (probes, first token, whole answers, queue), for the attack tests: a backend must never look down because
 * the machine was busy. Idle stays short (2 s), two failures still eject, and a client may leave the router's send
 * buffer full for 5 s.
 */
public class LenientBackends extends SimulatedBackends {

    @Override
    public Map<String, String> start() {
        Map<String, String> config = super.start();
        config.put("osfria.router.probe-timeout", "10s");
        config.put("osfria.router.timeouts.first-token", "20s");
        config.put("osfria.router.timeouts.request", "30s");
        config.put("osfria.router.timeouts.idle", "2s");
        config.put("osfria.router.timeouts.client-write", "5s");
        config.put("osfria.router.admission.queue-size", "256");
        config.put("osfria.router.admission.queue-timeout", "20s");
        config.put("test.http.send-buffer-size", "16384"); // see SmallSendBuffer
        return config;
    }
}
