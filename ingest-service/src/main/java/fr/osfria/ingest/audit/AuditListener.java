package fr.osfria.ingest.audit;

import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.audit.AuditRecord;
import fr.osfria.ingest.document.service.StoredText;
import fr.osfria.ingest.pipeline.WhileDatabaseDown;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Stores the audit records every service publishes, once each. A record is stored whatever its fields hold: a
 * caller's text is quoted into them (a path id, a collection name, an error message), and a field the table cannot
 * hold (longer than its column, a NUL character, a lone surrogate) used to fail the insert, which sent the record to
 * the dead-letter topic, out of the trail: a caller could keep a probe out of the audit by making it long enough.
 * Such a field is now written printable and cut to its column, marked with an ellipsis and a digest of the whole.
 * While PostgreSQL is out of reach a record waits for it ({@link WhileDatabaseDown}), as the other listeners' records
 * do.
 */
@ApplicationScoped
public class AuditListener {

    public static final String AUDIT_RECORDS = "audit-records";
    /** The columns' widths (V3__audit.sql). */
    private static final int ID = 200;
    private static final int NAME = 64;
    private static final int TARGET = 200;
    private static final int COLLECTION = 128;
    private static final int OUTCOME = 32;
    private static final int DETAIL = 4_000;

    @Incoming(AUDIT_RECORDS)
    public Uni<Void> onRecord(String json) {
        CloudEvent<AuditRecord> event = EventJson.decode(json, AuditRecord.class);
        AuditRecord r = event.data();
        // PostgreSQL out of reach is no fault of the record's: it waits for the database rather than go to the dead-letter topic
        return WhileDatabaseDown.retry("audit record " + event.id(), () -> Panache.withTransaction(() -> Panache.getSession().chain(session -> session.createNativeQuery("""
                        INSERT INTO audit_record (event_id, service, key_name, action, target, collection, outcome, at, detail)
                        VALUES (:id, :service, :key, :action, :target, :collection, :outcome, :at, :detail)
                        ON CONFLICT (event_id) DO NOTHING""")
                .setParameter("id", eventId(event.id()))
                .setParameter("service", required(r.service(), NAME))
                .setParameter("key", required(r.keyName(), NAME))
                .setParameter("action", required(r.action(), NAME))
                .setParameter("target", fit(r.target(), TARGET))
                .setParameter("collection", fit(r.collection(), COLLECTION))
                .setParameter("outcome", required(r.outcome(), OUTCOME))
                .setParameter("at", r.time() != null ? r.time() : event.time() != null ? event.time() : Instant.now())
                .setParameter("detail", fit(r.detail(), DETAIL))
                .executeUpdate()))).replaceWithVoid();
    }

    /**
     * {@code value} as the column can hold it: made printable ({@link StoredText#printable}), and when it is longer than
     * {@code width} characters cut and marked with an ellipsis and a digest of the whole value, so that two probes which
     * differ only past the cut stay two in the trail (never half of a surrogate pair).
     */
    static String fit(String value, int width) {
        String printable = StoredText.printable(value);
        if (printable == null || printable.codePointCount(0, printable.length()) <= width) {
            return printable;
        }
        String mark = "…[sha256:" + HexFormat.of().formatHex(sha256(utf16(value))).substring(0, 12) + "]";
        return printable.substring(0, printable.offsetByCodePoints(0, width - mark.length())) + mark;
    }

    private static String required(String value, int width) {
        return value == null || value.isBlank() ? "unknown" : fit(value, width);
    }

    /**
     * The event's id as the key that stores it once: an id the column cannot hold as it is becomes a digest of it, the
     * same for every delivery of the record, so a record read twice is still stored once.
     */
    static String eventId(String id) {
        if (id != null && !id.isEmpty() && id.length() <= ID && StoredText.printable(id).equals(id)) {
            return id;
        }
        return "sha256:" + HexFormat.of().formatHex(sha256(String.valueOf(id).getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * The value's UTF-16 code units as they came, a lone surrogate included (an encoder would replace it): what the
     * cut's digest is of, not the printable form, which two values may share.
     */
    private static byte[] utf16(String value) {
        java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate(2 * value.length());
        bytes.asCharBuffer().put(value);
        return bytes.array();
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
