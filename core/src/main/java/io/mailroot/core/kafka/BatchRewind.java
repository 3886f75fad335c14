package io.mailroot.core.kafka;

import java.util.Collection;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;

/**
 * Puts a consumer back so that its next poll reads again what a failed batch held: the consumer roles' way of
 * trying again without committing. A partition a rebalance took meanwhile is left alone: its new owner starts from
 * the committed offset, which is no later than where this one would have sought.
 */
public final class BatchRewind {

    private BatchRewind() {
    }

    /** Every partition of {@code batch} back to the batch's first record. */
    public static void toStart(Consumer<?, ?> consumer, ConsumerRecords<?, ?> batch) {
        toStart(consumer, batch, batch.partitions());
    }

    /** The partitions {@code which} of {@code batch} back to the batch's first record. */
    public static void toStart(Consumer<?, ?> consumer, ConsumerRecords<?, ?> batch, Collection<TopicPartition> which) {
        Set<TopicPartition> assigned = consumer.assignment();
        for (TopicPartition tp : which) {
            if (assigned.contains(tp) && !batch.records(tp).isEmpty()) {
                consumer.seek(tp, batch.records(tp).get(0).offset());
            }
        }
    }

    /** Each partition to the offset given for it (its first unfinished record). */
    public static void to(Consumer<?, ?> consumer, Map<TopicPartition, Long> offsets) {
        Set<TopicPartition> assigned = consumer.assignment();
        offsets.forEach((tp, offset) -> {
            if (assigned.contains(tp)) {
                consumer.seek(tp, offset);
            }
        });
    }
}
