package io.mailroot.queue;

import io.mailroot.queue.QueuedMessage.QueuedRecipient;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code mailroot queue shape}: Postfix's qshape. One row per recipient domain (or sender domain), counting the
 * messages with a recipient there (a message to two domains counts in both rows, once in TOTAL) by age since
 * arrival: column {@code 5} holds those under 5 minutes, {@code 10} those of 5 to 10, and so on, doubling, to
 * {@code 1280+}.
 */
public final class QueueShape {

    /** The buckets' upper bounds in minutes; the last column is everything older. */
    public static final int[] BOUNDS = {5, 10, 20, 40, 80, 160, 320, 640, 1280};
    public static final String TOTAL = "TOTAL";

    public enum By { RECIPIENT, SENDER }

    /** A row: its name, the total, and the count per bucket ({@code BOUNDS.length + 1} of them). */
    public record Row(String name, int total, int[] buckets) {
    }

    private QueueShape() {
    }

    /** TOTAL first, then the domains by total, most first. */
    public static List<Row> rows(List<QueuedMessage> messages, By by, Instant now) {
        Map<String, int[]> byName = new TreeMap<>();
        int[] total = new int[BOUNDS.length + 1];
        for (QueuedMessage m : messages) {
            int b = bucket(m.arrival() == null ? Duration.ZERO : Duration.between(m.arrival(), now));
            total[b]++;
            for (String name : names(m, by)) {
                byName.computeIfAbsent(name, n -> new int[BOUNDS.length + 1])[b]++;
            }
        }
        List<Row> rows = new ArrayList<>();
        rows.add(row(TOTAL, total));
        byName.entrySet().stream().map(e -> row(e.getKey(), e.getValue()))
                .sorted(Comparator.comparingInt(Row::total).reversed().thenComparing(Row::name))
                .forEach(rows::add);
        return rows;
    }

    /** The column an age falls in: under 5 minutes is 0, 5 to under 10 is 1, …, 1280 minutes and older is the last. */
    public static int bucket(Duration age) {
        long minutes = Math.max(0, age.toSeconds()) / 60;
        for (int i = 0; i < BOUNDS.length; i++) {
            if (minutes < BOUNDS[i]) {
                return i;
            }
        }
        return BOUNDS.length;
    }

    public static void print(List<QueuedMessage> messages, By by, Instant now, PrintStream out) {
        List<Row> rows = rows(messages, by, now);
        int width = Math.max(TOTAL.length(), rows.stream().mapToInt(r -> r.name().length()).max().orElse(0));
        StringBuilder head = new StringBuilder(String.format("%" + width + "s %5s", "", "T"));
        for (int bound : BOUNDS) {
            head.append(String.format(" %5d", bound));
        }
        head.append(String.format(" %5s", BOUNDS[BOUNDS.length - 1] + "+"));
        out.println(head);
        for (Row r : rows) {
            StringBuilder line = new StringBuilder(String.format("%" + width + "s %5d", r.name(), r.total()));
            for (int n : r.buckets()) {
                line.append(String.format(" %5d", n));
            }
            out.println(line);
        }
    }

    private static Set<String> names(QueuedMessage m, By by) {
        Set<String> names = new LinkedHashSet<>();
        if (by == By.SENDER) {
            String s = m.sender() == null ? "" : m.sender();
            names.add(s.isEmpty() ? "MAILER-DAEMON" : QueueName.domain(s));
        } else {
            for (QueuedRecipient r : m.recipients()) {
                names.add(QueueName.domain(r.address()));
            }
        }
        return names;
    }

    private static Row row(String name, int[] buckets) {
        int total = 0;
        for (int n : buckets) {
            total += n;
        }
        return new Row(name, total, buckets);
    }
}
