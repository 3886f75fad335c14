package io.mailroot.core.kafka;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** The topic names of one Mailroot installation (see DESIGN.md, "Topics"). */
public record Topics(String prefix, int retryLevels) {

    public String inbound() {
        return prefix + "inbound";
    }

    public String outbound() {
        return prefix + "outbound";
    }

    /** Retry level {@code n}, from 1 to {@link #retryLevels()}. */
    public String retry(int n) {
        if (n < 1 || n > retryLevels) {
            throw new IllegalArgumentException("retry level " + n + " outside 1.." + retryLevels);
        }
        return prefix + "retry." + n;
    }

    public String local() {
        return prefix + "local";
    }

    public String dsn() {
        return prefix + "dsn";
    }

    public String events() {
        return prefix + "events";
    }

    /**
     * Operator actions (hold, release, retry-now, delete, expire), compacted by the action's target: every node
     * reads all of it and applies what concerns its records.
     */
    public String control() {
        return prefix + "control";
    }

    /**
     * The queue view: one record per message still queued (its state folded from {@code events}), compacted by
     * message id; a message that left the queue is a tombstone.
     */
    public String queueState() {
        return prefix + "queue";
    }

    /** The topics whose records replace earlier ones of the same key (cleanup.policy=compact). */
    public List<String> compacted() {
        return List.of(control(), queueState());
    }

    public List<String> retries() {
        List<String> names = new ArrayList<>();
        for (int i = 1; i <= retryLevels; i++) {
            names.add(retry(i));
        }
        return names;
    }

    /**
     * Every {@code retry.N} topic of the prefix, whatever N: a level left behind when {@code retryIntervals} was
     * shortened still holds mail.
     */
    public Pattern anyRetry() {
        return Pattern.compile(Pattern.quote(prefix + "retry.") + "\\d+");
    }

    public List<String> all() {
        List<String> names = new ArrayList<>(List.of(inbound(), outbound(), local(), dsn(), events(), control(), queueState()));
        names.addAll(retries());
        return names;
    }
}
