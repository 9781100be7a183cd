package fr.osfria.ingest.document.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class UploadTest {

    @Test
    void fileNamesAreMadeHarmless() {
        assertEquals("passwd", Upload.safeFilename("../../etc/passwd"));
        assertEquals("rapport.pdf", Upload.safeFilename("C:\\Users\\marie\\rapport.pdf"));
        assertEquals("ab c.pdf", Upload.safeFilename("a\u0000b\n c.pdf"));
        assertEquals("htaccess", Upload.safeFilename(".htaccess"));
        assertEquals("document", Upload.safeFilename("../.."));
        assertEquals("document", Upload.safeFilename(null));
        String longName = Upload.safeFilename("x".repeat(300) + ".docx");
        assertEquals(255, longName.length());
        assertTrue(longName.endsWith(".docx"));
        assertEquals("Compte rendu – réunion.odt", Upload.safeFilename("Compte rendu – réunion.odt"));
    }

    /**
     * The name lost only ASCII control characters: C1 controls (U+0085 next line, U+009B the escape that starts a
     * terminal sequence) and the line and paragraph separators stayed; and the cut at 255 could split a character
     * outside the BMP, whose half was stored as '?'.
     */
    @Test
    void fileNamesLoseEveryControlCharacterAndAreNeverCutInsideACharacter() {
        assertEquals("ab[31mcdef.pdf", Upload.safeFilename("a\u0085b\u009b[31mc\u2028d\u2029e\u007ff.pdf"));
        assertEquals("rapport.pdf", Upload.safeFilename("rap\u200bport\u202e.pdf")); // format characters, as before

        String emoji = "\ud83d\udcc4"; // one character, two UTF-16 units
        String cut = Upload.safeFilename("x".repeat(247) + emoji + emoji + ".docx"); // the cut falls inside the second
        assertTrue(cut.endsWith(".docx"), cut);
        assertTrue(cut.length() <= Upload.MAX_FILENAME, "length " + cut.length());
        assertEquals("x".repeat(247) + emoji + ".docx", cut);
        String noExtension = Upload.safeFilename("y".repeat(254) + emoji);
        assertEquals("y".repeat(254), noExtension);
        for (int i = 0; i < cut.length(); i++) {
            assertTrue(!Character.isSurrogate(cut.charAt(i)) || Character.isHighSurrogate(cut.charAt(i))
                    && i + 1 < cut.length() && Character.isLowSurrogate(cut.charAt(++i)), "half a character at " + i);
        }
    }

    @Test
    void metadataMustBeAnObjectWithTypedPermissionFields() {
        Path f = Path.of("x");
        assertEquals(400, assertThrows(InvalidUpload.class, () -> Upload.of(f, "a", 1, 10, "kb", "[1,2]")).status());
        assertEquals(400, assertThrows(InvalidUpload.class, () -> Upload.of(f, "a", 1, 10, "kb", "{oops")).status());
        assertEquals(400, assertThrows(InvalidUpload.class, () -> Upload.of(f, "a", 1, 10, "kb", "\"text\"")).status());
        assertEquals(400, assertThrows(InvalidUpload.class, () -> Upload.of(f, "a", 1, 10, "kb", "{\"confidential\":\"yes\"}")).status());
        assertEquals(400, assertThrows(InvalidUpload.class, () -> Upload.of(f, "a", 1, 10, "kb", "{\"department\":7}")).status());
        Upload ok = Upload.of(f, "a.pdf", 1, 10, "kb", "{\"department\":\"finance\",\"confidential\":true,\"tags\":[\"x\"]}");
        assertEquals("finance", ok.department());
        assertTrue(ok.confidential());
    }

    @Test
    void sizeAndCollectionAreChecked() {
        Path f = Path.of("x");
        assertEquals("the file is empty", assertThrows(InvalidUpload.class, () -> Upload.of(f, "a", 0, 10, "kb", null)).getMessage());
        assertEquals(413, assertThrows(InvalidUpload.class, () -> Upload.of(f, "a", 11, 10, "kb", null)).status());
        assertEquals("'collection' is required", assertThrows(InvalidUpload.class, () -> Upload.of(f, "a", 1, 10, " ", null)).getMessage());
        assertEquals(400, assertThrows(InvalidUpload.class, () -> Upload.of(f, "a", 1, 10, "../kb", null)).status());
        assertEquals(400, assertThrows(InvalidUpload.class, () -> Upload.of(null, "a", 1, 10, "kb", null)).status());
    }
}
