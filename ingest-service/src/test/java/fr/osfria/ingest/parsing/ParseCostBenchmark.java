package fr.osfria.ingest.parsing;

import fr.osfria.ingest.bench.BenchmarkPdfs;
import fr.osfria.ingest.chunking.Chunker;
import fr.osfria.ingest.chunking.TextBlock;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pdfbox.io.RandomAccessReadBufferedFile;
import org.apache.tika.io.TikaInputStream;
import org.apache.tika.metadata.Metadata;
import org.apache.tika.parser.AutoDetectParser;
import org.apache.tika.parser.ParseContext;
import org.apache.tika.parser.pdf.PDFParserConfig;
import org.apache.tika.sax.BodyContentHandler;
import org.apache.tika.sax.SecureContentHandler;
import org.junit.jupiter.api.Test;

/**
 * Not a test: where the service's parse+chunk spends CPU beyond bare Tika's, piece by piece, on the files of
 * {@code IngestPipelineBenchmark} (24 PDFs of 12 pages), each piece on one thread, in CPU time, rounds interleaved.
 * Run with {@code ./mvnw -pl ingest-service -am test -Dtest=ParseCostBenchmark -Dtest.jit= -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class ParseCostBenchmark {

    private static final int DOCUMENTS = 24;
    private static final int PAGES = 12;
    private static final int ROUNDS = Integer.getInteger("bench.rounds", 15);
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    interface Step {
        void run(Path file) throws Exception;
    }

    @Test
    void breakdown() throws Exception {
        Path dir = Files.createTempDirectory("osfria-bench");
        List<Path> files = BenchmarkPdfs.write(dir, DOCUMENTS, PAGES, 42);
        AutoDetectParser tika = new AutoDetectParser();
        DocumentParser service = new DocumentParser(DocumentParserTest.config(Duration.ofSeconds(60), 20_000_000));
        Chunker chunker = new Chunker(400, 50);
        Map<Path, List<TextBlock>> blocksOf = new LinkedHashMap<>();
        for (Path f : files) {
            blocksOf.put(f, service.parse(f, f.getFileName().toString(), "application/pdf").blocks());
        }

        Map<String, Step> steps = new LinkedHashMap<>();
        steps.put("bare Tika (stream, BodyContentHandler)", f -> {
            try (InputStream in = Files.newInputStream(f)) {
                tika.parse(in, new BodyContentHandler(-1), new Metadata(), new ParseContext());
            }
        });
        steps.put("Tika on file, BlockCollector, no extra SecureContentHandler", f -> {
            try (TikaInputStream in = TikaInputStream.get(f)) {
                tika.parse(in, new BlockCollector(20_000_000), new Metadata(), context());
            }
        });
        steps.put("Tika on file, BlockCollector in SecureContentHandler (the service's parse before, without its outline)", f -> {
            try (TikaInputStream in = TikaInputStream.get(f)) {
                tika.parse(in, new SecureContentHandler(new BlockCollector(20_000_000), in), new Metadata(), context());
            }
        });
        steps.put("PDFBox loading the file a second time for its outline (before: PdfOutline)", f -> {
            try (var doc = org.apache.pdfbox.Loader.loadPDF(new RandomAccessReadBufferedFile(f))) {
                doc.getDocumentCatalog().getDocumentOutline();
            }
        });
        steps.put("chunking alone", f -> chunker.chunk(blocksOf.get(f)));
        AutoDetectParser withOutlines = new AutoDetectParser(new AutoDetectParser().getDetector(),
                org.apache.tika.config.TikaConfig.getDefaultConfig().getParser(), new OutlinePdfParser());
        Step serviceOnThisThread = f -> {
            try (TikaInputStream in = TikaInputStream.get(f)) {
                BlockCollector collector = new BlockCollector(20_000_000);
                PdfOutline outline = new PdfOutline();
                ParseContext context = context();
                context.set(PdfOutline.class, outline);
                withOutlines.parse(in, new SecureContentHandler(collector, in), new Metadata(), context);
                outline.applyTo(collector.blocks());
            }
        };
        steps.put("the service's parse, outline read by OutlinePdfParser, on this thread", serviceOnThisThread);
        org.apache.tika.parser.pdf.PDFParser direct = new org.apache.tika.parser.pdf.PDFParser();
        steps.put("Tika's PDFParser called directly (not through AutoDetectParser), BlockCollector", f -> {
            try (TikaInputStream in = TikaInputStream.get(f)) {
                direct.parse(in, new SecureContentHandler(new BlockCollector(20_000_000), in), new Metadata(), context());
            }
        });
        ParserPool pool = new ParserPool(2, 4);
        steps.put("the service's parse handed to a ParserPool", f -> pool.run(() -> {
            serviceOnThisThread.run(f);
            return null;
        }, Duration.ofSeconds(60)));
        steps.put("DocumentParser.parse, all of it (caller + parser thread)", f ->
                service.parse(f, f.getFileName().toString(), "application/pdf"));

        Map<String, long[]> cpu = new LinkedHashMap<>();
        steps.keySet().forEach(k -> cpu.put(k, new long[ROUNDS]));
        for (int round = -3; round < ROUNDS; round++) {
            for (var step : steps.entrySet()) {
                long before = cpu();
                for (Path f : files) {
                    step.getValue().run(f);
                }
                long spent = cpu() - before;
                if (round >= 0) {
                    cpu.get(step.getKey())[round] = spent;
                }
            }
        }
        double pages = DOCUMENTS * PAGES;
        System.out.printf("BENCH cost per page, CPU-µs, median of %d rounds of %d PDFs x %d pages (load %s)%n", ROUNDS,
                DOCUMENTS, PAGES, Files.readString(Path.of("/proc/loadavg")).trim());
        for (var e : cpu.entrySet()) {
            long[] v = e.getValue().clone();
            Arrays.sort(v);
            System.out.printf("BENCH %8.1f  (%.1f-%.1f)  %s%n", v[v.length / 2] / 1e3 / pages, v[0] / 1e3 / pages,
                    v[v.length - 1] / 1e3 / pages, e.getKey());
        }
    }

    private static ParseContext context() {
        ParseContext context = new ParseContext();
        PDFParserConfig pdf = new PDFParserConfig();
        pdf.setExtractBookmarksText(false);
        context.set(PDFParserConfig.class, pdf);
        return context;
    }

    /** This thread's CPU time and the parser threads'. */
    private static long cpu() {
        long sum = THREADS.getCurrentThreadCpuTime();
        for (var t : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
            if (t != null && t.getThreadName().startsWith("osfria-parser")) {
                sum += Math.max(0, THREADS.getThreadCpuTime(t.getThreadId()));
            }
        }
        return sum;
    }


}
