package fr.osfria.router.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.Topics;
import fr.osfria.events.usage.UsageRecord;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

class UsageTopicTest {

    @Test
    void readsKeyTimeAndTotalOfARecordAsTheRouterWritesIt() {
        Instant time = Instant.parse("2026-11-26T13:20:53.123456789Z");
        UsageRecord record = new UsageRecord("req-1", "team-a", "m", "b:8000", 12, 30, 42, true, "ok", time);
        String value = EventJson.encode(CloudEvent.of("/osfria/inference-router", EventTypes.USAGE_RECORDED, "team-a",
                record));

        assertEquals(new UsageTopic.Usage("team-a", time, 42), UsageTopic.read(kafka(value), "test"));
    }

    @Test
    void anUnreadableRecordIsSkipped() {
        assertNull(UsageTopic.read(kafka("not json"), "test"));
        assertNull(UsageTopic.read(kafka("{\"data\":{\"keyName\":\"k\",\"totalTokens\":3}}"), "test")); // no time
        assertNull(UsageTopic.read(kafka("{\"data\":{\"keyName\":\"k\",\"time\":\"yesterday\",\"totalTokens\":3}}"),
                "test"));
        assertNull(UsageTopic.read(kafka("{\"data\":{\"keyName\":\"\",\"time\":\"2026-11-26T00:00:00Z\","
                + "\"totalTokens\":3}}"), "test"));
        assertNull(UsageTopic.read(kafka("[1,2]"), "test"));
    }

    @Test
    void timesReadTheSameAsInstantParse() {
        for (String text : new String[] {"2026-11-26T13:20:53Z", "2026-11-26T13:20:53.5Z", "2026-11-26T13:20:53.120Z",
                "2026-11-26T13:20:53.123456789Z", "1999-12-31T23:59:59.999999999Z", "2028-02-29T00:00:00Z",
                "2026-11-26T13:20:53+01:00", "2026-11-26T24:00:00Z", "2026-11-26T13:20:53.Z"}) {
            assertEquals(Instant.parse(text), UsageTopic.instant(text), text);
        }
        for (String text : new String[] {"2026-02-30T00:00:00Z", "2026-11-26T13:61:00Z", "2026-11-26T13:20:5xZ",
                "2026-11-2xT13:20:53Z"}) {
            assertThrows(java.time.DateTimeException.class, () -> UsageTopic.instant(text), text);
        }
    }

    private static ConsumerRecord<String, String> kafka(String value) {
        return new ConsumerRecord<>(Topics.USAGE, 0, 7L, "k", value);
    }
}
