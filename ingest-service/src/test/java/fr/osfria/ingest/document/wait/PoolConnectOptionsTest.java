package fr.osfria.ingest.document.wait;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import fr.osfria.security.network.DeadPeerTimeouts;
import io.quarkus.reactive.pg.client.PgPoolCreator;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgPool;
import io.vertx.pgclient.SslMode;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The listening connection's options are the pool's, as Quarkus computed them from the datasource's configuration:
 * every setting an operator can give the pool (TLS above all) is carried over, and only the connection's name added.
 * Both give up on a server gone silent after the same time-outs.
 */
class PoolConnectOptionsTest {

    private final Vertx vertx = Vertx.vertx();

    @AfterEach
    void close() {
        vertx.close();
    }

    /** What Quarkus makes of an operator's TLS, trust, reconnect and additional-properties settings. */
    private static PgConnectOptions configuredByAnOperator(String host) {
        PgConnectOptions options = PgConnectOptions.fromUri("postgresql://" + host + ":5432/ingest")
                .setUser("osfria").setPassword("secret")
                .setSslMode(SslMode.VERIFY_FULL)
                .setHostnameVerificationAlgorithm("HTTPS")
                .setReconnectAttempts(3)
                .setReconnectInterval(500)
                .setCachePreparedStatements(true)
                .setPipeliningLimit(16)
                .addProperty("idle_in_transaction_session_timeout", "60000")
                .addProperty("search_path", "ingest");
        options.setPemTrustOptions(new PemTrustOptions().addCertPath("/etc/osfria/pg/ca.crt"));
        options.setPemKeyCertOptions(new PemKeyCertOptions().setCertPath("/etc/osfria/pg/tls.crt")
                .setKeyPath("/etc/osfria/pg/tls.key"));
        return options;
    }

    private Pool made(PoolConnectOptions creator, List<PgConnectOptions> options) {
        PoolOptions poolOptions = new PoolOptions().setMaxSize(4);
        return creator.create(new PgPoolCreator.Input() {
            @Override
            public Vertx vertx() {
                return vertx;
            }

            @Override
            public PoolOptions poolOptions() {
                return poolOptions;
            }

            @Override
            public List<PgConnectOptions> pgConnectOptionsList() {
                return options;
            }
        });
    }

    @Test
    void theListenerConnectsWithEverySettingOfThePoolAndItsOwnName() {
        PgConnectOptions pool = configuredByAnOperator("pg-1.internal");
        // Quarkus's settings and the time-outs on a silent server, which Quarkus has no setting for
        JsonObject asConfigured = DeadPeerTimeouts.applyTo(new PgConnectOptions(pool)).toJson();
        // no pool is needed here: it is made first (its first use is what hands the options over)
        PoolConnectOptions creator = new PoolConnectOptions(null);
        assertInstanceOf(PgPool.class, made(creator, List.of(pool)), "Quarkus casts a creator's pool to PgPool");

        PgConnectOptions listener = creator.forConnectionNamed(SettledListener.APPLICATION_NAME);

        assertEquals(SslMode.VERIFY_FULL, listener.getSslMode());
        assertEquals(List.of("/etc/osfria/pg/ca.crt"), ((PemTrustOptions) listener.getTrustOptions()).getCertPaths());
        assertEquals("60000", listener.getProperties().get("idle_in_transaction_session_timeout"));
        assertEquals(SettledListener.APPLICATION_NAME, listener.getProperties().get("application_name"));
        assertEquals(20_000, listener.getTcpUserTimeout(), "the listener gives up on a silent server as the pool does");
        assertEquals(20_000, pool.getTcpUserTimeout());
        assertEquals(withoutName(asConfigured), withoutName(listener.toJson()), "every other setting is the pool's");
        assertEquals(asConfigured, pool.toJson(), "the pool's connections keep theirs, their name too");
    }

    private static JsonObject withoutName(JsonObject options) {
        JsonObject copy = options.copy();
        copy.getJsonObject("properties").remove("application_name");
        return copy;
    }

    @Test
    void withSeveralServersListedTheListenerConnectsToTheFirst() {
        PoolConnectOptions creator = new PoolConnectOptions(null);
        made(creator, List.of(configuredByAnOperator("pg-1.internal"), configuredByAnOperator("pg-2.internal")));

        assertEquals("pg-1.internal", creator.forConnectionNamed("a-name").getHost());
    }
}
