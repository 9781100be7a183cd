package fr.osfria.router.model;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.Topics;
import fr.osfria.router.SimulatedBackends;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import org.junit.jupiter.api.Test;

@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(SimulatedBackends.class)
class ModelResourceTest {

    private static final String LLAMA = "meta-llama/Llama-3.1-8B-Instruct";
    private static final String MISTRAL = "mistralai/Mistral-7B-Instruct-v0.3";

    @Test
    void listsTheModelsOfHealthyBackendsInOpenAiShape() {
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> given()
                .header("Authorization", TestKeys.bearer(TestKeys.READER)).get("/v1/models").then()
                .statusCode(200)
                .body("object", equalTo("list"))
                .body("data.id", containsInAnyOrder(LLAMA, MISTRAL))
                .body("data[0].object", equalTo("model")));
        given().header("Authorization", TestKeys.bearer(TestKeys.READER)).get("/v1/models/" + MISTRAL).then()
                .statusCode(200).body("id", equalTo(MISTRAL));
        given().header("Authorization", TestKeys.bearer(TestKeys.READER)).get("/v1/models/gpt-5").then()
                .statusCode(404).body("error.code", equalTo("model_not_found"));
        given().get("/v1/models").then().statusCode(401).body("error.type", equalTo("authentication_error"));
    }

    /** The completion routes are Vert.x routes: META-INF/openapi.yaml describes them in the service's document. */
    @Test
    void theOpenApiDocumentDescribesTheCompletionRoutesToo() {
        given().get("/q/openapi?format=json").then().statusCode(200)
                .body("paths.'/v1/chat/completions'.post.requestBody.content.'application/json'.schema.'$ref'",
                        equalTo("#/components/schemas/ChatCompletionRequest"))
                .body("paths.'/v1/completions'.post.responses.'429'.'$ref'",
                        equalTo("#/components/responses/CompletionRateLimited"))
                .body("paths.'/v1/models'.get.responses.'200'.description", equalTo("OK"));
    }

    @Test
    void modelsComingAndGoingArePublishedOnce() throws Exception {
        try (TopicProbe events = TopicProbe.open(Topics.PUBLIC_EVENTS)) {
            SimulatedBackends.first.setModels(LLAMA, "qwen/Qwen2.5-0.5B");
            JsonNode loaded = EventJson.MAPPER.readTree(events.await(r -> "qwen/Qwen2.5-0.5B".equals(r.key())
                    && r.value().contains(EventTypes.MODEL_LOADED), Duration.ofSeconds(10)).value());
            assertEquals("model.loaded", loaded.get("type").asText());
            assertEquals(1, loaded.at("/data/backends").asInt());

            // Mistral lives only on the second backend: when it dies, the model is gone from the pool
            SimulatedBackends.second.stop();
            try {
                events.await(r -> MISTRAL.equals(r.key()) && r.value().contains(EventTypes.MODEL_UNLOADED),
                        Duration.ofSeconds(10));
                given().header("Authorization", TestKeys.bearer(TestKeys.READER)).get("/v1/models/" + MISTRAL).then()
                        .statusCode(404);
                // Llama is still served by the first backend: it is not unloaded
                long llamaEvents = events.drain(Duration.ofMillis(800)).stream()
                        .filter(r -> LLAMA.equals(r.key()) && r.value().contains(EventTypes.MODEL_UNLOADED)).count();
                assertEquals(0, llamaEvents);
            } finally {
                SimulatedBackends.second.restart();
                SimulatedBackends.first.setModels(LLAMA);
            }
            events.await(r -> MISTRAL.equals(r.key()) && r.value().contains(EventTypes.MODEL_LOADED), Duration.ofSeconds(10));
        }
    }
}
