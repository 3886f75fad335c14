package io.mailroot.queue;

import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.Topics;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/**
 * What is queued now, as the {@code queue} topic says: the whole topic read once to its end, filtered, oldest
 * first. Reading never touches a deliverer; it costs the brokers one read of a compacted topic.
 */
public final class QueueReader {

    private final KafkaClients clients;
    private final Topics topics;
    private final Duration timeout;

    public QueueReader(KafkaClients clients, Topics topics, Duration timeout) {
        this.clients = clients;
        this.topics = topics;
        this.timeout = timeout;
    }

    public List<QueuedMessage> read(QueueFilter filter) throws TimeoutException {
        return read(filter, Clock.systemUTC().instant());
    }

    public List<QueuedMessage> read(QueueFilter filter, Instant now) throws TimeoutException {
        List<Integer> partitions = QueueSnapshot.partitions(clients, topics.queueState(), timeout);
        Map<Integer, Map<String, QueuedMessage>> state = QueueSnapshot.read(clients, topics.queueState(), partitions, timeout);
        return state.values().stream().flatMap(m -> m.values().stream())
                .filter(filter.at(now))
                .sorted(Comparator.comparing(QueuedMessage::arrival, Comparator.nullsFirst(Comparator.naturalOrder()))
                        .thenComparing(QueuedMessage::id))
                .toList();
    }
}
