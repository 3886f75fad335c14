package io.mailroot.deliverer;

import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.NextHop;
import io.mailroot.deliverer.smtp.SmtpClient;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * What SMTP delivery counts, on Micrometer's global registry: recipients by next hop and outcome (the hop tag kept
 * to the busiest {@link #HOP_TAGS} by {@link TopHops}), how long an attempt took, how long a message took from its
 * 250 at ingress to the next hop's acceptance, and the outbound connections open. One per process, as the
 * deliverers of a process share the registry.
 */
final class DeliveryMetrics {

    static final int HOP_TAGS = 20;
    /** Halve hop volumes this often (deliveries), so the tags follow the traffic of the last few days, not all time. */
    private static final long DECAY_EVERY = 100_000;
    static final String RECIPIENTS = "mailroot.deliverer.recipients";

    static final DeliveryMetrics PROCESS = new DeliveryMetrics(Metrics.globalRegistry);

    private final MeterRegistry registry;
    private final TopHops hops;
    private final Timer attempt;
    private final Timer latency;
    private final Set<SmtpClient> clients = ConcurrentHashMap.newKeySet();

    DeliveryMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.hops = new TopHops(HOP_TAGS, DECAY_EVERY, this::forget);
        this.attempt = Timer.builder("mailroot.deliverer.attempt.duration")
                .description("One delivery attempt of one message to its next hop: resolving, connecting, the transaction")
                .serviceLevelObjectives(seconds(0.05), seconds(0.1), seconds(0.25), seconds(0.5), seconds(1), seconds(2.5),
                        seconds(5), seconds(10), seconds(30), seconds(60), seconds(300))
                .register(registry);
        this.latency = Timer.builder("mailroot.deliverer.delivery.latency")
                .description("From the 250 at ingress to the next hop's acceptance, retries included")
                .serviceLevelObjectives(seconds(0.1), seconds(0.5), seconds(1), seconds(5), seconds(30), seconds(60),
                        seconds(300), seconds(900), seconds(3600), seconds(4 * 3600), seconds(12 * 3600),
                        seconds(24 * 3600), seconds(48 * 3600))
                .register(registry);
        Gauge.builder("mailroot.deliverer.connections", clients, cs -> cs.stream().mapToInt(SmtpClient::open).sum())
                .description("Outbound SMTP connections open or being opened")
                .strongReference(true).register(registry);
    }

    private static Duration seconds(double s) {
        return Duration.ofNanos((long) (s * 1e9));
    }

    /** A deliverer's connections count in the gauge from its start to its close. */
    void opened(SmtpClient client) {
        clients.add(client);
    }

    void closed(SmtpClient client) {
        clients.remove(client);
    }

    /** One attempt of {@code envelope} to {@code hop}, with what it came to for each recipient. */
    void attempt(NextHop hop, Envelope envelope, List<DeliveryResult> results, long nanos) {
        attempt.record(nanos, TimeUnit.NANOSECONDS);
        String tag = hops.tag(hopName(hop));
        boolean accepted = false;
        for (DeliveryResult r : results) {
            registry.counter(RECIPIENTS, "hop", tag, "outcome", outcome(r.verdict())).increment();
            accepted |= r.accepted();
        }
        if (accepted && envelope.receivedAt() != null) {
            latency.record(Duration.between(envelope.receivedAt(), Instant.now()));
        }
    }

    /** The hop without its shard: one tag for every shard of a smart host. */
    static String hopName(NextHop hop) {
        String key = hop.key();
        int shard = key.lastIndexOf('#');
        return shard > 0 && hop.shards() > 1 ? key.substring(0, shard) : key;
    }

    private static String outcome(DeliveryResult.Verdict v) {
        return switch (v) {
            case DELIVERED, RELAYED -> "delivered";
            case DEFERRED -> "deferred";
            case FAILED -> "failed";
            case LOCAL -> "local";
        };
    }

    /** A hop that lost its tag: its series go, so the tags in the registry stay at {@link #HOP_TAGS} plus other. */
    private void forget(String hop) {
        registry.find(RECIPIENTS).tag("hop", hop).counters().forEach(registry::remove);
    }
}
