package fr.osfria.security.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.GeneralSecurityException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class SealedFieldsTest {

    private static final SecretKey DATA_KEY = new SecretKeySpec(new byte[32], "AES");

    @Test
    void metadataValuesAreSealedButRightsFieldsStayClear() throws Exception {
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("department", "finance");
        metadata.put("confidential", true);
        metadata.put("project", "Rachat Dupont");
        metadata.put("year", 2025);
        metadata.put("tags", List.of("m&a", "2025"));
        Map<String, Object> sealed = SealedFields.sealMetadata(DATA_KEY, "doc_1", metadata);
        assertEquals("finance", sealed.get("department"));
        assertEquals(true, sealed.get("confidential"));
        assertTrue(SealedFields.isSealed(sealed.get("project")));
        assertFalse(sealed.toString().contains("Dupont"));
        assertEquals(metadata, SealedFields.openMetadata(DATA_KEY, "doc_1", sealed));
    }

    @Test
    void aSealedValueCannotBeMovedToAnotherDocumentOrKey() {
        Map<String, Object> sealed = SealedFields.sealMetadata(DATA_KEY, "doc_1", Map.of("project", "Rachat"));
        assertThrows(GeneralSecurityException.class, () -> SealedFields.openMetadata(DATA_KEY, "doc_2", sealed));
        assertThrows(GeneralSecurityException.class, () -> SealedFields.openMetadata(DATA_KEY, "doc_1",
                Map.of("owner", sealed.get("project"))));
        String name = SealedFields.sealFilename(DATA_KEY, "doc_1", "rachat.pdf");
        assertThrows(GeneralSecurityException.class, () -> SealedFields.openFilename(DATA_KEY, "doc_2", name));
    }

    @Test
    void fileNamesRoundTripAndOlderClearNamesPassThrough() throws Exception {
        String sealed = SealedFields.sealFilename(DATA_KEY, "doc_1", "plan social.pdf");
        assertFalse(sealed.contains("plan"));
        assertEquals("plan social.pdf", SealedFields.openFilename(DATA_KEY, "doc_1", sealed));
        assertEquals("ancien.pdf", SealedFields.openFilename(DATA_KEY, "doc_1", "ancien.pdf"));
    }
}
