package fr.osfria.webhook.subscription;

import fr.osfria.security.key.KeyEntry;
import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import io.smallrye.mutiny.Uni;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.LockModeType;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

@Entity
@Table(name = "subscription")
public class Subscription extends PanacheEntityBase {

    public static final String ALL = "*";

    @Id
    public String id;

    /** The name of the key that created it. */
    @Column(nullable = false)
    public String owner;

    @Column(nullable = false)
    public String url;

    /** Comma-separated event types, or {@code *}. */
    @Column(nullable = false)
    public String events;

    @Column(name = "secret_sealed", nullable = false)
    public String secretSealed;

    @Column(nullable = false)
    public boolean active;

    @Column(name = "disabled_reason")
    public String disabledReason;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    @Column(name = "updated_at", nullable = false)
    public Instant updatedAt;

    /** The subscription if {@code key} may see it (its owner, or an admin); null otherwise, whichever the reason. */
    public static Uni<Subscription> findVisible(String id, KeyEntry key) {
        return visible(id, key, LockModeType.NONE);
    }

    /**
     * As {@link #findVisible}, its row locked until the transaction ends, for a change: a deletion that committed
     * first leaves nothing (null), one that comes later waits. Read unlocked, a row deleted before the change was
     * written failed the write (500).
     */
    public static Uni<Subscription> lockVisible(String id, KeyEntry key) {
        return visible(id, key, LockModeType.PESSIMISTIC_WRITE);
    }

    private static Uni<Subscription> visible(String id, KeyEntry key, LockModeType lock) {
        if (id == null || !id.matches("wh_[0-9a-f]{24}")) {
            return Uni.createFrom().nullItem();
        }
        return Subscription.<Subscription>findById(id, lock).map(s -> s != null && (key.admin() || s.owner.equals(key.name())) ? s : null);
    }

    public List<String> eventList() {
        return Arrays.asList(events.split(","));
    }
}
