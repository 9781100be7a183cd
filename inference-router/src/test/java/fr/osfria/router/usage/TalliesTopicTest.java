package fr.osfria.router.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.Topics;
import fr.osfria.events.usage.UsageTally;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

class TalliesTopicTest {

    @Test
    void readsKeyTimeAndTotalOfATallyAsTheRouterWritesIt() {
        Instant time = Instant.parse("2026-11-26T13:20:00Z");
        UsageTally tally = new UsageTally("team-a", time, 42, 3);
        String value = EventJson.encode(CloudEvent.of("/osfria/inference-router", EventTypes.USAGE_TALLIED, "team-a",
                tally));

        assertEquals(new TalliesTopic.Tally("team-a", time, 42), TalliesTopic.read(kafka(value), "test"));
    }

    @Test
    void anUnreadableRecordIsSkipped() {
        assertNull(TalliesTopic.read(kafka("not json"), "test"));
        assertNull(TalliesTopic.read(kafka("{\"data\":{\"keyName\":\"k\",\"totalTokens\":3}}"), "test")); // no time
        assertNull(TalliesTopic.read(kafka("{\"data\":{\"keyName\":\"k\",\"time\":\"yesterday\",\"totalTokens\":3}}"),
                "test"));
        assertNull(TalliesTopic.read(kafka("{\"data\":{\"keyName\":\"\",\"time\":\"2026-11-26T00:00:00Z\","
                + "\"totalTokens\":3}}"), "test"));
        assertNull(TalliesTopic.read(kafka("[1,2]"), "test"));
    }

    @Test
    void timesReadTheSameAsInstantParse() {
        for (String text : new String[] {"2026-11-26T13:20:53Z", "2026-11-26T13:20:53.5Z", "2026-11-26T13:20:53.120Z",
                "2026-11-26T13:20:53.123456789Z", "1999-12-31T23:59:59.999999999Z", "2028-02-29T00:00:00Z",
                "2026-11-26T13:20:53+01:00", "2026-11-26T24:00:00Z", "2026-11-26T13:20:53.Z"}) {
            assertEquals(Instant.parse(text), TalliesTopic.instant(text), text);
        }
        for (String text : new String[] {"2026-02-30T00:00:00Z", "2026-11-26T13:61:00Z", "2026-11-26T13:20:5xZ",
                "2026-11-2xT13:20:53Z"}) {
            assertThrows(java.time.DateTimeException.class, () -> TalliesTopic.instant(text), text);
        }
    }

    private static ConsumerRecord<String, String> kafka(String value) {
        return new ConsumerRecord<>(Topics.USAGE_TALLIES, 0, 7L, "k", value);
    }
}
