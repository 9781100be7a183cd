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
