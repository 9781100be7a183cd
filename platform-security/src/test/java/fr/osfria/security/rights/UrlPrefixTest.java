package fr.osfria.security.rights;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.security.key.KeyEntry;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which file URLs a key's fetch prefixes cover, against the spellings that try to escape them. */
class UrlPrefixTest {

    private static final String EXPORTS = "https://files.billing.internal/exports/";

    @Test
    void aUrlUnderThePrefixIsCoveredInEveryEquivalentSpelling() {
        for (String url : List.of("https://files.billing.internal/exports/invoice.pdf",
                "HTTPS://Files.Billing.Internal/exports/invoice.pdf", "https://files.billing.internal:443/exports/a.pdf",
                "https://files.billing.internal/exports/2026/03/a.pdf?v=2", "https://files.billing.internal/exports/")) {
            assertTrue(UrlPrefix.covers(EXPORTS, url), url);
        }
        assertTrue(UrlPrefix.covers("https://files.billing.internal/exports", "https://files.billing.internal/exports/a"));
        assertTrue(UrlPrefix.covers("http://[fd00::5]:8080/", "http://[FD00::5]:8080/x"));
    }

    @Test
    void escapesAndNeighboursAreNotCovered() {
        for (String url : List.of(
                "https://files.billing.internal/exports-other/a.pdf", // a neighbour that shares the text
                "https://files.billing.internal/exports/../payroll/a.pdf",
                "https://files.billing.internal/exports/./../payroll/a.pdf",
                "https://files.billing.internal/exports/%2e%2e/payroll/a.pdf",
                "https://files.billing.internal/exports/%2E%2E/payroll/a.pdf",
                "https://files.billing.internal/exports/.%2e/payroll/a.pdf",
                "https://files.billing.internal/exports%2f..%2fpayroll/a.pdf",
                "https://files.billing.internal/exports/..%5cpayroll/a.pdf",
                "https://files.billing.internal//exports/a.pdf",
                "https://files.billing.internal/Exports/a.pdf",
                "https://files.billing.internal/payroll/a.pdf",
                "https://files.billing.internal/",
                "http://files.billing.internal/exports/a.pdf", // another scheme
                "https://files.billing.internal:8443/exports/a.pdf", // another port
                "https://files.billing.internal.evil.example/exports/a.pdf",
                "https://evil.example/exports/a.pdf",
                "https://user@files.billing.internal/exports/a.pdf",
                "https://evil.example#@files.billing.internal/exports/a.pdf",
                "file:///exports/a.pdf",
                "not a url")) {
            assertFalse(UrlPrefix.covers(EXPORTS, url), url);
        }
    }

    @Test
    void onlyAKeysOwnPrefixesGiveTheRightAndNoneIsGivenByDefault() {
        KeyEntry billing = key("billing", List.of(EXPORTS));
        KeyEntry other = key("other", null);
        KeyEntry admin = new KeyEntry("root", null, null, Set.of(KeyEntry.ADMIN), List.of("*"), List.of("*"),
                List.of("*"), true, null, null, null, null, null, null, true);
        String url = "https://files.billing.internal/exports/invoice.pdf";
        assertTrue(Rights.canFetch(billing, url));
        assertFalse(Rights.canFetch(other, url));
        assertFalse(Rights.canFetch(admin, url), "not even an admin: the operator names what may be fetched");
    }

    private static KeyEntry key(String name, List<String> fetchFrom) {
        return new KeyEntry(name, null, null, Set.of("user"), List.of("invoices"), List.of("invoices"), List.of(),
                false, null, null, null, null, null, null, true, null, fetchFrom);
    }
}
