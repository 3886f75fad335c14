package io.mailroot.core.monitor;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The lag of every Mailroot topic, partition and consumer group at one moment. */
public record LagSnapshot(Instant at, List<PartitionLag> partitions) {

    public LagSnapshot {
        partitions = List.copyOf(partitions);
    }

    /** The rows of one topic, by partition then group. */
    public List<PartitionLag> of(String topic) {
        return partitions.stream().filter(p -> p.topic().equals(topic)).toList();
    }

    /**
     * Overdue retries of a topic: per partition the most any group has (groups read the same records), summed over
     * the partitions.
     */
    public long overdue(String topic) {
        Map<Integer, Long> byPartition = new HashMap<>();
        for (PartitionLag p : of(topic)) {
            byPartition.merge(p.partition(), p.overdue(), Math::max);
        }
        return byPartition.values().stream().mapToLong(Long::longValue).sum();
    }
}
