package fr.osfria.security.rights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.security.key.KeyEntry;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class EventAudienceTest {

    private static KeyEntry key(String name, Set<String> roles, List<String> read, List<String> depts, boolean confidential) {
        return new KeyEntry(name, "sha256:x", null, roles, read, List.of(), depts, confidential, null, null, null, null, null, null);
    }

    private final KeyEntry financeCleared = key("finance", Set.of("user"), List.of("kb"), List.of("finance"), true);
    private final KeyEntry hr = key("hr", Set.of("user"), List.of("kb"), List.of("hr"), false);
    private final KeyEntry reader = key("reader", Set.of("user"), List.of("kb"), List.of("*"), false);
    private final KeyEntry nobody = key("nobody", Set.of("user"), List.of(), List.of(), false);
    private final KeyEntry ops = key("ops", Set.of("ops"), List.of(), List.of(), false);
    private final KeyEntry admin = key("admin", Set.of("admin"), List.of(), List.of(), false);

    private static JsonNode json(String text) {
        try {
            return EventJson.MAPPER.readTree(text);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static JsonNode doc(String collection, String department, boolean confidential) {
        return json("{\"document_id\":\"doc_1\",\"filename\":\"paie.pdf\",\"collection\":" + quoted(collection)
                + ",\"department\":" + quoted(department) + ",\"confidential\":" + confidential + "}");
    }

    private static String quoted(String s) {
        return s == null ? "null" : "\"" + s + "\"";
    }

    @ParameterizedTest
    @ValueSource(strings = {EventTypes.DOCUMENT_INDEXED, EventTypes.DOCUMENT_FAILED, EventTypes.DOCUMENT_DELETED})
    void documentEventsFollowTheDocumentReadRule(String type) {
        assertTrue(EventAudience.mayReceive(financeCleared, type, doc("kb", "finance", true), null));
        assertTrue(EventAudience.mayReceive(financeCleared, type, doc("kb", null, false), null), "no department: the collection decides");
        assertFalse(EventAudience.mayReceive(financeCleared, type, doc("kb", "hr", false), null), "another department");
        assertFalse(EventAudience.mayReceive(financeCleared, type, doc("reports", "finance", false), null), "another collection");
        assertFalse(EventAudience.mayReceive(hr, type, doc("kb", "hr", true), null), "not cleared for confidential");
        assertTrue(EventAudience.mayReceive(hr, type, doc("kb", "hr", false), null));
        assertTrue(EventAudience.mayReceive(reader, type, doc("kb", "legal", false), null), "every department");
        assertFalse(EventAudience.mayReceive(nobody, type, doc("kb", null, false), null), "no collection at all");
        assertFalse(EventAudience.mayReceive(ops, type, doc("kb", null, false), null), "ops is not a document reader");
        assertTrue(EventAudience.mayReceive(admin, type, doc("anything", "any", true), null));
        // the rule is the same as GET /v1/documents/{id}, case by case
        for (KeyEntry k : List.of(financeCleared, hr, reader, nobody, ops, admin)) {
            for (String dept : new String[] {null, "finance", "hr"}) {
                for (boolean conf : new boolean[] {false, true}) {
                    assertEquals(Rights.canRead(k, "kb", dept, conf), EventAudience.mayReceive(k, type, doc("kb", dept, conf), null),
                            k.name() + " " + dept + " " + conf);
                }
            }
        }
    }

    @Test
    void aDocumentEventThatDoesNotSayItsRightsReachesAdminsOnly() {
        JsonNode old = json("{\"document_id\":\"doc_1\",\"collection\":\"kb\"}"); // produced before events carried rights
        assertFalse(EventAudience.mayReceive(reader, EventTypes.DOCUMENT_INDEXED, old, null));
        assertFalse(EventAudience.mayReceive(reader, EventTypes.DOCUMENT_INDEXED,
                json("{\"collection\":\"kb\",\"confidential\":\"false\"}"), null), "a string is not a verdict");
        assertFalse(EventAudience.mayReceive(reader, EventTypes.DOCUMENT_INDEXED,
                json("{\"collection\":[\"kb\"],\"confidential\":false}"), null), "a collection is a string");
        assertFalse(EventAudience.mayReceive(reader, EventTypes.DOCUMENT_INDEXED, json("[]"), null));
        assertFalse(EventAudience.mayReceive(reader, EventTypes.DOCUMENT_INDEXED, null, null));
        assertTrue(EventAudience.mayReceive(admin, EventTypes.DOCUMENT_INDEXED, old, null));
    }

    @Test
    void usageThresholdsReachOnlyTheKeyTheyAreAbout() {
        JsonNode aboutHr = json("{\"key_name\":\"hr\",\"window\":\"daily\",\"fraction\":0.8}");
        assertTrue(EventAudience.mayReceive(hr, EventTypes.USAGE_THRESHOLD, aboutHr, null));
        assertFalse(EventAudience.mayReceive(financeCleared, EventTypes.USAGE_THRESHOLD, aboutHr, null));
        assertFalse(EventAudience.mayReceive(ops, EventTypes.USAGE_THRESHOLD, aboutHr, null));
        assertFalse(EventAudience.mayReceive(hr, EventTypes.USAGE_THRESHOLD, json("{\"window\":\"daily\"}"), null));
        assertFalse(EventAudience.mayReceive(hr, EventTypes.USAGE_THRESHOLD, json("{\"keyName\":\"hr\"}"), null),
                "the public shape is snake_case");
        assertTrue(EventAudience.mayReceive(admin, EventTypes.USAGE_THRESHOLD, aboutHr, null));
    }

    @ParameterizedTest
    @ValueSource(strings = {EventTypes.MODEL_LOADED, EventTypes.MODEL_UNLOADED, EventTypes.ALERT_TRIGGERED, EventTypes.ALERT_RESOLVED})
    void operationalEventsReachOpsAndAdminsOnly(String type) {
        JsonNode data = json("{\"model\":\"llama\",\"alert_name\":\"DiskFull\"}");
        assertTrue(EventAudience.mayReceive(ops, type, data, null));
        assertTrue(EventAudience.mayReceive(admin, type, data, null));
        for (KeyEntry k : List.of(financeCleared, hr, reader, nobody)) {
            assertFalse(EventAudience.mayReceive(k, type, data, null), k.name());
        }
    }

    @Test
    void webhookEventsReachTheOwnerOfTheSubscriptionConcerned() {
        JsonNode exhausted = json("{\"subscription_id\":\"wh_1\",\"delivery_id\":\"msg_1\",\"event\":\"document.indexed\"}");
        assertEquals("wh_1", EventAudience.concernedSubscription(EventTypes.WEBHOOK_EXHAUSTED, exhausted));
        assertEquals("wh_1", EventAudience.concernedSubscription("webhook.ping", exhausted));
        assertNull(EventAudience.concernedSubscription(EventTypes.DOCUMENT_INDEXED, exhausted));
        assertTrue(EventAudience.mayReceive(hr, EventTypes.WEBHOOK_EXHAUSTED, exhausted, "hr"));
        assertFalse(EventAudience.mayReceive(financeCleared, EventTypes.WEBHOOK_EXHAUSTED, exhausted, "hr"));
        assertFalse(EventAudience.mayReceive(ops, EventTypes.WEBHOOK_EXHAUSTED, exhausted, "hr"));
        assertFalse(EventAudience.mayReceive(hr, EventTypes.WEBHOOK_EXHAUSTED, exhausted, null), "owner unknown: admins only");
        assertTrue(EventAudience.mayReceive(admin, EventTypes.WEBHOOK_EXHAUSTED, exhausted, null));
        assertTrue(EventAudience.mayReceive(hr, "webhook.ping", exhausted, "hr"));
    }

    @Test
    void unknownTypesReachAdminsOnly() {
        JsonNode data = json("{\"collection\":\"kb\",\"confidential\":false,\"key_name\":\"hr\"}");
        for (String type : new String[] {"document.exploded", "usage.recorded", "audit.recorded", "", null}) {
            for (KeyEntry k : List.of(financeCleared, hr, reader, nobody, ops)) {
                assertFalse(EventAudience.mayReceive(k, type, data, "hr"), k.name() + " " + type);
            }
            assertTrue(EventAudience.mayReceive(admin, type, data, null));
        }
    }

    @Test
    void aRevokedKeyOrNoKeyReceivesNothing() {
        KeyEntry revokedAdmin = admin.revoke(Instant.now());
        assertFalse(EventAudience.mayReceive(revokedAdmin, EventTypes.MODEL_LOADED, json("{}"), null));
        assertFalse(EventAudience.mayReceive(hr.revoke(Instant.now()), EventTypes.DOCUMENT_INDEXED, doc("kb", "hr", false), null));
        assertFalse(EventAudience.mayReceive(null, EventTypes.DOCUMENT_INDEXED, doc("kb", null, false), null));
    }

    @Test
    void anApplicationsEventsReachOnlyKeysThatMayReadAllItsData() {
        KeyEntry billing = new KeyEntry("billing", "sha256:x", null, Set.of("user"), List.of("invoices"), List.of("kb"),
                List.of("finance"), false, null, null, null, null, null, null, true, List.of("invoice.created"));
        KeyEntry bothFinance = key("both", Set.of("user"), List.of("invoices", "kb"), List.of("finance"), false);
        KeyEntry invoicesOnly = key("half", Set.of("user"), List.of("invoices"), List.of("finance"), false);
        KeyEntry otherDept = key("hr2", Set.of("user"), List.of("invoices", "kb"), List.of("hr"), false);
        KeyEntry everything = key("all", Set.of("user"), List.of("*"), List.of("*"), false);
        String type = "app.billing.invoice.created";
        JsonNode data = json("{\"invoice\":\"2026-0042\"}");

        assertTrue(EventAudience.mayReceive(bothFinance, type, data, null, billing));
        assertTrue(EventAudience.mayReceive(everything, type, data, null, billing));
        assertTrue(EventAudience.mayReceive(billing, type, data, null, billing), "the application itself");
        assertTrue(EventAudience.mayReceive(admin, type, data, null, null));
        assertFalse(EventAudience.mayReceive(invoicesOnly, type, data, null, billing), "cannot read kb, which it writes");
        assertFalse(EventAudience.mayReceive(otherDept, type, data, null, billing), "another department");
        assertFalse(EventAudience.mayReceive(ops, type, data, null, billing));
        assertFalse(EventAudience.mayReceive(bothFinance, type, data, null, null), "no producer known: admins only");
        assertFalse(EventAudience.mayReceive(bothFinance, type, data, null, billing.revoke(Instant.now())));
        assertFalse(EventAudience.mayReceive(bothFinance, type, data, null, bothFinance), "the producer must be the type's application");
        assertFalse(EventAudience.mayReceive(bothFinance, type, data, null), "the 4-argument form knows no producer");
        KeyEntry clearedApp = new KeyEntry("billing", "sha256:x", null, Set.of("user"), List.of("invoices"), List.of(),
                List.of("finance"), true, null, null, null, null, null, null, true, null);
        assertFalse(EventAudience.mayReceive(bothFinance, type, data, null, clearedApp), "not cleared like the producer");
        KeyEntry noData = new KeyEntry("billing", "sha256:x", null, Set.of("user"), List.of(), List.of(), List.of(),
                false, null, null, null, null, null, null, true, null);
        assertFalse(EventAudience.mayReceive(everything, type, data, null, noData), "no data to compare: admins and itself");
        assertTrue(EventAudience.mayReceive(noData, type, data, null, noData));
        assertEquals("billing", EventAudience.producingApplication(type));
        assertNull(EventAudience.producingApplication("document.indexed"));
        assertNull(EventAudience.producingApplication("app.billing"));
    }
}
