package io.mailroot.queue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mailroot.core.text.ClientText;
import io.mailroot.queue.QueuedMessage.QueuedRecipient;
import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

/** {@code mailroot queue}: the queue as mailq prints it, or as postqueue -j does (one JSON object per line). */
public final class QueueListing {

    private static final ObjectMapper JSON = new ObjectMapper();
    static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

    private QueueListing() {
    }

    /**
     * One block per message: id, size, arrival, sender and its queue; then each recipient with its next hop,
     * state, attempts and next try, and the last reply beneath.
     */
    public static void text(List<QueuedMessage> messages, PrintStream out) {
        if (messages.isEmpty()) {
            out.println("Mail queue is empty");
            return;
        }
        out.printf("%-25s %9s  %-20s  %s%n", "-Queue ID-", "--Size--", "---Arrival Time---", "-Sender/Recipient-");
        long bytes = 0;
        for (QueuedMessage m : messages) {
            bytes += m.size();
            out.printf("%-25s %9d  %-20s  %s  (%s)%n", m.id(), m.size(), time(m.arrival()), sender(m.sender()),
                    QueueName.label(QueueName.of(m)));
            for (QueuedRecipient r : m.recipients()) {
                out.printf("    %s  via %s  %s  attempts %d%s%n", r.address(), r.nextHop() == null ? "(not routed)" : r.nextHop(),
                        QueueName.label(r.state()), r.attempts(), r.nextDue() == null ? "" : "  next " + time(r.nextDue()));
                if (r.delayReason() != null) {
                    out.printf("        (%s)%n", ClientText.forLog(r.delayReason()));
                }
            }
            out.println();
        }
        out.printf("-- %d Kbytes in %d %s.%n", (bytes + 1023) / 1024, messages.size(),
                messages.size() == 1 ? "message" : "messages");
    }

    /**
     * postqueue -j's fields ({@code queue_name}, {@code queue_id}, {@code arrival_time} in epoch seconds,
     * {@code message_size}, {@code sender}, {@code recipients} with {@code address} and {@code delay_reason}), and
     * Mailroot's: the message's {@code attempts} (most of any recipient) and {@code next_due} (earliest), and each
     * recipient's {@code next_hop}, {@code state}, {@code attempts}, {@code next_due}.
     */
    public static void json(List<QueuedMessage> messages, PrintStream out) {
        for (QueuedMessage m : messages) {
            out.println(json(m).toString());
        }
    }

    static ObjectNode json(QueuedMessage m) {
        ObjectNode o = JSON.createObjectNode();
        o.put("queue_name", QueueName.label(QueueName.of(m)));
        o.put("queue_id", m.id());
        if (m.arrival() != null) {
            o.put("arrival_time", m.arrival().getEpochSecond());
        }
        o.put("message_size", m.size());
        o.put("sender", m.sender() == null ? "" : m.sender());
        ArrayNode rcpts = o.putArray("recipients");
        int attempts = 0;
        Instant nextDue = null;
        for (QueuedRecipient r : m.recipients()) {
            ObjectNode j = rcpts.addObject();
            j.put("address", r.address());
            if (r.delayReason() != null) {
                j.put("delay_reason", r.delayReason());
            }
            if (r.nextHop() != null) {
                j.put("next_hop", r.nextHop());
            }
            j.put("state", QueueName.label(r.state()));
            j.put("attempts", r.attempts());
            if (r.nextDue() != null) {
                j.put("next_due", r.nextDue().getEpochSecond());
                nextDue = nextDue == null || r.nextDue().isBefore(nextDue) ? r.nextDue() : nextDue;
            }
            attempts = Math.max(attempts, r.attempts());
        }
        o.put("attempts", attempts);
        if (nextDue != null) {
            o.put("next_due", nextDue.getEpochSecond());
        }
        return o;
    }

    static String time(Instant t) {
        return t == null ? "(unknown)" : TIME.format(t);
    }

    static String sender(String s) {
        return s == null || s.isEmpty() ? "<>" : ClientText.forLog(s);
    }
}
