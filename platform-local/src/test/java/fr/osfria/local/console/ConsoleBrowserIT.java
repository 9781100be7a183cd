package fr.osfria.local.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import fr.osfria.local.ChildScript;
import fr.osfria.local.e2e.SharedPlatform;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.PDPageContentStream;
import org.apache.pdfbox.pdmodel.font.PDType1Font;
import org.apache.pdfbox.pdmodel.font.Standard14Fonts;
import org.junit.jupiter.api.Test;

/**
 * The web console in a real browser against the shared local platform (two OpenAI simulators as backends): Debian's
 * Chromium, headless, driven by playwright-core ({@code console/src/test/browser/console.test.mjs}), both fetched
 * by {@link BrowserTools} when missing. The script walks the scenarios a user would (a wrong key, sign in, a PDF
 * dropped and watched to {@code indexed}, search, chat from the documents with a citation, a webhook delivery and
 * its replay, usage, audit, French, a user key's narrower view, a hostile metadata value) and prints one line per
 * scenario; screenshots land in {@code target/console-screenshots}. About 30 s on the shared platform.
 */
class ConsoleBrowserIT {

    private static final Path HOME = Path.of("").toAbsolutePath().getParent();
    private static final long PATIENCE_SECONDS = 240;
    private static final String COLLECTION = "console-e2e";

    @Test
    void theConsoleDoesEveryTaskInARealBrowser() throws Exception {
        Path chromium = BrowserTools.chromium();
        String node = BrowserTools.node();
        Path scenarios = BrowserTools.scenarios(HOME);
        SharedPlatform platform = SharedPlatform.get();
        String userKey = platform.createKey("console-user", "--read", COLLECTION, "--write", COLLECTION,
                "--departments", "sales");
        Path shots = Files.createDirectories(Path.of("target", "console-screenshots").toAbsolutePath());
        Path pdf = writePdf(Path.of("target", "rapport-frais.pdf").toAbsolutePath());
        AtomicInteger hooks = new AtomicInteger();
        HttpServer receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        receiver.createContext("/hook", exchange -> {
            exchange.getRequestBody().readAllBytes();
            hooks.incrementAndGet();
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        receiver.start();
        // a GPU's pace, so that the browser sees the answer grow (the simulators answer at once otherwise)
        platform.firstBackend().tokenDelay(40);
        platform.secondBackend().tokenDelay(40);
        try {
            assertConsoleHeaders(platform.url());
            List<String> lines = run(scenarios, List.of(node, "console.test.mjs"), Map.of(
                    "OSFRIA_URL", platform.url(),
                    "OSFRIA_ADMIN_KEY", platform.adminKey(),
                    "OSFRIA_USER_KEY", userKey,
                    "COLLECTION", COLLECTION,
                    "CHROMIUM", chromium.toString(),
                    "PDF", pdf.toString(),
                    "RECEIVER", "http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook",
                    "SCREENSHOTS", shots.toString()));
            List<String> failed = lines.stream().filter(l -> l.startsWith("not ok")).toList();
            assertTrue(failed.isEmpty(), String.join("\n", failed));
            assertTrue(lines.stream().filter(l -> l.startsWith("ok ")).count() >= 10, "scenarios missing:\n" + lines);
            assertTrue(hooks.get() >= 2, "the receiver got " + hooks.get() + " requests: the ping and its replay expected");
        } finally {
            platform.firstBackend().tokenDelay(0);
            platform.secondBackend().tokenDelay(0);
            receiver.stop(0);
        }
    }

    /** The console's pages are served with the strict headers, and /console leads to them. */
    private static void assertConsoleHeaders(String url) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<Void> bare = http.send(HttpRequest.newBuilder(URI.create(url + "/console")).build(), HttpResponse.BodyHandlers.discarding());
        assertEquals(302, bare.statusCode());
        assertEquals("/console/", bare.headers().firstValue("location").orElse(""));
        for (String path : List.of("/console/", "/console/js/app.js", "/console/console.css")) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url + path)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), path);
            String csp = r.headers().firstValue("content-security-policy").orElse("");
            assertTrue(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe"), path + ": " + csp);
            assertEquals("nosniff", r.headers().firstValue("x-content-type-options").orElse(""), path);
            assertEquals("no-referrer", r.headers().firstValue("referrer-policy").orElse(""), path);
        }
    }

    /** One page in French about travel expenses: what the search and the chat look for. */
    private static Path writePdf(Path file) throws IOException {
        try (PDDocument document = new PDDocument()) {
            PDPage page = new PDPage();
            document.addPage(page);
            try (PDPageContentStream text = new PDPageContentStream(document, page)) {
                text.beginText();
                text.setFont(new PDType1Font(Standard14Fonts.FontName.HELVETICA), 12);
                text.newLineAtOffset(72, 700);
                text.showText("Procedure de remboursement des frais de deplacement.");
                text.newLineAtOffset(0, -18);
                text.showText("Le remboursement est verse sous trente jours sur presentation des justificatifs.");
                text.endText();
            }
            document.save(file.toFile());
        }
        return file;
    }

    /** Runs the scenarios; their lines, once they have ended within the patience and passed. */
    private static List<String> run(Path dir, List<String> command, Map<String, String> env) throws Exception {
        ChildScript script = ChildScript.run("console", dir, command, env, PATIENCE_SECONDS);
        assertEquals(0, script.exitCode(), "the browser scenarios failed:\n" + String.join("\n", script.lines()));
        return script.lines();
    }
}
