package fr.osfria.ingest.parsing;

import fr.osfria.ingest.IngestConfig;
import fr.osfria.ingest.chunking.TextBlock;
import io.quarkus.logging.Log;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.tika.config.TikaConfig;
import org.apache.tika.detect.AutoDetectReader;
import org.apache.tika.detect.Detector;
import org.apache.tika.exception.EncryptedDocumentException;
import org.apache.tika.exception.TikaException;
import org.apache.tika.io.TikaInputStream;
import org.apache.tika.metadata.Metadata;
import org.apache.tika.metadata.TikaCoreProperties;
import org.apache.tika.mime.MediaType;
import org.apache.tika.parser.AutoDetectParser;
import org.apache.tika.parser.ParseContext;
import org.apache.tika.parser.pdf.PDFParserConfig;
import org.apache.tika.sax.SecureContentHandler;
import org.xml.sax.SAXException;

/**
 * Finds a document's real type from its bytes and turns it into paragraphs with pages and sections, under
 * limits: a time-out, a cap on extracted text, Tika's zip-bomb guard, and no descent into embedded documents.
 * Blocking: call it off the I/O thread.
 */
@ApplicationScoped
public class DocumentParser {

    private final TikaConfig tika = TikaConfig.getDefaultConfig();
    private final Detector detector = tika.getDetector();
    /** Tika's parsers, PDFs going to the one that also reads their outline (no second load of the file). */
    private final AutoDetectParser parser = withOutlines(tika);
    private final IngestConfig.Parsing limits;
    private final ParserPool workers;

    @jakarta.inject.Inject
    public DocumentParser(IngestConfig config, io.micrometer.core.instrument.MeterRegistry metrics) {
        this(config.parsing());
        io.micrometer.core.instrument.FunctionCounter.builder("osfria.ingest.parser.abandoned", workers, ParserPool::abandoned)
                .description("Parses abandoned past the parsing time-out (their thread left to finish)").register(metrics);
        io.micrometer.core.instrument.Gauge.builder("osfria.ingest.parser.busy.threads", workers, ParserPool::busyThreads)
                .description("Parser threads at work, on live or abandoned parses").register(metrics);
    }

    public DocumentParser(IngestConfig.Parsing limits) {
        this.limits = limits;
        this.workers = new ParserPool(limits.workers(), limits.maxAbandoned());
    }

    /** Where a document's bytes come from: a file, or memory for a decrypted confidential document. */
    private interface Source {
        TikaInputStream open() throws IOException;

        static Source of(Path file) {
            return new Source() {
                public TikaInputStream open() throws IOException {
                    return TikaInputStream.get(file);
                }
            };
        }

        static Source of(byte[] content) {
            return new Source() {
                public TikaInputStream open() {
                    return TikaInputStream.get(content);
                }
            };
        }
    }

    /** The media type the bytes say, helped by the file name only where bytes cannot tell (text formats). */
    public String detect(Path file, String filename) throws IOException {
        return detect(Source.of(file), filename);
    }

    private String detect(Source source, String filename) throws IOException {
        Metadata metadata = new Metadata();
        if (filename != null) {
            metadata.set(TikaCoreProperties.RESOURCE_NAME_KEY, filename);
        }
        try (TikaInputStream in = source.open()) {
            return detector.detect(in, metadata).getBaseType().toString();
        }
    }

    public ParsedDocument parse(Path file, String filename) throws ParseFailure {
        return parse(Source.of(file), filename, null);
    }

    /**
     * Parses a file whose type was detected from these same bytes at upload ({@code knownType}), skipping a
     * second detection; null detects again.
     */
    public ParsedDocument parse(Path file, String filename, String knownType) throws ParseFailure {
        return parse(Source.of(file), filename, knownType);
    }

    /** Parses bytes held in memory, so a decrypted document never touches the disk. */
    public ParsedDocument parse(byte[] content, String filename, String knownType) throws ParseFailure {
        return parse(Source.of(content), filename, knownType);
    }

    private ParsedDocument parse(Source source, String filename, String knownType) throws ParseFailure {
        String type = knownType;
        if (type == null) {
            try {
                type = detect(source, filename);
            } catch (IOException e) {
                throw new ParseFailure("the file could not be read", e);
            }
        }
        String finalType = type;
        if ("application/x-tika-ooxml-protected".equals(type) || "application/x-tika-msoffice-protected".equals(type)) {
            throw new ParseFailure("the document is password-protected");
        }
        if (!SupportedTypes.supported(type)) {
            throw new ParseFailure("unsupported type " + type);
        }
        try {
            return workers.run(() -> SupportedTypes.plainText(finalType)
                    ? parseText(source, finalType) : parseWithTika(source, finalType), limits.timeout());
        } catch (TimeoutException e) {
            long ms = limits.timeout().toMillis();
            throw new ParseFailure("parsing exceeded " + (ms >= 1000 ? ms / 1000 + " s" : ms + " ms"));
        } catch (ParserPool.Busy e) {
            throw new ParseFailure(e.getMessage() + "; upload the document again later");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ParseFailure("parsing was interrupted");
        } catch (ExecutionException e) {
            throw explain(e.getCause(), type);
        }
    }

    private ParsedDocument parseWithTika(Source source, String type) throws IOException, SAXException, TikaException {
        BlockCollector collector = new BlockCollector(limits.maxTextChars());
        PdfOutline outline = new PdfOutline();
        Metadata metadata = new Metadata();
        try (TikaInputStream in = source.open()) {
            SecureContentHandler secure = new SecureContentHandler(collector, in);
            try {
                // embedded documents (attachments, OLE objects) are not parsed: they are handed to the context's
                // parser, which would otherwise be the auto-detecting parser itself
                ParseContext context = new ParseContext();
                context.set(org.apache.tika.parser.Parser.class, org.apache.tika.parser.EmptyParser.INSTANCE);
                PDFParserConfig pdf = new PDFParserConfig();
                pdf.setExtractBookmarksText(false); // bookmarks name sections (PdfOutline), they are not text
                context.set(PDFParserConfig.class, pdf);
                context.set(PdfOutline.class, outline);
                parser.parse(in, secure, metadata, context);
            } catch (SAXException e) {
                secure.throwIfCauseOf(e); // a zip bomb becomes a TikaException
                throw e;
            }
        }
        Integer pages = collector.pages();
        if (pages == null) {
            pages = metadata.getInt(org.apache.tika.metadata.PagedText.N_PAGES);
        }
        return new ParsedDocument(type, outline.applyTo(collector.blocks()), pages);
    }

    private static AutoDetectParser withOutlines(TikaConfig tika) {
        // the last parser named for a type takes it: Tika's own for every type, then ours for PDFs
        AutoDetectParser parser = new AutoDetectParser(tika.getDetector(), tika.getParser(), new OutlinePdfParser());
        AutoDetectParser plain = new AutoDetectParser(tika);
        parser.setMediaTypeRegistry(plain.getMediaTypeRegistry());
        parser.setFallback(plain.getFallback());
        parser.setAutoDetectParserConfig(tika.getAutoDetectParserConfig());
        return parser;
    }

    /** Plain text, Markdown and CSV: charset detected from the bytes, paragraphs at blank lines, Markdown headings as sections. */
    private ParsedDocument parseText(Source source, String type) throws IOException, TikaException, ParseFailure {
        boolean markdown = SupportedTypes.markdown(type);
        List<TextBlock> blocks = new ArrayList<>();
        StringBuilder paragraph = new StringBuilder();
        String section = null;
        long total = 0;
        try (InputStream raw = source.open();
             BufferedReader reader = new BufferedReader(new AutoDetectReader(raw))) {
            String line;
            while ((line = reader.readLine()) != null) {
                total += line.length();
                if (total > limits.maxTextChars()) {
                    throw new ParseFailure("the document's text exceeds " + limits.maxTextChars() + " characters");
                }
                String trimmed = line.strip();
                boolean heading = markdown && trimmed.matches("#{1,6}\\s+.*");
                if (trimmed.isEmpty() || heading) {
                    addParagraph(blocks, paragraph, section);
                }
                if (heading) {
                    section = trimmed.replaceFirst("#{1,6}\\s+", "").replaceAll("\\s*#+$", "");
                    blocks.add(new TextBlock(null, section, section));
                } else if (!trimmed.isEmpty()) {
                    paragraph.append(paragraph.isEmpty() ? "" : " ").append(trimmed);
                }
            }
        }
        addParagraph(blocks, paragraph, section);
        return new ParsedDocument(type, blocks, null);
    }

    private static void addParagraph(List<TextBlock> blocks, StringBuilder paragraph, String section) {
        if (!paragraph.isEmpty()) {
            blocks.add(new TextBlock(null, section, paragraph.toString()));
            paragraph.setLength(0);
        }
    }

    private static ParseFailure explain(Throwable cause, String type) {
        String name = SupportedTypes.TYPES.getOrDefault(type, type);
        // parsers wrap what went wrong: look through the chain for the reasons we know
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof ParseFailure failure) {
                return failure;
            }
            if (t instanceof EncryptedDocumentException) {
                return new ParseFailure(name + " is password-protected");
            }
            if (t instanceof BlockCollector.TooMuchText) {
                return new ParseFailure(t.getMessage());
            }
            if (String.valueOf(t.getMessage()).contains("Suspected zip bomb")) {
                return new ParseFailure("the document looks like a zip bomb (it expands far beyond its size)");
            }
        }
        Log.debugf(cause, "parsing a %s failed", type);
        return new ParseFailure("the file is not a readable " + name + " (" + cause.getClass().getSimpleName() + ")");
    }

    @PreDestroy
    void stop() {
        workers.close();
    }
}
