package fr.osfria.ingest.appkafka.fetch;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The operator's list, against the URL forms a hostile application tries. */
class FetchAllowListTest {

    private final FetchAllowList list = new FetchAllowList(List.of("files.example", "Docs.Example:8443",
            "10.1.2.3", "[fd00::7]:8080", " "));

    private boolean allows(String url) {
        return list.allows(URI.create(url));
    }

    @Test
    void listedHostsOnTheirPortsAreAllowed() {
        assertTrue(allows("http://files.example/a/b.pdf?x=1"));
        assertTrue(allows("https://files.example/a.pdf"));
        assertTrue(allows("http://files.example:80/a.pdf"));
        assertTrue(allows("HTTPS://FILES.EXAMPLE/a.pdf"), "scheme and host compare in lower case");
        assertTrue(allows("https://docs.example:8443/x"));
        assertTrue(allows("http://docs.example:8443/x"));
        assertTrue(allows("http://10.1.2.3/x"));
        assertTrue(allows("http://[fd00::7]:8080/x"));
    }

    @Test
    void otherPortsSchemesAndSpellingsAreNot() {
        for (String url : List.of(
                "http://files.example:8080/a", // another port of a listed host: no port scan
                "https://files.example:80/a",
                "https://docs.example/x", // a host listed with its port only
                "ftp://files.example/a", "file:///etc/passwd", "gopher://files.example/", "jar:http://files.example/a!/",
                "http://files.example.evil.com/a", "http://evil.files.example/a", "http://files.example./a",
                "http://other.example/a",
                "http://167838211/x", "http://0x0a010203/x", "http://012.1.2.3/x", "http://10.1.2.3.nip.io/x",
                "http://[fd00:0:0:0:0:0:0:7]:8080/x", "http://[::ffff:10.1.2.3]/x",
                "http://[fd00::7]/x", "//files.example/a", "files.example/a")) {
            assertFalse(allows(url), url);
        }
    }

    @Test
    void credentialsInTheUrlAreRefusedWhateverTheHostSeemsToBe() {
        assertFalse(allows("http://files.example@evil.example/a"), "the host is evil.example");
        assertFalse(allows("http://user:pass@files.example/a"));
        assertFalse(allows("http://evil.example#@files.example/a"));
        assertFalse(allows("http://evil.example?@files.example/a"));
    }

    @Test
    void anEmptyListEnablesNothingAndABadEntryIsAConfigurationError() {
        FetchAllowList none = new FetchAllowList(List.of());
        assertFalse(none.enabled());
        assertFalse(none.allows(URI.create("http://files.example/a")));
        assertTrue(list.enabled());
        assertThrows(IllegalArgumentException.class, () -> new FetchAllowList(List.of("files.example:http")));
        assertThrows(IllegalArgumentException.class, () -> new FetchAllowList(List.of("files.example:70000")));
        assertThrows(IllegalArgumentException.class, () -> new FetchAllowList(List.of("[fd00::7")));
    }
}
