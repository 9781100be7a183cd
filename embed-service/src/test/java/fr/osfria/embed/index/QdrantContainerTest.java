package fr.osfria.embed.index;

import org.junit.jupiter.api.Test;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.qdrant.QdrantContainer;

/** The same scenarios against a real Qdrant, where a Docker engine runs (skipped cleanly elsewhere). */
@Testcontainers(disabledWithoutDocker = true)
class QdrantContainerTest {

    @Container
    static final QdrantContainer QDRANT = new QdrantContainer("qdrant/qdrant:v1.13.4");

    @Test
    void realQdrantServesTheScenarios() throws Exception {
        try (QdrantStore store = new QdrantStore(QdrantScenarios.config(QDRANT.getHost(), QDRANT.getGrpcPort(), "chunks"),
                "m", QdrantScenarios.DIM)) {
            QdrantScenarios.lifecycleAndRights(store);
        }
        QdrantScenarios.tombstones(QdrantScenarios.config(QDRANT.getHost(), QDRANT.getGrpcPort(), "tombstones"));
    }
}
