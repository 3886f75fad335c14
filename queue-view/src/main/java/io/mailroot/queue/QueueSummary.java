package io.mailroot.queue;

import io.mailroot.core.text.ClientText;
import io.mailroot.queue.QueuedMessage.QueuedRecipient;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code mailroot queue summary}: per next hop, how many messages and recipients wait, the oldest, and the last
 * error (the reply of the most recently updated recipient that has one), like KumoMTA's queue-summary.
 */
public final class QueueSummary {

    static final String UNROUTED = "(not routed)";

    private QueueSummary() {
    }

    /** One next hop's line. */
    public record HopLine(String hop, int messages, int recipients, Instant oldest, String lastError) {
    }

    public static List<HopLine> lines(List<QueuedMessage> messages) {
        final class Acc {
            final Set<String> ids = new HashSet<>();
            int recipients;
            Instant oldest;
            Instant errorAt;
            String error;
        }
        Map<String, Acc> byHop = new TreeMap<>();
        for (QueuedMessage m : messages) {
            for (QueuedRecipient r : m.recipients()) {
                Acc a = byHop.computeIfAbsent(r.nextHop() == null ? UNROUTED : r.nextHop(), h -> new Acc());
                a.ids.add(m.id());
                a.recipients++;
                if (m.arrival() != null && (a.oldest == null || m.arrival().isBefore(a.oldest))) {
                    a.oldest = m.arrival();
                }
                Instant at = m.updatedAt() == null ? Instant.EPOCH : m.updatedAt();
                if (r.delayReason() != null && (a.errorAt == null || !at.isBefore(a.errorAt))) {
                    a.errorAt = at;
                    a.error = r.delayReason();
                }
            }
        }
        return byHop.entrySet().stream()
                .map(e -> new HopLine(e.getKey(), e.getValue().ids.size(), e.getValue().recipients, e.getValue().oldest,
                        e.getValue().error))
                .sorted(Comparator.comparingInt(HopLine::recipients).reversed().thenComparing(HopLine::hop))
                .toList();
    }

    public static void print(List<QueuedMessage> messages, Instant now, PrintStream out) {
        List<HopLine> lines = lines(messages);
        int width = Math.max(8, lines.stream().mapToInt(l -> l.hop().length()).max().orElse(0));
        out.printf("%-" + width + "s %6s %6s %8s  %s%n", "NEXT HOP", "MSGS", "RCPTS", "OLDEST", "LAST ERROR");
        for (HopLine l : lines) {
            out.printf("%-" + width + "s %6d %6d %8s  %s%n", l.hop(), l.messages(), l.recipients(),
                    l.oldest() == null ? "-" : age(Duration.between(l.oldest(), now)),
                    l.lastError() == null ? "-" : ClientText.forLog(l.lastError()));
        }
    }

    /** An age as an operator reads it: 45s, 12m, 3h10m, 2d4h. */
    static String age(Duration d) {
        long s = Math.max(0, d.toSeconds());
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return s / 60 + "m";
        }
        if (s < 86400) {
            return s / 3600 + "h" + (s % 3600 / 60 == 0 ? "" : s % 3600 / 60 + "m");
        }
        return s / 86400 + "d" + (s % 86400 / 3600 == 0 ? "" : s % 86400 / 3600 + "h");
    }
}
