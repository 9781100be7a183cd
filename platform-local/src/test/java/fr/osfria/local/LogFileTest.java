package fr.osfria.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogFileTest {

    @TempDir
    Path dir;

    @Test
    void aLogPastItsCapIsRotatedAndAtMostTwoOldOnesAreKept() throws Exception {
        Path file = dir.resolve("logs/kafka.log");
        LogFile log = new LogFile(file, 100);
        for (int i = 0; i < 40; i++) {
            log.line("line %02d of a chatty broker".formatted(i)); // 28 bytes: three lines a file
        }
        assertTrue(Files.size(file) <= 100, "capped: " + Files.size(file));
        assertTrue(Files.readString(file).contains("line 39"), "the newest lines are in the current file");
        assertTrue(Files.exists(Path.of(file + ".1")) && Files.exists(Path.of(file + ".2")));
        assertFalse(Files.exists(Path.of(file + ".3")), "older files are dropped");
        assertEquals(3, Files.readAllLines(Path.of(file + ".1")).size());
    }

    @Test
    void theReasonIsTheLastErrorLineElseTheLastLine() throws Exception {
        LogFile log = new LogFile(dir.resolve("a.log"), 10_000);
        log.line("starting");
        log.line("12:00:01 ERROR [io.qu.ru.Application] Failed to start application: port 8081 in use");
        log.line("shutting down");
        assertEquals("12:00:01 ERROR [io.qu.ru.Application] Failed to start application: port 8081 in use", log.reason());
        LogFile quiet = new LogFile(dir.resolve("b.log"), 10_000);
        quiet.line("only this");
        assertEquals("only this", quiet.reason());
    }
}
