package io.mailroot.core.metrics;

import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;

/**
 * The process's Prometheus view of its meters. Roles register theirs on Micrometer's global registry wherever they
 * count something, without knowing whether anyone scrapes; this registry joins the global composite while the
 * process runs, so it sees every meter, those made before it as well as those made after. The JVM's own meters and
 * the Badmail folder's size are bound to this registry alone: they describe the process, not a role.
 */
public final class MetricsRegistry implements AutoCloseable {

    /** Prometheus text exposition format 0.0.4, which every Prometheus version scrapes. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final PrometheusMeterRegistry prometheus;
    private final JvmGcMetrics gc;

    private MetricsRegistry(PrometheusMeterRegistry prometheus, JvmGcMetrics gc) {
        this.prometheus = prometheus;
        this.gc = gc;
    }

    /**
     * A registry on the global composite, with JVM meters (memory, GC, threads, processors, uptime) and, when
     * {@code badmail} is not null, the Badmail folder's files and bytes.
     */
    public static MetricsRegistry start(Path badmail) {
        PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new JvmMemoryMetrics().bindTo(prometheus);
        JvmGcMetrics gc = new JvmGcMetrics();
        gc.bindTo(prometheus);
        new JvmThreadMetrics().bindTo(prometheus);
        new ProcessorMetrics().bindTo(prometheus);
        new UptimeMetrics().bindTo(prometheus);
        if (badmail != null) {
            new BadmailSize(badmail, BadmailSize.EVERY).bindTo(prometheus);
        }
        Metrics.addRegistry(prometheus);
        return new MetricsRegistry(prometheus, gc);
    }

    /** Every meter in Prometheus text format. */
    public String scrape() {
        return prometheus.scrape();
    }

    /** Leaves the global composite, so a later process in the same JVM (tests) does not count into this one. */
    @Override
    public void close() {
        Metrics.removeRegistry(prometheus);
        gc.close();
        prometheus.close();
    }
}
