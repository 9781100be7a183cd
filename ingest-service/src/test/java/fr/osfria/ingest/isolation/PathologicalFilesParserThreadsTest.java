package fr.osfria.ingest.isolation;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.ingest.IngestConfig;
import fr.osfria.ingest.parsing.DocumentParser;
import fr.osfria.ingest.parsing.ParseFailure;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A stream of files that outlast the parsing time-out. Parsers do not stop when interrupted, and the parser used
 * to start a new thread for each file while the abandoned ones kept running: threads without bound. Now each
 * file still fails with the time-out, but parser threads never exceed workers + abandoned (2 + 2 here), and once
 * the abandoned parses end, documents parse again.
 */
class PathologicalFilesParserThreadsTest {

    private static IngestConfig.Parsing limits(Duration timeout) {
        return new IngestConfig.Parsing() { // no @Override: the same test compiles against the parser before the bound
            public Duration timeout() {
                return timeout;
            }

            public long maxTextChars() {
                return 50_000_000;
            }

            public int workers() {
                return 2;
            }

            public int maxAbandoned() {
                return 2;
            }
        };
    }

    /** Parser threads at work now (cheap enough to sample between two calls: no stack traces). */
    static int parserThreads() {
        Thread[] threads = new Thread[Thread.activeCount() + 100];
        int n = Thread.enumerate(threads);
        int busy = 0;
        for (int i = 0; i < n; i++) {
            Thread t = threads[i];
            if (t.getName().startsWith("osfria-parser") && t.getState() == Thread.State.RUNNABLE) {
                busy++;
            }
        }
        return busy;
    }

    @Test
    void parserThreadsStayBoundedUnderAStreamOfFilesThatOutlastTheTimeOut() throws Exception {
        // a parse of this text takes far longer than 1 ms and never looks at its interrupt flag
        byte[] slow = ("Une ligne de texte assez ordinaire pour un rapport.\n".repeat(9) + "\n").repeat(12_000)
                .getBytes(StandardCharsets.UTF_8);
        DocumentParser parser = new DocumentParser(limits(Duration.ofMillis(1)));
        int peak = 0;
        for (int i = 0; i < 16; i++) {
            ParseFailure failure = assertThrows(ParseFailure.class, () -> parser.parse(slow, "lent.txt", "text/plain"));
            assertTrue(failure.getMessage().startsWith("parsing exceeded 1 ms") || failure.getMessage().contains("busy"),
                    failure.getMessage());
            peak = Math.max(peak, parserThreads());
        }
        assertTrue(peak <= 4, peak + " parser threads at work at once");

        // the abandoned parses end by themselves; then the parser is whole again
        await().atMost(Duration.ofSeconds(60)).until(() -> parserThreads() == 0);
        DocumentParser patient = new DocumentParser(limits(Duration.ofSeconds(30)));
        assertEquals(1, patient.parse("Un court texte.".getBytes(StandardCharsets.UTF_8), "court.txt", "text/plain").blocks().size());
    }
}
