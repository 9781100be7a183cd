package fr.osfria.local.security;

import static fr.osfria.local.security.StandInServices.BACKEND_URL;
import static fr.osfria.local.security.StandInServices.EXCEPTION_TEXT;
import static fr.osfria.local.security.StandInServices.SECRET_PATH;
import static fr.osfria.local.security.StandInServices.raw;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.local.EntryProxy;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * An anonymous caller reads the entry port's health answers hoping for file paths, exception texts, backend and
 * internal addresses. It must learn UP or DOWN per service, nothing more, whether a service is healthy, failing its
 * checks or not listening at all.
 */
class EntryPortHealthLeaksDetailsAttackTest {

    @Test
    void healthAnswersSayUpOrDownAndNothingElse() throws Exception {
        // embed-service fails its checks (with an exception text), webhook-service is not listening at all
        try (StandInServices services = new StandInServices(Set.of("webhook-service"), Set.of("embed-service"))) {
            EntryProxy proxy = new EntryProxy(services.settings(Map.of()));
            proxy.start();
            try {
                StandInServices.Reply all = raw("127.0.0.1", services.entryPort, "GET", "/q/health");
                assertEquals(503, all.status(), all.body());
                assertEquals("{\"status\":\"DOWN\",\"services\":[{\"name\":\"ingest-service\",\"status\":\"UP\"},"
                        + "{\"name\":\"embed-service\",\"status\":\"DOWN\"},{\"name\":\"inference-router\",\"status\":\"UP\"},"
                        + "{\"name\":\"webhook-service\",\"status\":\"DOWN\"},{\"name\":\"alert-bridge\",\"status\":\"UP\"}]}",
                        all.body());

                StandInServices.Reply router = raw("127.0.0.1", services.entryPort, "GET", "/health");
                assertEquals(200, router.status(), router.body());
                assertEquals("{\"status\":\"UP\"}", router.body());

                StandInServices.Reply unreachable = raw("127.0.0.1", services.entryPort, "GET", "/v1/webhooks");
                assertEquals(502, unreachable.status(), unreachable.body());

                for (StandInServices.Reply reply : List.of(all, router, unreachable)) {
                    for (String leak : List.of(SECRET_PATH, EXCEPTION_TEXT, BACKEND_URL, "refused", "127.0.0.1",
                            String.valueOf(services.entryPort + 4), "error\":\"java", "checks")) {
                        assertFalse(reply.body().contains(leak), "leaks " + leak + ": " + reply.body());
                    }
                }
            } finally {
                proxy.close();
            }
        }
    }

    @Test
    void theRoutersHealthIsDownWhenTheRouterIsGone() throws Exception {
        try (StandInServices services = new StandInServices(Set.of("inference-router"), Set.of())) {
            EntryProxy proxy = new EntryProxy(services.settings(Map.of()));
            proxy.start();
            try {
                StandInServices.Reply router = raw("127.0.0.1", services.entryPort, "GET", "/health");
                assertEquals(503, router.status(), router.body());
                assertEquals("{\"status\":\"DOWN\"}", router.body());
                assertTrue(raw("127.0.0.1", services.entryPort, "GET", "/q/health").body()
                        .contains("{\"name\":\"inference-router\",\"status\":\"DOWN\"}"));
            } finally {
                proxy.close();
            }
        }
    }
}
