package fr.osfria.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's run command, end to end: the packaged launcher starts Kafka, PostgreSQL and the five services,
 * every one answers through the entry port, a service killed with SIGKILL comes back, Ctrl-C leaves no process
 * behind, and a second start finds its data.
 */
class LocalPlatformIT {

    private static final Pattern UP = Pattern.compile("Osfria is up at (http://\\S+)");
    private static final Pattern KEY = Pattern.compile("(sk-osfria-[A-Za-z0-9_-]+)");

    @TempDir
    Path data;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void upServesEveryServiceThroughOneEntryPortStopsCleanlyAndKeepsItsData() throws Exception {
        Map<String, String> env = Map.of(
                "OSFRIA_DATA", data.toString(),
                "OSFRIA_PORT", String.valueOf(freeBlock(6)),
                "OSFRIA_KAFKA_PORT", String.valueOf(freeBlock(1)),
                "OSFRIA_KAFKA_CONTROLLER_PORT", String.valueOf(freeBlock(1)),
                "OSFRIA_POSTGRES_PORT", String.valueOf(freeBlock(1)));

        Run first = Run.start(env);
        String url = first.awaitUp();
        String key = first.find(KEY);
        assertNotNull(key, "the first start prints an admin key");

        HttpResponse<String> health = get(url + "/q/health", null);
        assertEquals(200, health.statusCode(), health.body());
        int port = Integer.parseInt(env.get("OSFRIA_PORT"));
        for (LocalSettings.Service service : LocalSettings.SERVICES) {
            assertTrue(health.body().contains("{\"name\":\"" + service.name() + "\",\"status\":\"UP\"}"), health.body());
            // a service's own endpoints answer on its loopback port, never through the entry port
            assertEquals(200, get("http://127.0.0.1:" + (port + service.portOffset()) + "/q/health/ready", null).statusCode());
            assertEquals(404, get(url + "/" + service.name() + "/q/health/ready", null).statusCode(), service.name());
        }
        assertEquals(200, get(url + "/v1/models", key).statusCode());
        assertEquals(401, get(url + "/v1/models", null).statusCode());
        assertEquals(404, get(url + "/v1/documents/doc_missing", key).statusCode());
        assertEquals(404, get(url + "/nowhere", key).statusCode());
        uploadIndexAndFind(url, key);

        // a service killed with SIGKILL comes back by itself and serves again through the entry port
        first.kill("ingest-service");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        int status = 0;
        while (status != 404 && System.nanoTime() < deadline) {
            Thread.sleep(500);
            try {
                status = get(url + "/v1/documents/doc_missing", key).statusCode();
            } catch (IOException e) {
                status = 0;
            }
        }
        assertEquals(404, status, "ingest-service did not come back:\n" + first.tail());
        assertTrue(first.output().contains("osfria: ingest-service exited (code 137); restarting it in 1 s"), first.tail());

        first.interrupt();
        assertFalse(first.anyProcessLeft(), "a process of the platform is still running after Ctrl-C");

        Run second = Run.start(env);
        second.awaitUp();
        assertNull(second.find(KEY), "the admin key is shown on the first start only");
        assertEquals(200, get(url + "/v1/models", key).statusCode(), "the key file survived the restart");
        second.interrupt();
        assertFalse(second.anyProcessLeft());
    }

    @Test
    void refusesToStartWithATakenPortOrAnUnwritableDataDirectoryAndSaysWhy() throws Exception {
        try (ServerSocket taken = new ServerSocket(0)) {
            Run run = Run.start(Map.of("OSFRIA_DATA", data.toString(), "OSFRIA_PORT", String.valueOf(taken.getLocalPort())));
            assertEquals(1, run.exitCode());
            assertTrue(run.output().contains("port already in use: " + taken.getLocalPort() + " for the entry port (OSFRIA_PORT)"),
                    run.output());
        }
        Path notADirectory = java.nio.file.Files.writeString(data.resolve("file"), "x");
        Run run = Run.start(Map.of("OSFRIA_DATA", notADirectory.resolve("data").toString()));
        assertEquals(1, run.exitCode());
        assertTrue(run.output().contains("is not writable") && run.output().contains("OSFRIA_DATA"), run.output());
    }

    /** A user's first path through RAG+: upload, wait for "indexed", find the passage. */
    private void uploadIndexAndFind(String url, String key) throws Exception {
        String boundary = "osfria" + System.nanoTime();
        String body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"collection\"\r\n\r\nguides\r\n"
                + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"frais.txt\"\r\n"
                + "Content-Type: text/plain\r\n\r\nLa procédure de remboursement des frais : remplir le formulaire.\r\n"
                + "--" + boundary + "--\r\n";
        HttpResponse<String> uploaded = http.send(HttpRequest.newBuilder(URI.create(url + "/v1/documents"))
                .header("Authorization", "Bearer " + key).header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(202, uploaded.statusCode(), uploaded.body());
        String id = uploaded.body().replaceAll(".*\"document_id\":\"(doc_[0-9a-f]+)\".*", "$1");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        String status = "";
        while (!status.contains("\"status\":\"indexed\"") && System.nanoTime() < deadline) {
            Thread.sleep(500);
            status = get(url + "/v1/documents/" + id, key).body();
        }
        assertTrue(status.contains("\"status\":\"indexed\""), "not indexed in time: " + status);
        HttpResponse<String> found = http.send(HttpRequest.newBuilder(URI.create(url + "/v1/search"))
                .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"query\":\"rembourser mes frais\",\"collection\":\"guides\"}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, found.statusCode(), found.body());
        assertTrue(found.body().contains("\"document_id\":\"" + id + "\""), found.body());
    }

    private HttpResponse<String> get(String url, String key) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The first of {@code count} consecutive free ports. */
    private static int freeBlock(int count) {
        for (int attempt = 0; attempt < 200; attempt++) {
            int base = ThreadLocalRandom.current().nextInt(20_000, 40_000);
            boolean free = true;
            for (int p = base; p < base + count && free; p++) {
                try (ServerSocket s = new ServerSocket(p)) {
                    s.setReuseAddress(true);
                } catch (IOException e) {
                    free = false;
                }
            }
            if (free) {
                return base;
            }
        }
        throw new IllegalStateException("no free ports");
    }

    /** One run of {@code java -jar platform-local.jar up}, its output collected. */
    private static final class Run {

        private final Process process;
        private final List<String> lines;
        private List<ProcessHandle> children = List.of();

        private Run(Process process, List<String> lines) {
            this.process = process;
            this.lines = lines;
        }

        static Run start(Map<String, String> env) throws IOException {
            Path home = Path.of("").toAbsolutePath().getParent();
            ProcessBuilder builder = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
                    "-Dosfria.home=" + home, "-jar", home.resolve("platform-local/target/platform-local.jar").toString(), "up")
                    .redirectErrorStream(true);
            builder.environment().putAll(env);
            Process process = builder.start();
            List<String> lines = new CopyOnWriteArrayList<>();
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        lines.add(line);
                    }
                } catch (IOException e) {
                    // process ended
                }
            });
            reader.setDaemon(true);
            reader.start();
            return new Run(process, lines);
        }

        String awaitUp() throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
            while (System.nanoTime() < deadline) {
                String url = find(UP);
                if (url != null) {
                    return url.replace("localhost", "127.0.0.1");
                }
                if (!process.isAlive()) {
                    throw new AssertionError("the platform exited (" + process.exitValue() + "):\n" + tail());
                }
                Thread.sleep(250);
            }
            // the launcher's children first: killed with SIGKILL, it could not stop them itself
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            throw new AssertionError("the platform was not up within 240 s:\n" + tail());
        }

        int exitCode() throws InterruptedException {
            assertTrue(process.waitFor(30, TimeUnit.SECONDS), "still running:\n" + tail());
            return process.exitValue();
        }

        String output() throws InterruptedException {
            Thread.sleep(200); // let the reader take the last lines
            return String.join("\n", lines);
        }

        String find(Pattern pattern) {
            for (String line : lines) {
                if (line.contains("Admin API key") || pattern == UP) {
                    Matcher m = pattern.matcher(line);
                    if (m.find()) {
                        return m.group(1);
                    }
                }
            }
            return null;
        }

        /** Sends SIGKILL to the service's JVM, a child of the launcher. */
        void kill(String service) throws Exception {
            ProcessHandle child = process.children().filter(p -> p.info().commandLine().orElse("")
                    .contains(service + "/target/quarkus-app")).findFirst().orElseThrow();
            new ProcessBuilder("kill", "-KILL", String.valueOf(child.pid())).start().waitFor();
        }

        /** Sends SIGINT, as Ctrl-C does, and waits for the launcher to exit. */
        void interrupt() throws Exception {
            children = process.descendants().toList();
            assertTrue(children.size() >= 6, "expected Kafka and five services, saw " + children.size());
            new ProcessBuilder("kill", "-INT", String.valueOf(process.pid())).start().waitFor();
            assertTrue(process.waitFor(90, TimeUnit.SECONDS), "the platform did not stop within 90 s:\n" + tail());
        }

        boolean anyProcessLeft() throws InterruptedException {
            Thread.sleep(500);
            return children.stream().anyMatch(ProcessHandle::isAlive);
        }

        String tail() {
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        }
    }
}
