package fr.osfria.router.usage;

import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventTypes;
import fr.osfria.events.usage.UsageRecord;
import fr.osfria.security.messaging.EventMessages;
import io.quarkus.logging.Log;
import io.smallrye.reactive.messaging.MutinyEmitter;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.reactive.messaging.Channel;

/** Sends one usage record per request to the usage topic, keyed by key name (one partition per key). */
@ApplicationScoped
public class UsageRecorder {

    public static final String CHANNEL = "usage";
    private static final String SOURCE = "/osfria/inference-router";

    private final MutinyEmitter<String> usage;

    public UsageRecorder(@Channel(CHANNEL) MutinyEmitter<String> usage) {
        this.usage = usage;
    }

    public void record(UsageRecord record) {
        usage.sendMessage(EventMessages.of(CloudEvent.of(SOURCE, EventTypes.USAGE_RECORDED, record.keyName(), record)))
                .subscribe().with(ok -> { }, e -> Log.errorf("usage record %s (key %s, %d tokens) not written: %s",
                        record.requestId(), record.keyName(), record.totalTokens(), e.getMessage()));
    }
}
