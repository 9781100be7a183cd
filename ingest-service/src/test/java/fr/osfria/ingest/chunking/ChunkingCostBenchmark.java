package fr.osfria.ingest.chunking;

import fr.osfria.ingest.IngestConfig;
import fr.osfria.ingest.bench.BenchmarkPdfs;
import fr.osfria.ingest.parsing.DocumentParser;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;
import org.junit.jupiter.api.Test;

/**
 * Not a test: figures. Chunking alone, in CPU-µs and bytes allocated per page, on the text the service's parser
 * takes from {@code IngestPipelineBenchmark}'s 24 PDFs of 12 pages, after a warm-up, rounds interleaved when there
 * is more than one chunker to compare. Run with
 * {@code ./mvnw -pl ingest-service -am test -Dtest=ChunkingCostBenchmark -Dtest.jit= -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class ChunkingCostBenchmark {

    private static final int DOCUMENTS = 24;
    private static final int PAGES = 12;
    private static final int ROUNDS = Integer.getInteger("bench.rounds", 40);
    /** Each round chunks the documents this many times: a round of 288 pages is too short to time alone. */
    private static final int REPEATS = 20;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    @Test
    void figures() throws Exception {
        List<List<TextBlock>> documents = documents();
        Map<String, ToIntFunction<List<TextBlock>>> chunkers = new LinkedHashMap<>();
        chunkers.put("Chunker(400, 50)", d -> new Chunker(400, 50).chunk(d).size());

        Map<String, long[][]> spent = new LinkedHashMap<>();
        chunkers.keySet().forEach(k -> spent.put(k, new long[2][ROUNDS]));
        long sink = 0;
        for (int round = -20; round < ROUNDS; round++) {
            for (var chunker : chunkers.entrySet()) {
                long cpu = THREADS.getCurrentThreadCpuTime();
                long bytes = THREADS.getThreadAllocatedBytes(Thread.currentThread().getId());
                for (int r = 0; r < REPEATS; r++) {
                    for (List<TextBlock> document : documents) {
                        sink += chunker.getValue().applyAsInt(document);
                    }
                }
                if (round >= 0) {
                    spent.get(chunker.getKey())[0][round] = THREADS.getCurrentThreadCpuTime() - cpu;
                    spent.get(chunker.getKey())[1][round] =
                            THREADS.getThreadAllocatedBytes(Thread.currentThread().getId()) - bytes;
                }
            }
        }
        double pages = (double) DOCUMENTS * PAGES * REPEATS;
        System.out.printf("BENCH chunking alone, per page: median of %d rounds of %d PDFs x %d pages x %d (load %s, %d chunks)%n",
                ROUNDS, DOCUMENTS, PAGES, REPEATS, Files.readString(Path.of("/proc/loadavg")).trim(), sink);
        for (var e : spent.entrySet()) {
            long[] cpu = e.getValue()[0].clone();
            long[] bytes = e.getValue()[1].clone();
            Arrays.sort(cpu);
            Arrays.sort(bytes);
            System.out.printf("BENCH %7.1f CPU-µs (%.1f-%.1f)  %8.0f bytes  %s%n", cpu[ROUNDS / 2] / 1e3 / pages,
                    cpu[0] / 1e3 / pages, cpu[ROUNDS - 1] / 1e3 / pages, bytes[ROUNDS / 2] / pages, e.getKey());
        }
    }

    /** The paragraphs the service's parser takes from the benchmark's PDFs (the same generator, the same seed). */
    static List<List<TextBlock>> documents() throws Exception {
        Path dir = Files.createTempDirectory("osfria-bench");
        DocumentParser parser = new DocumentParser(new IngestConfig.Parsing() {
            public Duration timeout() {
                return Duration.ofSeconds(60);
            }

            public long maxTextChars() {
                return 20_000_000;
            }

            public int workers() {
                return 1;
            }

            public int maxAbandoned() {
                return 1;
            }
        });
        List<List<TextBlock>> documents = new ArrayList<>();
        for (Path file : BenchmarkPdfs.write(dir, DOCUMENTS, PAGES, 42)) {
            documents.add(parser.parse(file, file.getFileName().toString(), "application/pdf").blocks());
            Files.delete(file);
        }
        Files.delete(dir);
        return documents;
    }


}
