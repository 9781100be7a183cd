package fr.osfria.ingest.parsing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

class ParserPoolTest {

    /**
     * A parse whose wait for a free thread used up its time-out (every place taken by parses stuck on pathological
     * files) times out before its thread starts it. Its place must come back: the pool used to lose it for good, and
     * after as many such parses as it had places, every later parse was refused as busy.
     */
    @Test
    void aParseThatTimesOutBeforeItsThreadStartsGivesItsPlaceBack() throws Exception {
        try (ParserPool pool = new ParserPool(1, 1)) {
            int timedOut = 0;
            for (int i = 0; i < 20; i++) {
                try {
                    pool.run(() -> {
                        Thread.sleep(50); // never done within the time-out
                        return "parsed";
                    }, Duration.ofNanos(1));
                } catch (TimeoutException e) {
                    timedOut++;
                }
            }
            assertEquals(20, timedOut); // most before their thread started them, a few on it (freed 50 ms later)
            assertEquals("parsed", pool.run(() -> "parsed", Duration.ofSeconds(10)),
                    "a healthy parse after " + timedOut + " early time-outs");
        }
    }
}
