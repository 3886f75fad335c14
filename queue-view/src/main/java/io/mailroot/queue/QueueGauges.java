package io.mailroot.queue;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.mailroot.queue.QueuedMessage.State;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * {@code mailroot_queue_messages{state}} and {@code mailroot_queue_oldest_seconds{state}} for the messages this
 * view holds (its partitions of {@code events}: with several queue-view nodes, sum the counts and take the largest
 * age). Counted when scraped, at most once a second, so the fold never pays for the metrics.
 */
final class QueueGauges implements AutoCloseable {

    static final String MESSAGES = "mailroot.queue.messages";
    static final String OLDEST = "mailroot.queue.oldest.seconds";
    private static final Duration FRESH = Duration.ofSeconds(1);

    private record Counts(Instant at, Map<State, Long> messages, Map<State, Instant> oldest) {
    }

    private final MeterRegistry registry;
    private final Supplier<Stream<QueuedMessage>> messages;
    private final Clock clock;
    private final List<Meter> meters = new ArrayList<>();
    private Counts counts;

    QueueGauges(MeterRegistry registry, Supplier<Stream<QueuedMessage>> messages, Clock clock) {
        this.registry = registry;
        this.messages = messages;
        this.clock = clock;
        for (State s : State.values()) {
            String label = QueueName.label(s);
            meters.add(Gauge.builder(MESSAGES, this, g -> g.counts().messages().getOrDefault(s, 0L))
                    .tag("state", label).description("messages queued, by queue (active, deferred, hold)")
                    .register(registry));
            meters.add(Gauge.builder(OLDEST, this, g -> g.oldestSeconds(s))
                    .tag("state", label).description("age of the oldest queued message, by queue")
                    .register(registry));
        }
    }

    private double oldestSeconds(State s) {
        Counts c = counts();
        Instant oldest = c.oldest().get(s);
        return oldest == null ? 0 : Math.max(0, Duration.between(oldest, c.at()).toMillis() / 1000.0);
    }

    private synchronized Counts counts() {
        Instant now = clock.instant();
        if (counts != null && Duration.between(counts.at(), now).compareTo(FRESH) < 0) {
            return counts;
        }
        Map<State, Long> n = new EnumMap<>(State.class);
        Map<State, Instant> oldest = new EnumMap<>(State.class);
        messages.get().forEach(m -> {
            State s = QueueName.of(m);
            n.merge(s, 1L, Long::sum);
            if (m.arrival() != null) {
                oldest.merge(s, m.arrival(), (a, b) -> a.isBefore(b) ? a : b);
            }
        });
        counts = new Counts(now, n, oldest);
        return counts;
    }

    /** Removes the gauges, so a new role in the same process registers its own. */
    @Override
    public void close() {
        meters.forEach(registry::remove);
        meters.clear();
    }
}
