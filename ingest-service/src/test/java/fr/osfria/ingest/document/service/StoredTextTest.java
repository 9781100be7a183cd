package fr.osfria.ingest.document.service;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** What text a caller may have stored, and how a refusal quotes what it may not. */
class StoredTextTest {

    private static final String NUL = String.valueOf((char) 0);
    private static final String HIGH = String.valueOf((char) 0xD800);
    private static final String LOW = String.valueOf((char) 0xDC00);
    private static final String EMOJI = new String(Character.toChars(0x1F4C4)); // a pair: text like any other

    @Test
    void nulAndLoneSurrogatesAreRefusedNamingTheField() {
        assertEquals("'note' holds a NUL character (\\u0000), which cannot be stored",
                assertThrows(InvalidUpload.class, () -> StoredText.check("'note'", "a" + NUL + "b")).getMessage());
        for (String lone : new String[] {HIGH, LOW, "x" + HIGH, LOW + "x", HIGH + HIGH, LOW + HIGH, EMOJI + HIGH}) {
            InvalidUpload e = assertThrows(InvalidUpload.class, () -> StoredText.check("'id'", lone));
            assertEquals(400, e.status());
            assertTrue(e.getMessage().startsWith("'id' holds a lone UTF-16 surrogate (\\ud"), e.getMessage());
        }
    }

    @Test
    void ordinaryTextPassesControlCharactersOnlyOutsideIdentifiers() {
        for (String text : new String[] {"", "facture 2026", "é", "e\u0301", EMOJI, HIGH + LOW, "tab\there", "line\nbreak"}) {
            assertDoesNotThrow(() -> StoredText.check("'v'", text));
        }
        assertDoesNotThrow(() -> StoredText.check("'v'", null));
        assertDoesNotThrow(() -> StoredText.checkIdentifier("'id'", "7d9c2f0e-" + EMOJI + "-é"));
        for (char c : new char[] {1, 7, '\n', 0x1B, 0x7F, 0x85, 0x9F}) {
            assertEquals("'id' holds a control character (\\u" + String.format("%04x", (int) c) + ")",
                    assertThrows(InvalidUpload.class, () -> StoredText.checkIdentifier("'id'", "a" + c)).getMessage());
        }
    }

    @Test
    void aMessageQuotesWhatItRefusesWithoutCarryingIt() {
        assertEquals("k\\u0000\\u001b[31m\\ud800" + EMOJI, StoredText.printable("k" + NUL + "\u001b[31m" + HIGH + EMOJI));
        assertEquals("plain", StoredText.printable("plain"));
        // what would make a quoted probe read as something else: a right-to-left override, zero-width characters,
        // a line separator
        assertEquals("invoice-\\u202efdp.exe \\u200b\\u2060a\\u2028b",
                StoredText.printable("invoice-\u202efdp.exe \u200b\u2060a\u2028b"));
        assertEquals("é e\u0301 " + EMOJI, StoredText.printable("é e\u0301 " + EMOJI));
        // a tag character (a pair) that would hide an "A" after the visible text
        assertEquals("ok\\udb40\\udc41", StoredText.printable("ok\udb40\udc41"));
        String quoted = new InvalidUpload(400, "key '" + NUL + "' is not").getMessage();
        assertEquals("key '\\u0000' is not", quoted);
    }
}
