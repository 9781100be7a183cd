package fr.osfria.ingest.document.rest;

import static fr.osfria.ingest.IngestTestSupport.KB;
import static fr.osfria.ingest.IngestTestSupport.upload;
import static org.junit.jupiter.api.Assertions.assertEquals;

import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * A client sends its upload again while the first is still being stored (an SDK retries after a time-out or a 502 from
 * a proxy that gave up on a slow service): one document, and every answer names it. Duplicate detection looked for a
 * copy before storing the file and inserted after: uploads of the same bytes at the same time each found none, and
 * each made a document.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class UploadSentAgainTest {

    private static final int COPIES = 8;

    @Inject
    AgroalDataSource database;

    @Test
    void theSameUploadSentSeveralTimesAtOnceMakesOneDocument() throws Exception {
        for (int round = 0; round < 3; round++) {
            byte[] file = ("Procédure d'astreinte, révision " + UUID.randomUUID() + "\n" + "ligne de texte\n".repeat(2_000))
                    .getBytes(StandardCharsets.UTF_8);
            CountDownLatch go = new CountDownLatch(1);
            ExecutorService clients = Executors.newFixedThreadPool(COPIES);
            List<Future<String>> answers = new ArrayList<>();
            try {
                for (int i = 0; i < COPIES; i++) {
                    answers.add(clients.submit(() -> {
                        go.await();
                        var answer = upload(TestKeys.HR, "astreinte.txt", file, KB, "{\"department\":\"hr\"}").extract();
                        int status = answer.statusCode();
                        return status + " " + answer.path("document_id");
                    }));
                }
                go.countDown();
                Set<String> ids = new HashSet<>();
                int accepted = 0;
                for (Future<String> a : answers) {
                    String[] statusAndId = a.get().split(" ");
                    accepted += "202".equals(statusAndId[0]) ? 1 : 0;
                    assertEquals(true, Set.of("200", "202").contains(statusAndId[0]), "an answer: " + a.get());
                    ids.add(statusAndId[1]);
                }
                assertEquals(1, ids.size(), "round " + round + ": every answer names the same document: " + ids);
                assertEquals(1, accepted, "round " + round + ": one upload accepted, the others duplicates of it");
                assertEquals(1, documentsNamed(ids.iterator().next()), "round " + round);
            } finally {
                clients.shutdownNow();
            }
        }
    }

    /**
     * Two departments uploading the same bytes at once: each gets its own document (a copy the other may not read is
     * never named to it), and each key's repeated uploads are duplicates of its own.
     */
    @Test
    void twoDepartmentsSendingTheSameBytesAtOnceGetADocumentEachAndNeverTheOthers() throws Exception {
        byte[] file = ("Note de service " + UUID.randomUUID() + "\n" + "texte\n".repeat(2_000)).getBytes(StandardCharsets.UTF_8);
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService clients = Executors.newFixedThreadPool(COPIES);
        List<Future<String>> hr = new ArrayList<>();
        List<Future<String>> finance = new ArrayList<>();
        try {
            for (int i = 0; i < COPIES / 2; i++) {
                hr.add(clients.submit(() -> {
                    go.await();
                    return upload(TestKeys.HR, "note.txt", file, KB, "{\"department\":\"hr\"}").extract().path("document_id");
                }));
                finance.add(clients.submit(() -> {
                    go.await();
                    return upload(TestKeys.FINANCE, "note.txt", file, KB, "{\"department\":\"finance\",\"confidential\":true}")
                            .extract().path("document_id");
                }));
            }
            go.countDown();
            Set<String> hrIds = new HashSet<>();
            Set<String> financeIds = new HashSet<>();
            for (Future<String> a : hr) {
                hrIds.add(a.get());
            }
            for (Future<String> a : finance) {
                financeIds.add(a.get());
            }
            assertEquals(1, hrIds.size(), "HR's uploads name one document: " + hrIds);
            assertEquals(1, financeIds.size(), "Finance's uploads name one document: " + financeIds);
            assertEquals(false, hrIds.equals(financeIds), "HR is never told of Finance's confidential copy");
            assertEquals(2, documentsNamed(hrIds.iterator().next()), "one document per department");
        } finally {
            clients.shutdownNow();
        }
    }

    /** Rows of the collection whose content is that of {@code id}'s document. */
    private int documentsNamed(String id) throws Exception {
        try (Connection c = database.getConnection(); PreparedStatement s = c.prepareStatement(
                "SELECT count(*) FROM document WHERE collection = ? AND content_hmac = (SELECT content_hmac FROM document WHERE id = ?)")) {
            s.setString(1, KB);
            s.setString(2, id);
            try (ResultSet r = s.executeQuery()) {
                r.next();
                return r.getInt(1);
            }
        }
    }
}
