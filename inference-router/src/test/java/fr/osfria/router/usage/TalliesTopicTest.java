package fr.osfria.router.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.Topics;
import fr.osfria.events.usage.UsageTally;
import java.time.Instant;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

class TalliesTopicTest {

    @Test
    void readsKeyTimeAndTotalOfATallyAsTheRouterWritesIt() {
        Instant time = Instant.parse("2026-11-26T13:20:00Z");
        UsageTally tally = new UsageTally("team-a", time, 42, 3);
        String value = EventJson.encode(CloudEvent.of("/osfria/inference-router", EventTypes.USAGE_TALLIED, "team-a",
                tally));

        assertEquals(new TalliesTopic.Tally("team-a", time, 42, 3), TalliesTopic.read(kafka(value), "test"));
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

    private static ConsumerRecord<String, String> kafka(String value) {
        return new ConsumerRecord<>(Topics.USAGE_TALLIES, 0, 7L, "k", value);
    }
}
