package io.mailroot.router;

import io.mailroot.core.kafka.Topics;
import io.micrometer.core.instrument.Metrics;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The counts of one routing transaction, added to {@code mailroot_router_messages_total} and
 * {@code mailroot_router_records_total{destination}} only once it commits: an aborted batch is routed again, and
 * counting it twice would say more mail went through than did.
 */
final class RoutedTally {

    private final Topics topics;
    private final Map<String, Integer> records = new HashMap<>();
    private int messages;

    RoutedTally(Topics topics) {
        this.topics = topics;
    }

    void message() {
        messages++;
    }

    /** One record the router wrote: to {@code outbound} (remote), {@code local} or {@code dsn} (undeliverable). */
    void record(ProducerRecord<String, byte[]> out) {
        String topic = out.topic();
        String destination = topic.equals(topics.outbound()) ? "remote"
                : topic.equals(topics.local()) ? "local"
                : topic.equals(topics.dsn()) ? "undeliverable" : "other";
        records.merge(destination, 1, Integer::sum);
    }

    void committed() {
        Metrics.counter("mailroot.router.messages").increment(messages);
        records.forEach((destination, n) -> Metrics.counter("mailroot.router.records", "destination", destination).increment(n));
    }
}
