package fr.osfria.webhook;

import static io.restassured.RestAssured.given;

import fr.osfria.events.EventTypes;
import fr.osfria.testing.TestKeys;
import io.restassured.http.ContentType;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/** Calls of this module's tests: a subscription to the events {@link ModelEvents} publishes, and SQL on the service's tables. */
public final class WebhookTestSupport {

    /** A subscription of the admin key to {@code model.loaded} events, delivered to {@code url}: its id. */
    public static String subscribe(String url) {
        return given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).contentType(ContentType.JSON)
                .body(Map.of("url", url, "events", List.of(EventTypes.MODEL_LOADED))).post("/v1/webhooks")
                .then().statusCode(201).extract().path("id");
    }

    /** The single number {@code sql} counts, its one parameter {@code arg}. */
    public static long count(DataSource db, String sql, String arg) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, arg);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private WebhookTestSupport() {
    }
}
