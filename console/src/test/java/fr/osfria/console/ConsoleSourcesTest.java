package fr.osfria.console;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The rules the console's files keep, read from the files themselves (the browser tests, platform-local's
 * ConsoleBrowserIT, show the behaviour): no HTML built from strings, nothing loaded from another origin, no inline
 * script the Content-Security-Policy would refuse anyway, the key never in localStorage or a cookie, and every text
 * the pages use present in both languages.
 */
class ConsoleSourcesTest {

    private static final Path ROOT = Path.of("src/main/resources/META-INF/resources/console");

    private static List<Path> files() throws IOException {
        try (var paths = Files.walk(ROOT)) {
            return paths.filter(Files::isRegularFile).toList();
        }
    }

    @Test
    void noApiDataCanBecomeHtmlOrCode() throws IOException {
        Pattern sinks = Pattern.compile("innerHTML|outerHTML|insertAdjacentHTML|document\\.write|\\beval\\(|new Function\\(|setTimeout\\(['\"`]");
        for (Path f : files()) {
            assertFalse(sinks.matcher(Files.readString(f)).find(), f + " turns a string into HTML or code");
        }
    }

    @Test
    void nothingComesFromOutsideThePlatformAndNothingIsInline() throws IOException {
        for (Path f : files()) {
            String text = Files.readString(f);
            // the one absolute URL allowed is the SVG namespace, an identifier that is never fetched
            assertFalse(text.replace("http://www.w3.org/2000/svg", "").matches("(?s).*(https?:)?//[a-z0-9.-]+\\.[a-z]{2,}/.*"),
                    f + " names another origin");
        }
        String page = Files.readString(ROOT.resolve("index.html"));
        assertFalse(Pattern.compile("<script(?![^>]*\\bsrc=)").matcher(page).find(), "an inline script");
        assertFalse(Pattern.compile("\\son[a-z]+=").matcher(page).find(), "an inline event handler");
        assertFalse(page.contains("style="), "an inline style");
    }

    @Test
    void theKeyIsKeptForTheTabOnly() throws IOException {
        for (Path f : files()) {
            String text = Files.readString(f);
            assertFalse(text.contains("localStorage.") || text.contains("document.cookie") || text.contains("indexedDB."),
                    f + " keeps something beyond the tab");
        }
        assertTrue(Files.readString(ROOT.resolve("js/api.js")).contains("sessionStorage.setItem(KEY, key)"));
    }

    @Test
    void everyTextIsInBothLanguages() throws IOException {
        String i18n = Files.readString(ROOT.resolve("js/i18n.js"));
        int fr = i18n.indexOf("  fr: {");
        String en = i18n.substring(0, fr);
        String french = i18n.substring(fr);
        var inline = Pattern.compile("(?:^\\s+|,\\s+)('[a-zA-Z.0-9]+'|[a-z]+): '", Pattern.MULTILINE);
        var m = inline.matcher(en);
        int count = 0;
        while (m.find()) {
            String k = m.group(1);
            assertTrue(french.contains(k + ": "), "no French text for " + k);
            count++;
        }
        assertTrue(count > 100, "read " + count + " English texts");
    }
}
