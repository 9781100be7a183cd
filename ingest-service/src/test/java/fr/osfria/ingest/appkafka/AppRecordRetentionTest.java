package fr.osfria.ingest.appkafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.runtime.configuration.DurationConverter;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * {@code app-record-retention=9} (a bare number, read as seconds) made every sweep forget every record: a record read
 * again after a rebalance became a second document. A retention under two days stops the service, saying why.
 */
class AppRecordRetentionTest {

    @Test
    void aRetentionUnderTwoDaysIsRefusedNamingTheSettingAndTheUnit() {
        Duration bare = DurationConverter.parseDuration("9");
        assertEquals(Duration.ofSeconds(9), bare, "what a bare number is read as");
        IllegalStateException refused = assertThrows(IllegalStateException.class, () -> AppRecordSweeper.retention(bare));
        assertTrue(refused.getMessage().contains("osfria.ingest.app-record-retention"), refused.getMessage());
        assertTrue(refused.getMessage().contains("at least 2 days"), refused.getMessage());
        assertTrue(refused.getMessage().contains("write the unit (9d)"), refused.getMessage());
        assertThrows(IllegalStateException.class, () -> AppRecordSweeper.retention(DurationConverter.parseDuration("47h")));

        assertEquals(Duration.ofDays(2), AppRecordSweeper.retention(DurationConverter.parseDuration("2d")));
        assertEquals(Duration.ofDays(9), AppRecordSweeper.retention(DurationConverter.parseDuration("9d")));
    }
}
