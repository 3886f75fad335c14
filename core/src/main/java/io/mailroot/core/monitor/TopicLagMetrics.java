package io.mailroot.core.monitor;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Topic lag as gauges on Micrometer's global registry, refreshed by a background task every {@link #EVERY}:
 * {@code mailroot_topic_lag_records} and {@code mailroot_topic_lag_seconds} by topic, partition and group,
 * {@code mailroot_topic_end_offset} by topic and partition, {@code mailroot_retry_overdue} by retry topic. One task
 * per installation (bootstrap and topic prefix) and process, however many nodes of it the process runs; it stops
 * when the last of them closes its handle. Lag gauges are only for groups: a topic no group reads has its end
 * offset, and on a retry level its overdue count, but no lag.
 */
public final class TopicLagMetrics implements AutoCloseable {

    public static final Duration EVERY = Duration.ofSeconds(15);
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(10);
    private static final Logger LOG = LoggerFactory.getLogger(TopicLagMetrics.class);
    /** Running monitors by installation; guarded by the class. */
    private static final Map<String, Monitor> RUNNING = new HashMap<>();

    private final String key;
    private boolean closed;

    private TopicLagMetrics(String key) {
        this.key = key;
    }

    /** Starts the installation's monitor in this process, or shares the one running. */
    public static TopicLagMetrics start(KafkaClients clients, Topics topics) {
        return start(clients, topics, Metrics.globalRegistry, EVERY);
    }

    static TopicLagMetrics start(KafkaClients clients, Topics topics, MeterRegistry registry, Duration every) {
        String key = clients.bootstrap() + " " + topics.prefix();
        synchronized (TopicLagMetrics.class) {
            Monitor m = RUNNING.get(key);
            if (m == null) {
                m = new Monitor(clients, topics, registry, every);
                RUNNING.put(key, m);
            }
            m.users++;
        }
        return new TopicLagMetrics(key);
    }

    @Override
    public void close() {
        Monitor stop = null;
        synchronized (TopicLagMetrics.class) {
            if (closed) {
                return;
            }
            closed = true;
            Monitor m = RUNNING.get(key);
            if (m != null && --m.users == 0) {
                RUNNING.remove(key);
                stop = m;
            }
        }
        if (stop != null) {
            stop.stop();
        }
    }

    /** A gauge's current value; the gauge reads it, the refresh sets it. */
    private static final class Value {
        volatile double value;
    }

    /** One multi-gauge and the value of each of its rows, so a row keeps its gauge from one refresh to the next. */
    private static final class Family {
        private final MultiGauge gauge;
        private Map<Tags, Value> values = new HashMap<>();

        Family(MeterRegistry registry, String name, String description) {
            this.gauge = MultiGauge.builder(name).description(description).register(registry);
        }

        /** Sets every row of this refresh; rows not in it (a topic or group gone) are removed. */
        void set(Map<Tags, Double> now) {
            Map<Tags, Value> next = new HashMap<>();
            List<MultiGauge.Row<?>> rows = new ArrayList<>();
            now.forEach((tags, v) -> {
                Value holder = values.getOrDefault(tags, new Value());
                holder.value = v;
                next.put(tags, holder);
                rows.add(MultiGauge.Row.of(tags, holder, h -> h.value));
            });
            values = next;
            gauge.register(rows, false);
        }

        void clear() {
            values = new HashMap<>();
            gauge.register(List.of(), false);
        }
    }

    private static final class Monitor {
        private final TopicLagReader reader;
        private final ScheduledExecutorService timer;
        private final Family lagRecords;
        private final Family lagSeconds;
        private final Family endOffset;
        private final Family overdue;
        private final Topics topics;
        private boolean failing;
        int users;

        Monitor(KafkaClients clients, Topics topics, MeterRegistry registry, Duration every) {
            this.topics = topics;
            this.reader = new TopicLagReader(clients, topics, READ_TIMEOUT);
            this.lagRecords = new Family(registry, "mailroot.topic.lag.records",
                    "Offsets between a group's committed offset and the partition's end");
            this.lagSeconds = new Family(registry, "mailroot.topic.lag.seconds",
                    "Age of the oldest record a group has not consumed yet");
            this.endOffset = new Family(registry, "mailroot.topic.end.offset", "A partition's last stable offset");
            this.overdue = new Family(registry, "mailroot.retry.overdue",
                    "Retries past their due time (and a minute's grace) not yet put back on outbound");
            this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "topic-lag-" + topics.prefix());
                t.setDaemon(true);
                return t;
            });
            timer.scheduleWithFixedDelay(this::refresh, 0, every.toMillis(), TimeUnit.MILLISECONDS);
        }

        private void refresh() {
            LagSnapshot snapshot;
            try {
                snapshot = reader.read();
            } catch (RuntimeException e) {
                // The gauges keep their last values; an operator sees the warning, once until it works again.
                if (!failing) {
                    LOG.warn("could not read topic lag: {}", e.toString());
                }
                failing = true;
                return;
            }
            failing = false;
            Map<Tags, Double> records = new HashMap<>();
            Map<Tags, Double> seconds = new HashMap<>();
            Map<Tags, Double> ends = new HashMap<>();
            Map<Tags, Double> late = new HashMap<>();
            for (PartitionLag p : snapshot.partitions()) {
                Tags partition = Tags.of("topic", p.topic(), "partition", Integer.toString(p.partition()));
                ends.put(partition, (double) p.endOffset());
                // Lag is a group's: a topic nobody reads as a group (one every node reads whole, or one not used
                // yet) would only seem to fall ever further behind. Its overdue retries still count below.
                if (p.group() != null) {
                    Tags group = partition.and("group", p.group());
                    records.put(group, (double) p.lagRecords());
                    seconds.put(group, p.lagSeconds());
                }
                if (p.retry()) {
                    late.put(Tags.of("topic", p.topic()), (double) snapshot.overdue(p.topic()));
                }
            }
            lagRecords.set(records);
            lagSeconds.set(seconds);
            endOffset.set(ends);
            overdue.set(late);
        }

        void stop() {
            timer.shutdownNow();
            try {
                timer.awaitTermination(READ_TIMEOUT.toMillis() * 2, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            for (Family f : List.of(lagRecords, lagSeconds, endOffset, overdue)) {
                f.clear();
            }
            try {
                reader.close();
            } catch (RuntimeException e) {
                LOG.debug("closing the topic lag reader of {}", topics.prefix(), e);
            }
        }
    }
}
