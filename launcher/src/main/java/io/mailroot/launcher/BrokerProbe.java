package io.mailroot.launcher;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;

/**
 * Whether the Kafka cluster answers, for {@code /health/ready}: a describeCluster with a short time-out, its answer
 * kept for {@link #KEEP} so that frequent health checks cost the cluster one request every few seconds.
 */
final class BrokerProbe implements AutoCloseable {

    static final Duration TIMEOUT = Duration.ofSeconds(2);
    static final Duration KEEP = Duration.ofSeconds(5);

    private final String bootstrap;
    private final Admin admin;
    private Optional<String> last;
    private long lastAt;

    BrokerProbe(Map<String, Object> adminConfig) {
        Map<String, Object> c = new HashMap<>(adminConfig);
        bootstrap = String.valueOf(c.get(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG));
        c.put(AdminClientConfig.CLIENT_ID_CONFIG, "mailroot-health");
        c.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
        c.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
        admin = Admin.create(c);
    }

    /** Why the cluster is not usable, or empty when it answered (at most {@link #KEEP} ago). */
    synchronized Optional<String> problem() {
        long now = System.nanoTime();
        if (last == null || now - lastAt >= KEEP.toNanos()) {
            last = ask();
            lastAt = System.nanoTime();
        }
        return last;
    }

    private Optional<String> ask() {
        try {
            int nodes = admin.describeCluster(new DescribeClusterOptions().timeoutMs((int) TIMEOUT.toMillis()))
                    .nodes().get(TIMEOUT.toMillis() + 500, TimeUnit.MILLISECONDS).size();
            return nodes > 0 ? Optional.empty() : Optional.of("Kafka at " + bootstrap + " reports no brokers");
        } catch (ExecutionException e) {
            return Optional.of("Kafka at " + bootstrap + " does not answer: " + e.getCause().getClass().getSimpleName()
                    + (e.getCause().getMessage() == null ? "" : ": " + e.getCause().getMessage()));
        } catch (TimeoutException e) {
            return Optional.of("Kafka at " + bootstrap + " does not answer within " + TIMEOUT.toSeconds() + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.of("interrupted while asking Kafka");
        }
    }

    @Override
    public void close() {
        admin.close(Duration.ofSeconds(2));
    }
}
