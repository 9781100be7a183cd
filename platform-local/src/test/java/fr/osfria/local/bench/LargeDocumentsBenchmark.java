package fr.osfria.local.bench;

import static fr.osfria.local.bench.BenchPlatform.field;
import static fr.osfria.local.bench.BenchPlatform.follow;
import static fr.osfria.local.bench.BenchPlatform.start;
import fr.osfria.testing.LoadAverage;
import fr.osfria.testing.Ports;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.PDPageContentStream;
import org.apache.pdfbox.pdmodel.font.PDType1Font;
import org.apache.pdfbox.pdmodel.font.Standard14Fonts;
import org.junit.jupiter.api.Test;

/**
 * Not a test: figures, run with {@code bench/large-documents.sh}. Large documents end to end on the real local
 * platform (the packaged launcher, as {@code ./osfria up} runs it): the time from upload to {@code indexed} of a
 * 3.5 MB plain-text file, a 300-page PDF and a document of more than 20,000 chunks, next to a 100-chunk document
 * uploaded in the same run (before and after) as the baseline. While each one indexes, ingest-service's and
 * embed-service's heap is sampled every second from their metrics; their peak resident memory is read at the end.
 */
class LargeDocumentsBenchmark {

    private static final Pattern UP = Pattern.compile("Osfria is up at (http://\\S+)");
    private static final Pattern KEY = Pattern.compile("Admin API key.*(sk-osfria-[A-Za-z0-9_-]+)");
    private static final Pattern HEAP = Pattern.compile("^jvm_memory_used_bytes\\{[^}]*area=\"heap\"[^}]*\\} ([0-9.eE+]+)", Pattern.MULTILINE);
    private static final String[] WORDS = ("le la les un une des procédure remboursement frais salarié directeur validation "
            + "comptabilité budget réunion sécurité accès réseau poste formation congés contrat avenant article clause "
            + "société client fournisseur facture paiement délai mois année rapport annexe tableau résultat").split(" ");

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void figures() throws Exception {
        Path dir = Files.createTempDirectory("osfria-large-docs");
        int port = Ports.block(6);
        Map<String, String> env = Map.of(
                "OSFRIA_DATA", dir.resolve("data").toString(),
                "OSFRIA_PORT", String.valueOf(port),
                "OSFRIA_KAFKA_PORT", String.valueOf(Ports.block(1)),
                "OSFRIA_KAFKA_CONTROLLER_PORT", String.valueOf(Ports.block(1)),
                "OSFRIA_KAFKA_APPS_PORT", String.valueOf(Ports.block(1)),
                "OSFRIA_POSTGRES_PORT", String.valueOf(Ports.block(1)));
        Random random = new Random(42);
        List<String> documents = List.of(System.getProperty("bench.documents", "text,pdf,ledger").split(","));

        Process launcher = start(env);
        List<String> lines = follow(launcher);
        try {
            String url = await(lines, UP, launcher).replace("localhost", "127.0.0.1");
            String key = await(lines, KEY, launcher);
            Services services = new Services(launcher, port);
            System.out.printf("BENCH machine: %d CPUs, load average at start %s%n", Runtime.getRuntime().availableProcessors(), LoadAverage.now());
            index(url, key, services, "warm-up.txt", "text/plain", prose(random, 10_000)); // loads the model, warms the JIT
            Result before = index(url, key, services, "baseline.txt", "text/plain", prose(random, 130_000));
            List<Result> results = new ArrayList<>();
            if (documents.contains("text")) {
                results.add(index(url, key, services, "manuel-3.5MB.txt", "text/plain", prose(random, 3_500_000)));
            }
            if (documents.contains("pdf")) {
                results.add(index(url, key, services, "rapport-300-pages.pdf", "application/pdf", pdf(random, 300)));
            }
            if (documents.contains("ledger")) { // its progress is printed as it goes
                results.add(index(url, key, services, "grand-livre.txt", "text/plain",
                        ledger(random, Integer.getInteger("bench.ledger-bytes", 15_000_000))));
            }
            // another document of the same size (the same bytes would be answered as a duplicate)
            Result after = index(url, key, services, "baseline-after.txt", "text/plain", prose(random, 130_000));
            double base = (before.chunksPerSecond() + after.chunksPerSecond()) / 2;
            System.out.printf("BENCH baseline (100-chunk documents, mean of before and after): %.1f chunks/s%n", base);
            for (Result r : results) {
                System.out.printf("BENCH %s: %.2f of the baseline's chunks/s%n", r.name(), r.chunksPerSecond() / base);
            }
            System.out.printf("BENCH peak resident memory (VmHWM, -Xmx384m each): ingest-service %d MiB, embed-service %d MiB%n",
                    services.peakRssMiB("ingest-service"), services.peakRssMiB("embed-service"));
        } finally {
            new ProcessBuilder("kill", "-INT", String.valueOf(launcher.pid())).start().waitFor();
            if (!launcher.waitFor(90, TimeUnit.SECONDS)) {
                launcher.descendants().forEach(ProcessHandle::destroyForcibly);
                launcher.destroyForcibly();
            }
        }
    }

    private record Result(String name, int chunks, double seconds) {
        double chunksPerSecond() {
            return chunks / seconds;
        }
    }

    /** Uploads one file and follows it to {@code indexed}, sampling the two services' heap meanwhile. */
    private Result index(String url, String key, Services services, String name, String type, byte[] content) throws Exception {
        String load = LoadAverage.now();
        long start = System.nanoTime();
        HttpResponse<String> uploaded = upload(url, key, name, type, content);
        if (uploaded.statusCode() != 202) {
            throw new AssertionError(name + ": upload answered " + uploaded.statusCode() + " " + uploaded.body());
        }
        String id = field(uploaded.body(), "document_id");
        long deadline = start + TimeUnit.MINUTES.toNanos(Long.getLong("bench.minutes-per-document", 45));
        long ingestHeap = 0;
        long embedHeap = 0;
        double chunkedAt = 0;
        String view = "";
        int polls = 0;
        while (System.nanoTime() < deadline) {
            Thread.sleep(1000);
            ingestHeap = Math.max(ingestHeap, services.heapUsed(1));
            embedHeap = Math.max(embedHeap, services.heapUsed(2));
            view = http.send(HttpRequest.newBuilder(URI.create(url + "/v1/documents/" + id)).header("Authorization", "Bearer " + key)
                    .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString()).body();
            if (chunkedAt == 0 && !"0".equals(field(view, "chunks_count"))) {
                chunkedAt = (System.nanoTime() - start) / 1e9;
            }
            if (!view.contains("\"status\":\"processing\"")) {
                break;
            }
            if (++polls % 60 == 0) {
                System.out.printf("BENCH   %s after %.0f s: %s of %s chunks indexed; peak heap used so far ingest %d MiB, embed %d MiB; load average %s%n",
                        name, (System.nanoTime() - start) / 1e9, field(view, "chunks_indexed"), field(view, "chunks_count"),
                        ingestHeap >> 20, embedHeap >> 20, LoadAverage.now());
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (!view.contains("\"status\":\"indexed\"")) {
            throw new AssertionError(name + " did not reach indexed after " + Math.round(seconds) + " s: " + view);
        }
        int chunks = Integer.parseInt(field(view, "chunks_count"));
        System.out.printf("BENCH %s (%.1f MB): %d chunks indexed in %.1f s (chunk count known after %.1f s): %.1f chunks/s;"
                        + " peak heap used ingest %d MiB, embed %d MiB; load average before %s, after %s%n",
                name, content.length / 1e6, chunks, seconds, chunkedAt, chunks / seconds, ingestHeap >> 20, embedHeap >> 20, load, LoadAverage.now());
        return new Result(name, chunks, seconds);
    }

    private HttpResponse<String> upload(String url, String key, String name, String type, byte[] content) throws Exception {
        String boundary = "osfria" + System.nanoTime();
        ByteArrayOutputStream body = new ByteArrayOutputStream(content.length + 512);
        body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"collection\"\r\n\r\nbench\r\n"
                + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + name + "\"\r\n"
                + "Content-Type: " + type + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        body.writeBytes(content);
        body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return http.send(HttpRequest.newBuilder(URI.create(url + "/v1/documents")).timeout(Duration.ofMinutes(5))
                .header("Authorization", "Bearer " + key).header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** French prose in paragraphs of sentences, as a manual or a report reads. */
    private static byte[] prose(Random random, int bytes) {
        StringBuilder out = new StringBuilder();
        while (out.length() < bytes) {
            for (int s = 0; s < 6; s++) {
                out.append(sentence(random)).append(' ');
            }
            out.append("\n\n");
        }
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static String sentence(Random random) {
        StringBuilder s = new StringBuilder();
        int words = 8 + random.nextInt(13);
        for (int w = 0; w < words; w++) {
            s.append(w == 0 ? "" : " ").append(WORDS[random.nextInt(WORDS.length)]);
        }
        return Character.toUpperCase(s.charAt(0)) + s.substring(1) + ".";
    }

    /**
     * An accounting ledger exported as text: dense short fields, hence many chunks per megabyte (over 20,000 in
     * 15 MB, within the parser's 20 M characters).
     */
    private static byte[] ledger(Random random, int bytes) {
        StringBuilder out = new StringBuilder(bytes + 100);
        String[] labels = {"TVA", "HT", "TTC", "avoir", "frais", "achat", "vente"};
        for (int line = 0; out.length() < bytes; line++) {
            out.append(String.format("%06d;%02d/%02d;c%d;%d,%02d;%s.%n", line, 1 + random.nextInt(28), 1 + random.nextInt(12),
                    400 + random.nextInt(400), random.nextInt(10_000), random.nextInt(100), labels[random.nextInt(labels.length)]));
        }
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** A report of {@code pages} pages of prose, written with PDFBox (Helvetica, 45 lines a page). */
    private static byte[] pdf(Random random, int pages) throws IOException {
        try (PDDocument doc = new PDDocument(); ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            PDType1Font font = new PDType1Font(Standard14Fonts.FontName.HELVETICA);
            for (int p = 0; p < pages; p++) {
                PDPage page = new PDPage();
                doc.addPage(page);
                try (PDPageContentStream content = new PDPageContentStream(doc, page)) {
                    content.beginText();
                    content.setFont(font, 10);
                    content.setLeading(14);
                    content.newLineAtOffset(50, 740);
                    StringBuilder line = new StringBuilder();
                    for (int l = 0; l < 45; ) {
                        String sentence = sentence(random) + " ";
                        if (line.length() + sentence.length() > 95) {
                            content.showText(line.toString().trim());
                            content.newLine();
                            line.setLength(0);
                            l++;
                        }
                        line.append(sentence);
                    }
                    content.endText();
                }
            }
            doc.save(out);
            return out.toByteArray();
        }
    }

    /** The launcher's service processes: heap from their metrics, peak resident memory from /proc. */
    private final class Services {
        private final Process launcher;
        private final int port;

        Services(Process launcher, int port) {
            this.launcher = launcher;
            this.port = port;
        }

        long heapUsed(int portOffset) {
            try {
                String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + (port + portOffset) + "/q/metrics"))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
                Matcher m = HEAP.matcher(metrics);
                double used = 0;
                while (m.find()) {
                    used += Double.parseDouble(m.group(1));
                }
                return (long) used;
            } catch (IOException e) {
                return 0;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return 0;
            }
        }

        long peakRssMiB(String service) throws IOException {
            ProcessHandle child = launcher.descendants().filter(p -> p.info().commandLine().orElse("")
                    .contains(service + "/target/quarkus-app")).findFirst().orElseThrow();
            for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(child.pid()), "status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) >> 10;
                }
            }
            return -1;
        }
    }

    private static String await(List<String> lines, Pattern pattern, Process launcher) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
        while (System.nanoTime() < deadline) {
            for (String line : lines) {
                Matcher m = pattern.matcher(line);
                if (m.find()) {
                    return m.group(1);
                }
            }
            if (!launcher.isAlive()) {
                throw new AssertionError("the platform exited:\n" + String.join("\n", lines));
            }
            Thread.sleep(250);
        }
        throw new AssertionError("the platform was not up within 300 s:\n" + String.join("\n", lines));
    }
}
