package fr.osfria.alert.receiver;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Alertmanager re-sends a firing alert every {@code repeat_interval} and whenever its group changes; receivers
 * should hear of each firing and each resolution once. Remembers the last state sent per fingerprint and
 * firing start (bounded, oldest forgotten first).
 */
public class AlertDeduplicator {

    private final int capacity;
    private final Map<String, String> lastSent;

    public AlertDeduplicator(int capacity) {
        this.capacity = capacity;
        this.lastSent = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
                return size() > AlertDeduplicator.this.capacity;
            }
        };
    }

    /** True when this (fingerprint, startsAt, status) has not been published yet; records it as published. */
    public synchronized boolean firstTime(String fingerprint, String startsAt, String status) {
        String key = fingerprint + "@" + startsAt;
        String previous = lastSent.put(key, status);
        return !status.equals(previous);
    }

    /** Forgets an alert whose publication failed, so Alertmanager's retry publishes it. */
    public synchronized void forget(String fingerprint, String startsAt, String status) {
        lastSent.remove(fingerprint + "@" + startsAt, status);
    }
}
