package io.mailroot.launcher;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.metrics.MetricsRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every Mailroot process serves on its admin listener: {@code /metrics} (Prometheus), {@code /health/live}
 * (200 while the process answers at all) and {@code /health/ready} (200 only when nothing is wrong; else 503 with
 * what is). A listener that cannot open (its port taken) is logged as an error and the process goes on without it:
 * mail keeps flowing, and a health check that cannot connect says the rest.
 */
final class ProcessAdmin implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ProcessAdmin.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final MetricsRegistry metrics;
    private final AdminServer server;

    private ProcessAdmin(MetricsRegistry metrics, AdminServer server) {
        this.metrics = metrics;
        this.server = server;
    }

    /**
     * @param notReady what keeps the process from being ready, asked at each {@code /health/ready}; empty when ready
     * @param mailNode whether the process runs roles (and so has a Badmail folder to measure), not a Kafka node
     * @return null when {@code admin.enabled} is false
     */
    static ProcessAdmin open(MailrootConfig config, Supplier<List<String>> notReady, boolean mailNode) {
        if (!config.admin().enabled()) {
            return null;
        }
        MetricsRegistry metrics = MetricsRegistry.start(mailNode ? config.badmailDir() : null);
        AdminServer server;
        try {
            server = AdminServer.start(config.admin());
        } catch (IOException e) {
            LOG.error("{}; going on without metrics and health checks", e.getMessage());
            return new ProcessAdmin(metrics, null);
        }
        server.handle("/metrics", x -> new AdminServer.Response(200, MetricsRegistry.CONTENT_TYPE,
                        metrics.scrape().getBytes(StandardCharsets.UTF_8)))
                .handle("/health/live", x -> AdminServer.Response.json(200, "{\"live\":true}\n"))
                .handle("/health/ready", x -> ready(notReady.get()));
        return new ProcessAdmin(metrics, server);
    }

    static AdminServer.Response ready(List<String> problems) throws IOException {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("ready", problems.isEmpty());
        if (!problems.isEmpty()) {
            body.put("notReady", problems);
        }
        return AdminServer.Response.json(problems.isEmpty() ? 200 : 503, JSON.writeValueAsString(body) + "\n");
    }

    /** The listener, for more handlers; null when it could not open. */
    AdminServer server() {
        return server;
    }

    List<InetSocketAddress> addresses() {
        return server == null ? List.of() : server.addresses();
    }

    @Override
    public void close() {
        if (server != null) {
            server.close();
        }
        metrics.close();
    }
}
