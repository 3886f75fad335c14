package io.mailroot.core.monitor;

/**
 * How far one consumer group is behind on one partition of a Mailroot topic.
 *
 * @param group the consumer group's id, or null when no group has committed anything on the topic (then lag counts
 *     from the partition's first offset: what a new consumer would read)
 * @param endOffset the last stable offset: past every committed transaction's marker, before any open transaction
 * @param committedOffset the group's committed offset (the next record it reads), or the partition's first offset
 * @param lagRecords offsets between committed and end; 0 once the group consumed everything, markers included
 * @param lagSeconds age of the oldest record not yet consumed; 0 without one, NaN if it could not be read in time
 * @param retry whether the topic is a {@code retry.N} level, where lag is mail waiting for its due time on purpose
 * @param overdue on a retry level, records not yet consumed whose due time passed more than a grace ago; else 0
 */
public record PartitionLag(String topic, int partition, String group, long endOffset, long committedOffset,
                           long lagRecords, double lagSeconds, boolean retry, long overdue) {

    /** On a retry level the lag is mail held until it is due, not mail late. */
    public long waiting() {
        return retry ? lagRecords : 0;
    }
}
