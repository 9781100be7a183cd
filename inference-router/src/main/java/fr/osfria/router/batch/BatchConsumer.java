package fr.osfria.router.batch;

import fr.osfria.router.RouterConfig;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** Starts and stops the {@link BatchWorker} on its own thread (it blocks on Kafka, never on an event loop). */
@ApplicationScoped
public class BatchConsumer {

    private final String bootstrap;
    private final RouterConfig config;
    private final BatchRunner runner;
    private final String transactionalId;
    private volatile BatchWorker worker;
    private volatile Thread thread;

    public BatchConsumer(@ConfigProperty(name = "kafka.bootstrap.servers") String bootstrap, RouterConfig config,
                         BatchRunner runner, @ConfigProperty(name = "quarkus.http.port") int port) {
        this.bootstrap = bootstrap;
        // one per replica and stable across its restarts: host (a pod's name in Kubernetes) and port
        this.transactionalId = config.batch().group() + "-" + host() + "-" + port;
        this.config = config;
        this.runner = runner;
    }

    void start(@Observes StartupEvent event) {
        if (config.batch().enabled()) {
            start();
        }
    }

    void stop(@Observes ShutdownEvent event) throws InterruptedException {
        stop();
    }

    /** A new worker: it resumes from the group's committed offsets (also what tests restart after a crash). */
    public synchronized void start() {
        worker = new BatchWorker(bootstrap, config.batch(), config.maxBodySize().asLongValue(),
                transactionalId, runner::run);
        thread = new Thread(worker, "osfria-batch-inference");
        thread.setDaemon(true);
        thread.start();
    }

    private static String host() {
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env;
        }
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return "localhost";
        }
    }

    public synchronized void stop() throws InterruptedException {
        if (worker != null) {
            worker.close();
            thread.join(10_000);
            worker = null;
        }
    }

    /** Tests: the running worker dies at its next commit, its answers sent and not committed; returns when it has. */
    public synchronized void crashAtNextCommit() throws InterruptedException {
        if (worker != null) {
            worker.crashAtNextCommit();
            thread.join(30_000);
            worker = null;
        }
    }
}
