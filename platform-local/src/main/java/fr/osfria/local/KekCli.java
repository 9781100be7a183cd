package fr.osfria.local;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.EventJson;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

/**
 * {@code osfria kek status|rotate|reseal|prune}: rotating the local platform's key-encryption key.
 * {@code rotate} makes a new active KEK and retires the current one (services pick it up at their next start);
 * {@code reseal}, with the platform up and an admin key in {@code OSFRIA_API_KEY}, has every service move what it
 * sealed to the active KEK; {@code prune} then forgets the retired KEKs, and only then.
 */
final class KekCli {

    static final String USAGE = """
            usage: osfria kek status             the active KEK id and the retired ones
                   osfria kek rotate             a new active KEK; the current one is retired (restart to apply)
                   osfria kek reseal             with the platform up and OSFRIA_API_KEY an admin key: every service
                                                 re-seals what it holds under the active KEK
                   osfria kek prune [--force]    forgets the retired KEKs once a reseal has completed""";

    /** The services that seal data, each answering POST /v1/admin/kek/reseal. */
    static final List<String> SEALING = List.of("ingest-service", "embed-service", "webhook-service");

    private final LocalSettings settings;
    private final LocalKeks keks;
    private final String apiKey;
    private final PrintStream out;
    private final PrintStream err;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

    KekCli(LocalSettings settings, String apiKey, PrintStream out, PrintStream err) {
        this.settings = settings;
        this.keks = new LocalKeks(settings.dataDir());
        this.apiKey = apiKey;
        this.out = out;
        this.err = err;
    }

    /** Runs one command; returns the exit code (0 done, 1 refused or incomplete, 2 usage). */
    int run(List<String> args) {
        String command = args.isEmpty() ? "" : args.get(0);
        return switch (command) {
            case "status" -> status();
            case "rotate" -> rotate();
            case "reseal" -> reseal();
            case "prune" -> prune(args.contains("--force"));
            default -> {
                err.println(USAGE);
                yield 2;
            }
        };
    }

    private int status() {
        out.println("active KEK: " + keks.activeId() + (keks.resealed() ? " (everything re-sealed under it)" : ""));
        out.println("retired KEKs: " + (keks.retiredIds().isEmpty() ? "none" : String.join(", ", keks.retiredIds())));
        return 0;
    }

    private int rotate() {
        String old = keks.activeId();
        String id = keks.rotate();
        out.println("New active KEK " + id + "; " + old + " is retired and still opens what it sealed.");
        out.println("Next: restart the platform (./osfria up), then OSFRIA_API_KEY=<admin key> ./osfria kek reseal,");
        out.println("then ./osfria kek prune. Keep a copy of " + settings.dataDir() + " until then.");
        return 0;
    }

    private int reseal() {
        if (apiKey == null || apiKey.isBlank()) {
            err.println("osfria kek reseal: set OSFRIA_API_KEY to an admin key");
            return 2;
        }
        String active = keks.activeId();
        boolean complete = true;
        for (LocalSettings.Service service : LocalSettings.SERVICES) {
            if (!SEALING.contains(service.name())) {
                continue;
            }
            try {
                complete &= resealService(service, active);
            } catch (IOException e) {
                err.println(service.name() + ": not reachable (" + e.getMessage() + "); is the platform up?");
                return 1;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return 1;
            }
        }
        if (!complete) {
            return 1;
        }
        keks.markResealed();
        out.println("Everything is sealed under " + active + "."
                + (keks.retiredIds().isEmpty() ? "" : " ./osfria kek prune now forgets " + String.join(", ", keks.retiredIds())
                + " (restart afterwards)."));
        return 0;
    }

    /** Calls the service until nothing is left under another KEK, or nothing more moves. */
    private boolean resealService(LocalSettings.Service service, String active) throws IOException, InterruptedException {
        URI uri = URI.create("http://127.0.0.1:" + settings.portOf(service) + "/v1/admin/kek/reseal");
        int total = 0;
        while (true) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(2))
                    .header("Authorization", "Bearer " + apiKey).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            JsonNode body = EventJson.MAPPER.readTree(r.body().isEmpty() ? "{}" : r.body());
            if (r.statusCode() != 200) {
                err.println(service.name() + ": " + r.statusCode() + " " + body.path("error").path("message").asText(r.body()));
                return false;
            }
            String kekId = body.path("kek_id").asText();
            if (!kekId.equals(active)) {
                err.println(service.name() + " runs with KEK " + kekId + ", not " + active + ": restart the platform first");
                return false;
            }
            int resealed = body.path("resealed").asInt();
            int remaining = body.path("remaining").asInt();
            int unreadable = body.path("unreadable").asInt();
            total += resealed;
            if (remaining == 0) {
                out.println(service.name() + ": " + total + " re-sealed, everything under " + active);
                return true;
            }
            if (resealed == 0) {
                err.println(service.name() + ": " + remaining + " still under a retired KEK, " + unreadable
                        + " of them opened by no configured KEK");
                return false;
            }
        }
    }

    private int prune(boolean force) {
        if (keks.retiredIds().isEmpty()) {
            out.println("No retired KEK.");
            return 0;
        }
        if (!keks.resealed() && !force) {
            err.println("osfria kek prune: no complete reseal under " + keks.activeId()
                    + " yet; run ./osfria kek reseal first (--force loses whatever is still sealed under "
                    + String.join(", ", keks.retiredIds()) + ")");
            return 1;
        }
        out.println("Forgot " + String.join(", ", keks.prune()) + "; restart the platform to apply.");
        return 0;
    }
}
