package dev.netwatcher.ui;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import dev.netwatcher.web.WebConfig;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * --ui: the live page over HTTP, read-only (GET only). {@code /} is the page (one file, no asset from
 * elsewhere), {@code /events} a server-sent-event stream of {@link LiveView#snapshot} once a second.
 * At most {@link #MAX_CLIENTS} streams at once (a ninth gets 503);
 * a stream that cannot keep up loses snapshots, never queues more than two. With no stream open
 * the ticker does nothing and the view keeps nothing. It runs on its own HttpServer, or as the
 * default handler of the --metrics server when both share a port ({@link #handler()}).
 */
public final class UiServer implements AutoCloseable {
    static final int MAX_CLIENTS = 8;

    private final LiveView view;
    private final LongSupplier epochNs;
    private final List<BlockingQueue<String>> clients = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "netwatcher-ui-tick"));
    private final ExecutorService streams = Executors.newCachedThreadPool(r -> daemon(r, "netwatcher-ui"));
    private final byte[] page;
    private HttpServer own;

    public UiServer(LiveView view, LongSupplier epochNs) {
        this.view = view;
        this.epochNs = epochNs;
        try (InputStream in = UiServer.class.getResourceAsStream("/ui/index.html")) {
            if (in == null) throw new IllegalStateException("ui/index.html is missing from the build");
            page = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ticker.scheduleAtFixedRate(this::tick, 1, 1, TimeUnit.SECONDS);
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Serves on its own server at host:port. Throws UncheckedIOException when the port cannot be bound. */
    public UiServer listen(String host, int port) {
        return listen(host, port, null);
    }

    /** The same, with --web-config's TLS and basic authentication (web null: plain HTTP, open). */
    public UiServer listen(String host, int port, WebConfig web) {
        try {
            InetSocketAddress at = new InetSocketAddress(host, port);
            if (web != null && web.tls()) {
                com.sun.net.httpserver.HttpsServer s = com.sun.net.httpserver.HttpsServer.create(at, 16);
                s.setHttpsConfigurator(web.https());
                own = s;
            } else {
                own = HttpServer.create(at, 16);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serve the live view on " + host + ":" + port + ": " + e.getMessage(), e);
        }
        com.sun.net.httpserver.HttpContext ctx = own.createContext("/", handler());
        if (web != null && web.authenticates()) ctx.setAuthenticator(web.authenticator());
        own.setExecutor(streams);
        own.start();
        return this;
    }

    /** The port it listens on (its own server). */
    public int port() {
        return own.getAddress().getPort();
    }

    /** The handler of every path it serves, for a server it shares. */
    public HttpHandler handler() {
        return this::handle;
    }

    /** The executor its streams need (each holds a thread while open). */
    public ExecutorService executor() {
        return streams;
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
            if (!ex.getRequestMethod().equals("GET") && !ex.getRequestMethod().equals("HEAD")) {
                ex.getResponseHeaders().set("Allow", "GET, HEAD");
                ex.sendResponseHeaders(405, -1);
                return;
            }
            switch (ex.getRequestURI().getPath()) {
                case "/", "/index.html" -> {
                    ex.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
                    ex.getResponseHeaders().set("Content-Security-Policy",
                            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:");
                    send(ex, page);
                }
                case "/events" -> stream(ex);
                default -> ex.sendResponseHeaders(404, -1);
            }
        }
    }

    private static void send(HttpExchange ex, byte[] body) throws IOException {
        ex.sendResponseHeaders(200, ex.getRequestMethod().equals("HEAD") ? -1 : body.length);
        if (!ex.getRequestMethod().equals("HEAD")) ex.getResponseBody().write(body);
    }

    private void stream(HttpExchange ex) throws IOException {
        BlockingQueue<String> q = new ArrayBlockingQueue<>(2);
        synchronized (this) {
            if (clients.size() >= MAX_CLIENTS) {
                ex.sendResponseHeaders(503, -1);
                return;
            }
            clients.add(q);
            view.watching(true);
        }
        try {
            ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
            ex.getResponseHeaders().set("Cache-Control", "no-cache");
            ex.sendResponseHeaders(200, 0);
            OutputStream out = ex.getResponseBody();
            out.write(": netwatcher live view\n\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            while (true) {
                String s = q.poll(15, TimeUnit.SECONDS);
                out.write((s == null ? ":\n\n" : "data: " + s + "\n\n").getBytes(StandardCharsets.UTF_8)); // ":" keeps it open
                out.flush();
            }
        } catch (IOException | InterruptedException gone) {
            // the browser went away, or netwatcher stops
        } finally {
            synchronized (this) {
                clients.remove(q);
                if (clients.isEmpty()) view.watching(false);
            }
        }
    }

    private void tick() {
        try {
            if (clients.isEmpty()) return;
            String s = view.snapshot(epochNs.getAsLong());
            for (BlockingQueue<String> q : clients) {
                while (!q.offer(s)) q.poll(); // a slow reader gets the newest
            }
        } catch (RuntimeException e) {
            // a failed snapshot must not stop the ticker (scheduleAtFixedRate stops on an exception)
        }
    }

    @Override
    public void close() {
        ticker.shutdownNow();
        if (own != null) own.stop(0);
        streams.shutdownNow();
    }
}
