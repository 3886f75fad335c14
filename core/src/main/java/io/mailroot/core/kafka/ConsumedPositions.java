package io.mailroot.core.kafka;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;

/**
 * The offset to commit for a partition with nothing in flight: the consumer's position. A read_committed consumer's
 * position moves past transaction markers and aborted records, which last-record + 1 does not: a partition written
 * in transactions (the router's {@code outbound}, {@code local}, {@code dsn}) committed at last + 1 would show a lag
 * of one record forever. Only for consumers that finish every record they were given before they commit; a role
 * with records still in flight commits below them instead.
 */
public final class ConsumedPositions {

    /** What was last committed through {@link #committed}, so an idle partition is committed once, not every poll. */
    private final Map<TopicPartition, Long> committed = new HashMap<>();

    /** The consumer's position in {@code tp}, or -1 while it has none yet (just assigned) or no longer owns it. */
    public static long of(Consumer<?, ?> consumer, TopicPartition tp) {
        try {
            return consumer.position(tp, Duration.ZERO);
        } catch (KafkaException | IllegalStateException e) {
            // A time-out (no position yet) or a partition no longer assigned: nothing to commit from here.
            return -1;
        }
    }

    /**
     * The positions of the consumer's partitions that moved past what was last committed through this, e.g. over a
     * transaction marker after the last record. Call only when every record the consumer returned is finished.
     */
    public Map<TopicPartition, OffsetAndMetadata> moved(Consumer<?, ?> consumer) {
        return moved(consumer, consumer.assignment());
    }

    /** {@link #moved(Consumer)} for some of the consumer's partitions. */
    public Map<TopicPartition, OffsetAndMetadata> moved(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition tp : partitions) {
            long position = of(consumer, tp);
            if (position >= 0 && position > committed.getOrDefault(tp, -1L)) {
                offsets.put(tp, new OffsetAndMetadata(position));
            }
        }
        return offsets;
    }

    /** Offsets the group now holds (committed by whatever means). */
    public void committed(Map<TopicPartition, OffsetAndMetadata> offsets) {
        offsets.forEach((tp, o) -> committed.put(tp, o.offset()));
    }
}
