package fr.osfria.router;

import io.quarkus.vertx.http.HttpServerOptionsCustomizer;
import io.vertx.core.http.HttpServerOptions;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Tests only: a fixed socket send buffer of {@code test.http.send-buffer-size} bytes when that is set, so that a client
 * that stops reading fills it (and back-pressure starts) within kilobytes rather than after the megabytes the kernel's
 * autotuning would give it.
 */
@ApplicationScoped
public class SmallSendBuffer implements HttpServerOptionsCustomizer {

    @ConfigProperty(name = "test.http.send-buffer-size")
    Optional<Integer> size;

    @Override
    public void customizeHttpServer(HttpServerOptions options) {
        size.ifPresent(options::setSendBufferSize);
    }
}
