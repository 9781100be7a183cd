package fr.osfria.alert.receiver;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.Topics;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.time.Duration;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
class AlertmanagerResourceTest {

    /** What this class made the service export, for the k8s module's check of alert rules and dashboards. */
    @org.junit.jupiter.api.AfterAll
    static void saveExportedMetrics() {
        fr.osfria.testing.ExportedMetrics.save(AlertmanagerResourceTest.class);
    }


    static String payload(String status, String fingerprint) {
        return """
                {"version":"4","groupKey":"{}:{alertname=\\"GpuMemoryHigh\\"}","truncatedAlerts":0,"status":"%s",
                 "receiver":"osfria","groupLabels":{"alertname":"GpuMemoryHigh"},"commonLabels":{},"commonAnnotations":{},
                 "externalURL":"http://alertmanager:9093",
                 "alerts":[{"status":"%s","labels":{"alertname":"GpuMemoryHigh","severity":"critical","instance":"gpu-1"},
                   "annotations":{"summary":"GPU memory above 95%%","description":"vLLM on gpu-1 is near OOM"},
                   "startsAt":"2026-11-26T07:00:00Z","endsAt":"%s",
                   "generatorURL":"http://prometheus:9090/graph","fingerprint":"%s"}]}
                """.formatted(status, status, "resolved".equals(status) ? "2026-11-26T07:10:00Z" : "0001-01-01T00:00:00Z",
                fingerprint);
    }

    @Test
    void firingThenResolvedBecomeOnePublicEventEach() {
        String fingerprint = UUID.randomUUID().toString().substring(0, 16);
        try (TopicProbe events = TopicProbe.open(Topics.PUBLIC_EVENTS)) {
            post(payload("firing", fingerprint)).statusCode(200).body("received", equalTo(1)).body("published", equalTo(1));

            ConsumerRecord<String, String> record = events.await(r -> fingerprint.equals(r.key()), Duration.ofSeconds(20));
            JsonNode event = read(record);
            assertEquals(EventTypes.ALERT_TRIGGERED, event.get("type").asText());
            assertEquals("1.0", event.get("specversion").asText());
            assertEquals("GpuMemoryHigh", event.at("/data/alertName").asText());
            assertEquals("critical", event.at("/data/severity").asText());
            assertEquals("GPU memory above 95%", event.at("/data/summary").asText());
            assertEquals("gpu-1", event.at("/data/labels/instance").asText());
            assertEquals(true, event.at("/data/endsAt").isNull(), "a firing alert has no end yet");

            // Alertmanager repeats firing alerts: receivers must not hear of it twice
            post(payload("firing", fingerprint)).statusCode(200).body("published", equalTo(0));

            post(payload("resolved", fingerprint)).statusCode(200).body("published", equalTo(1));
            JsonNode resolved = read(events.await(r -> fingerprint.equals(r.key())
                    && r.value().contains(EventTypes.ALERT_RESOLVED), Duration.ofSeconds(20)));
            assertEquals("2026-11-26T07:10:00Z", resolved.at("/data/endsAt").asText());

            long forThisAlert = events.drain(Duration.ofMillis(500)).stream().filter(r -> fingerprint.equals(r.key())).count();
            assertEquals(2, forThisAlert, "one triggered and one resolved, nothing repeated");
        }
    }

    @Test
    void aBatchOfAlertsFromAnHaPairIsPublishedOncePerAlertState() throws Exception {
        String a = UUID.randomUUID().toString().substring(0, 16);
        String b = UUID.randomUUID().toString().substring(0, 16);
        String batch = """
                {"version":"4","groupKey":"g","truncatedAlerts":3,"status":"firing","receiver":"osfria","groupLabels":{},
                 "commonLabels":{"severity":"warning"},"commonAnnotations":{},"externalURL":"http://am",
                 "alerts":[
                  {"status":"firing","labels":{"alertname":"HighLatency","instance":"router-1"},"annotations":{},
                   "startsAt":"2026-11-26T08:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"%1$s"},
                  {"status":"resolved","labels":{"alertname":"KafkaLag","instance":"embed-1"},"annotations":{},
                   "startsAt":"2026-11-26T07:00:00Z","endsAt":"2026-11-26T07:30:00Z","generatorURL":"","fingerprint":"%2$s"}]}
                """.formatted(a, b);
        try (TopicProbe events = TopicProbe.open(Topics.PUBLIC_EVENTS)) {
            post(batch).statusCode(200).body("received", equalTo(2)).body("published", equalTo(2));
            post(batch).statusCode(200).body("published", equalTo(0)); // the second Alertmanager of the pair
            events.await(r -> a.equals(r.key()) && r.value().contains(EventTypes.ALERT_TRIGGERED), Duration.ofSeconds(20));
            events.await(r -> b.equals(r.key()) && r.value().contains(EventTypes.ALERT_RESOLVED), Duration.ofSeconds(20));
            long published = events.drain(Duration.ofMillis(500)).stream().filter(r -> a.equals(r.key()) || b.equals(r.key())).count();
            assertEquals(2, published);
        }
    }

    @Test
    void refusesWhatIsNotAnAlertmanagerV4Payload() {
        post(payload("firing", "abc").replace("\"version\":\"4\"", "\"version\":\"3\""))
                .statusCode(400);
        post(payload("firing", "abc").replace("\"status\":\"firing\",\"labels\"", "\"status\":\"burning\",\"labels\""))
                .statusCode(400);
        post("{not json").statusCode(400).body("error.type", equalTo("invalid_request_error"));
        post("").statusCode(400);
    }

    @Test
    void needsAKeyWithTheAlertmanagerOrAdminRole() {
        given().contentType(ContentType.JSON).body(payload("firing", "x1"))
                .post("/v1/alerts/alertmanager").then().statusCode(401)
                .body("error.type", equalTo("authentication_error"))
                .header("WWW-Authenticate", containsString("Bearer"));
        given().header("Authorization", TestKeys.bearer(TestKeys.FINANCE)).contentType(ContentType.JSON)
                .body(payload("firing", "x2")).post("/v1/alerts/alertmanager").then().statusCode(403)
                .body("error.type", equalTo("permission_error"));
    }

    private static io.restassured.response.ValidatableResponse post(String body) {
        return given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).contentType(ContentType.JSON)
                .body(body).post("/v1/alerts/alertmanager").then();
    }

    private static JsonNode read(ConsumerRecord<String, String> record) {
        try {
            return EventJson.MAPPER.readTree(record.value());
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + record.value(), e);
        }
    }
}
