package fr.osfria.ingest.appkafka.fetch;

import fr.osfria.ingest.IngestConfig;
import fr.osfria.security.network.HostResolver;
import fr.osfria.security.network.TargetPolicy;
import fr.osfria.security.network.TargetPolicy.Target;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.ConnectTimeoutException;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.Startup;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.UniEmitter;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.mutiny.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Fetches a file a Kafka application names by URL into a file of ours: only from a host and port on the operator's
 * list ({@link FetchAllowList}), then under the platform's network policy ({@link TargetPolicy}: resolved once, no
 * loopback, link-local or metadata address unless the operator allows that host, and the connection goes to the
 * checked address with the URL's host in the Host header and TLS server name, so a name re-pointed after the check
 * is not followed). A redirect is an answer (refused), not an instruction; the body is written as it arrives, never
 * held whole, and the fetch stops past the size limit or at a total deadline, whichever comes first. The name is
 * looked up on the application's behalf: an application whose names hang holds a few lookup threads of its own and
 * delays no other application's fetches.
 */
@ApplicationScoped
@Startup // a malformed allowed-hosts entry stops the service at boot, not at the first record by URL
public class FileFetcher {

    private static final TargetPolicy.Wording WORDING = new TargetPolicy.Wording("be fetched",
            "the server must let the platform fetch without them", "osfria.ingest.fetch.allowed-local-hosts");

    private final FetchAllowList allowList;
    private final TargetPolicy policy;
    private final io.vertx.core.Vertx vertx;
    private final HttpClient client;
    private final Duration deadline;
    private volatile boolean stopping;

    public FileFetcher(IngestConfig config, HostResolver resolver, Vertx vertx, MeterRegistry metrics) {
        IngestConfig.Fetch fetch = config.fetch();
        this.allowList = new FetchAllowList(fetch.allowedHosts().orElse(List.of()));
        IngestConfig.Fetch.Lookups lookups = fetch.lookups();
        this.policy = new TargetPolicy(fetch.allowedLocalHosts().orElse(List.of()), WORDING, resolver,
                new TargetPolicy.Lookups(lookups.perApplication(), lookups.threads(), lookups.deadline(),
                        lookups.remembered()));
        FunctionCounter.builder("osfria.ingest.fetch.lookups.timed.out", policy, TargetPolicy::lookupsTimedOut)
                .description("file URL host lookups that did not answer within osfria.ingest.fetch.lookups.deadline,"
                        + " or whose resolver gave up after at least 5 s (half of it if shorter)")
                .register(metrics);
        this.vertx = vertx.getDelegate();
        this.deadline = fetch.timeout();
        if (lookups.deadline().compareTo(deadline) >= 0) { // allowed (an operator's choice), but rarely meant
            Log.warnf("osfria.ingest.fetch.lookups.deadline (%s) is not shorter than osfria.ingest.fetch.timeout (%s):"
                    + " a fetch whose host lookup hangs fails fetch_timeout, never url_lookup_timeout (send it again"
                    + " later)", lookups.deadline(), deadline);
        }
        this.client = this.vertx.createHttpClient(new HttpClientOptions()
                .setConnectTimeout((int) Math.max(1, deadline.toMillis()))
                .setKeepAlive(false) // one file per connection: nothing of a server lingers in a pool
                .setVerifyHost(true)); // the certificate must name the host of the URL, not the address
    }

    void close(@Observes ShutdownEvent event) {
        stopping = true; // before the fetches fail: their records are left to be read again after the restart
        policy.close(); // no wait for a hanging lookup
        client.close();
    }

    /** False when the operator lists no host: files by URL are not enabled. */
    public boolean enabled() {
        return allowList.enabled();
    }

    /** True once the service is shutting down: a fetch that fails now failed because of that, not of its URL. */
    public boolean stopping() {
        return stopping;
    }

    /**
     * Fetches {@code url} into {@code into} (created or truncated) for {@code application}, whose name lookups are
     * bounded together; at most {@code limit} bytes. Never fails.
     */
    public Uni<Fetched> fetch(String application, String url, Path into, long limit) {
        if (!allowList.enabled()) {
            return Uni.createFrom().item(Fetched.failed(Fetched.NOT_ENABLED));
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            return Uni.createFrom().item(Fetched.failed(Fetched.NOT_ALLOWED));
        }
        if (!allowList.allows(uri)) {
            return Uni.createFrom().item(Fetched.failed(Fetched.NOT_ALLOWED));
        }
        long start = System.nanoTime();
        return policy.check(url, application)
                .ifNoItem().after(deadline).recoverWithItem(() -> null)
                .chain(target -> {
                    if (target == null) {
                        return Uni.createFrom().item(Fetched.timedOut(deadline));
                    }
                    if (target.kind() == TargetPolicy.Refusal.LOOKUP_TIMEOUT) {
                        Log.infof("a file URL on host %s not fetched: %s", uri.getHost(), target.refusal());
                        return Uni.createFrom().item(Fetched.failed(Fetched.LOOKUP_TIMEOUT));
                    }
                    if (!target.allowed()) {
                        // the operator may see why; the application sees one sentence for every refusal
                        Log.infof("a file URL on host %s refused by the network policy: %s", target.host() == null
                                ? uri.getHost() : target.host(), target.refusal());
                        return Uni.createFrom().item(Fetched.failed(Fetched.REFUSED));
                    }
                    long left = deadline.toMillis() - (System.nanoTime() - start) / 1_000_000;
                    return left <= 0 ? Uni.createFrom().item(Fetched.timedOut(deadline)) : download(target, into, limit, left);
                })
                .onFailure().recoverWithItem(e -> {
                    Log.warnf("a file URL could not be fetched: %s", e.toString());
                    return Fetched.failed(Fetched.UNREACHABLE);
                });
    }

    private Uni<Fetched> download(Target target, Path into, long limit, long millisLeft) {
        RequestOptions options = new RequestOptions()
                .setMethod(HttpMethod.GET)
                .setServer(SocketAddress.inetSocketAddress(new InetSocketAddress(target.address(), target.port())))
                .setHost(target.host())
                .setPort(target.port())
                .setSsl(target.tls())
                .setURI(target.pathAndQuery())
                .putHeader(HttpHeaders.USER_AGENT, "Osfria-Ingest/1")
                .putHeader(HttpHeaders.ACCEPT, "*/*")
                .setFollowRedirects(false);
        return Uni.createFrom().emitter(emitter -> new Download(emitter, limit).start(options, into, millisLeft));
    }

    /** One fetch's state, on the event loop of the context that started it. */
    private final class Download {

        private final UniEmitter<? super Fetched> emitter;
        private final long limit;
        private final AtomicBoolean over = new AtomicBoolean();
        private final AtomicReference<HttpClientRequest> request = new AtomicReference<>();
        private final AtomicReference<AsyncFile> file = new AtomicReference<>();
        private long timer;
        private long bytes;
        private Path into;

        Download(UniEmitter<? super Fetched> emitter, long limit) {
            this.emitter = emitter;
            this.limit = limit;
        }

        void start(RequestOptions options, Path into, long millisLeft) {
            this.into = into;
            // the file is opened before the deadline is armed: a deadline that fired first removed the file, which the
            // open then created again, left behind
            vertx.fileSystem().open(into.toString(), new OpenOptions().setWrite(true).setCreate(true)
                    .setTruncateExisting(true)).onComplete(opened -> {
                if (opened.failed()) {
                    Log.errorf(opened.cause(), "cannot write a fetched file to %s", into);
                    finish(Fetched.failed(Fetched.UNREACHABLE));
                    return;
                }
                AsyncFile out = opened.result();
                out.exceptionHandler(this::writeFailed);
                file.set(out);
                timer = vertx.setTimer(millisLeft, id -> finish(Fetched.timedOut(deadline)));
                if (!over.get()) {
                    client.request(options).onComplete(connected -> {
                        if (connected.failed()) {
                            failed(connected.cause());
                            return;
                        }
                        HttpClientRequest r = connected.result();
                        r.exceptionHandler(e -> { }); // failures arrive through send(); a reset of ours is no error
                        request.set(r);
                        if (over.get()) {
                            r.reset();
                            return;
                        }
                        r.send().onComplete(answered -> {
                            if (answered.failed()) {
                                failed(answered.cause());
                            } else {
                                receive(answered.result());
                            }
                        });
                    });
                } else {
                    close(null);
                }
            });
        }

        private void receive(HttpClientResponse response) {
            response.exceptionHandler(this::failed); // also takes the reset of ours that ends a refused answer
            int status = response.statusCode();
            if (status >= 300 && status < 400) {
                finish(Fetched.redirected(status));
                return;
            }
            if (status < 200 || status >= 300) {
                finish(Fetched.status(status));
                return;
            }
            String length = response.getHeader(HttpHeaders.CONTENT_LENGTH);
            if (length != null && declaredOver(length)) {
                finish(Fetched.tooLarge(limit));
                return;
            }
            AsyncFile out = file.get();
            response.handler(chunk -> {
                if (over.get()) {
                    return;
                }
                bytes += chunk.length();
                if (bytes > limit) {
                    finish(Fetched.tooLarge(limit)); // stop reading: the rest is never received
                    return;
                }
                out.write(chunk).onFailure(this::writeFailed);
                if (out.writeQueueFull()) {
                    response.pause(); // the disk is slower than the network: read no more until it catches up
                    out.drainHandler(v -> response.resume());
                }
            });
            response.endHandler(v -> finish(Fetched.ok(bytes)));
        }

        private boolean declaredOver(String length) {
            try {
                return Long.parseLong(length.trim()) > limit;
            } catch (NumberFormatException e) {
                return false; // counted as it arrives
            }
        }

        /** The disk refused a write (full, gone): the file is not what was received, nothing is stored. */
        private void writeFailed(Throwable cause) {
            Log.errorf(cause, "a fetched file could not be written to %s", into);
            finish(Fetched.failed(Fetched.UNREACHABLE));
        }

        private void failed(Throwable cause) {
            Log.debugf("a file fetch failed: %s", cause.toString()); // the operator's, never the application's
            boolean timedOut = cause instanceof TimeoutException || cause instanceof ConnectTimeoutException
                    || cause.getClass().getSimpleName().contains("Timeout");
            finish(timedOut ? Fetched.timedOut(deadline) : Fetched.failed(Fetched.UNREACHABLE));
        }

        /** The first outcome wins; the connection is closed unless the body ended, the file closed before emitting. */
        private void finish(Fetched outcome) {
            if (!over.compareAndSet(false, true)) {
                return;
            }
            vertx.cancelTimer(timer);
            HttpClientRequest r = request.get();
            if (r != null && !outcome.ok()) {
                r.reset(); // a black hole, a drip or an endless body keeps nothing of ours
            }
            close(outcome);
        }

        private void close(Fetched outcome) {
            AsyncFile f = file.getAndSet(null);
            if (f == null) {
                if (outcome != null) {
                    emitter.complete(outcome);
                }
                return;
            }
            f.close().onComplete(closed -> {
                if (outcome == null) {
                    return;
                }
                if (closed.failed() && outcome.ok()) {
                    Log.errorf(closed.cause(), "a fetched file could not be written");
                    emitter.complete(Fetched.failed(Fetched.UNREACHABLE));
                } else if (outcome.ok()) {
                    written(outcome);
                } else {
                    emitter.complete(outcome);
                }
            });
        }

        /** A body received whole is a file only if the disk holds all of it: its size is the bytes received. */
        private void written(Fetched outcome) {
            vertx.fileSystem().props(into.toString()).onComplete(props -> {
                if (props.succeeded() && props.result().size() == outcome.bytes()) {
                    emitter.complete(outcome);
                } else {
                    Log.errorf("a fetched file was written incompletely to %s: %s of %d bytes", into,
                            props.succeeded() ? String.valueOf(props.result().size()) : props.cause(), outcome.bytes());
                    emitter.complete(Fetched.failed(Fetched.UNREACHABLE));
                }
            });
        }
    }
}
