package io.mailroot.deliverer;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.kafka.Topics;
import java.time.Duration;
import java.util.List;

/**
 * IIS's retry settings: the n-th retry waits {@code intervals[n-1]}, later ones the last interval; the sender hears
 * of a delay after {@code delayNotification} and the message expires after {@code expiration}.
 *
 * @param levels how many retry topics exist; the n-th retry waits on {@code retry.min(n, levels)}
 */
public record RetrySchedule(List<Duration> intervals, Duration delayNotification, Duration expiration, int levels) {

    public RetrySchedule {
        intervals = List.copyOf(intervals);
        if (intervals.isEmpty() || levels < 1) {
            throw new IllegalArgumentException("at least one retry interval and one retry topic are needed");
        }
    }

    public static RetrySchedule of(MailrootConfig.Delivery delivery, Topics topics) {
        return new RetrySchedule(delivery.retryIntervals(), delivery.delayNotification(), delivery.expirationTimeout(),
                Math.min(topics.retryLevels(), delivery.retryIntervals().size()));
    }

    /** How long the record waits before its {@code attempt}-th retry (1-based). */
    public Duration interval(int attempt) {
        return intervals.get(Math.min(Math.max(attempt, 1), intervals.size()) - 1);
    }

    /** The retry topic level the {@code attempt}-th retry waits on. */
    public int level(int attempt) {
        return Math.min(Math.max(attempt, 1), levels);
    }
}
