package io.mailroot.launcher;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.mailroot.core.config.MailrootConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process's admin listener ({@code admin.addresses}, {@code admin.port}): plain HTTP from the JDK's own server,
 * GET only, one handler per exact path. Metrics and health checks are registered by the node; whatever else comes
 * to the admin side (an API, a console) is one more {@link #handle} call.
 */
public final class AdminServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);
    private static final AtomicInteger THREADS = new AtomicInteger();

    /** What a handler answers: the status, the content type and the body. */
    public record Response(int status, String contentType, byte[] body) {
        public static Response text(int status, String text) {
            return new Response(status, "text/plain; charset=utf-8", text.getBytes(StandardCharsets.UTF_8));
        }

        public static Response json(int status, String json) {
            return new Response(status, "application/json", json.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** One path's handler; an exception answers 500 and is logged. */
    @FunctionalInterface
    public interface Handler {
        Response handle(HttpExchange exchange) throws Exception;
    }

    private final List<HttpServer> servers = new ArrayList<>();
    private final Map<String, Handler> handlers = new LinkedHashMap<>();
    private final ExecutorService executor;

    private AdminServer(ExecutorService executor) {
        this.executor = executor;
    }

    /** Listens on every address of {@code admin}; fails when a port is taken. */
    public static AdminServer start(MailrootConfig.Admin admin) throws IOException {
        // Two threads: a scrape and a health check at once, and a slow readiness probe blocks neither for long.
        AdminServer server = new AdminServer(Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "mailroot-admin-" + THREADS.incrementAndGet());
            t.setDaemon(true);
            return t;
        }));
        try {
            for (String address : admin.addresses()) {
                HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getByName(address), admin.port()), 64);
                http.createContext("/", server::dispatch);
                http.setExecutor(server.executor);
                http.start();
                server.servers.add(http);
                LOG.info("admin listener on {}:{} (/metrics, /health/live, /health/ready)", address,
                        http.getAddress().getPort());
            }
        } catch (IOException | RuntimeException e) {
            server.close();
            throw new IOException("cannot open the admin listener on " + admin.addresses() + ":" + admin.port()
                    + " (admin.addresses, admin.port): " + e, e);
        }
        return server;
    }

    /** Answers GET (and HEAD) of exactly {@code path} with {@code handler}, replacing any earlier one. */
    public AdminServer handle(String path, Handler handler) {
        synchronized (handlers) {
            handlers.put(path, handler);
        }
        return this;
    }

    /** Where the listener is bound (tests use it to find a port). */
    public List<InetSocketAddress> addresses() {
        return servers.stream().map(HttpServer::getAddress).toList();
    }

    private void dispatch(HttpExchange exchange) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            Handler handler;
            synchronized (handlers) {
                handler = handlers.get(exchange.getRequestURI().getPath());
            }
            Response response;
            if (handler == null) {
                response = Response.text(404, "no such page; try /metrics, /health/live, /health/ready\n");
            } else if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                response = Response.text(405, "GET only\n");
            } else {
                try {
                    response = handler.handle(exchange);
                } catch (Exception e) {
                    LOG.warn("admin {} failed", exchange.getRequestURI().getPath(), e);
                    response = Response.text(500, "internal error: " + e.getClass().getSimpleName() + "\n");
                }
            }
            exchange.getResponseHeaders().set("Content-Type", response.contentType());
            exchange.getResponseHeaders().set("Cache-Control", "no-store");
            boolean head = method.equals("HEAD");
            exchange.sendResponseHeaders(response.status(), head ? -1 : response.body().length == 0 ? -1 : response.body().length);
            if (!head && response.body().length > 0) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(response.body());
                }
            }
        }
    }

    @Override
    public void close() {
        for (HttpServer s : servers) {
            s.stop(0);
        }
        servers.clear();
        executor.shutdownNow();
    }
}
