package fr.osfria.k8s.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.k8s.DeclaredApplications;
import fr.osfria.k8s.Rendered;
import fr.osfria.k8s.Tools;
import fr.osfria.local.LocalKafkaApplication.Grant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A hostile application holds the credentials of its KafkaUser and tries every topic and consumer group of the
 * others: with names chosen to share a prefix ("billing", "billing-x", "billing2"), no ACL of one may match a topic
 * or group of another, nor use a wildcard. Then an operator declares an application whose name would put another's
 * topics or groups under its prefix ("billing.x": billing's group prefix osfria.app.billing. would cover its groups)
 * or is no Kafka application name at all (a wildcard, 41 characters): the render refuses it.
 */
class ApplicationTakesAnotherApplicationsTopicsAttackTest {

    private static final List<String> APPLICATIONS = List.of("billing", "billing-x", "billing2");

    @Test
    void noUserMatchesAnotherApplicationsTopicOrGroup() {
        Rendered r = DeclaredApplications.render("prod", APPLICATIONS.toArray(String[]::new));
        for (String a : APPLICATIONS) {
            List<Grant> grants = new ArrayList<>(DeclaredApplications.grants(DeclaredApplications.user(r, a)));
            assertFalse(grants.isEmpty(), a + " has no ACL: the test would prove nothing");
            for (Grant g : grants) {
                assertFalse(g.resource().contains("*"), a + ": a wildcard " + g);
                assertTrue(g.resource().startsWith("osfria.app." + a + "."), a + ": outside its prefix " + g);
                assertTrue(List.of("literal", "prefix").contains(g.patternType()), a + ": " + g);
            }
            for (String b : APPLICATIONS) {
                if (a.equals(b)) {
                    continue;
                }
                List<String> theirs = new ArrayList<>(DeclaredApplications.topics(r, b).keySet());
                assertEquals(5, theirs.size(), b + "'s topics");
                theirs.add("osfria.app." + b + ".results-reader"); // a consumer group of b
                for (String resource : theirs) {
                    for (Grant g : grants) {
                        boolean matches = g.patternType().equals("prefix") ? resource.startsWith(g.resource())
                                : resource.equals(g.resource());
                        assertFalse(matches, a + " may " + g.operation() + " " + b + "'s " + resource + " through " + g);
                    }
                }
            }
        }
    }

    @Test
    void aNameThatWouldEscapeItsPrefixIsRefusedAtRenderTime() {
        for (String hostile : List.of("billing.x", "*", "a".repeat(41))) {
            Tools.Result r = DeclaredApplications.tryRender("prod", "billing", hostile);
            assertNotEquals(0, r.exit(), "rendered an application named '" + hostile + "':\n" + r.out());
            assertTrue(r.err().contains("osfria.fr/application"), hostile + ": " + r.err());
        }
    }
}
