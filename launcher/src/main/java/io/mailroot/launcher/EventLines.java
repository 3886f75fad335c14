package io.mailroot.launcher;

import io.mailroot.core.event.FollowupEvents;
import io.mailroot.core.event.MessageEvent;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** How an event reads as one line: in a message's trail, and in the delivery log (after Postfix's maillog). */
final class EventLines {

    private static final Pattern ENHANCED = Pattern.compile("\\b([245]\\.\\d{1,3}\\.\\d{1,3})\\b");
    private static final Pattern CODE = Pattern.compile("^([245])\\d\\d\\b");

    private EventLines() {
    }

    /**
     * {@code 2026-12-03T10:00:01.204Z node-a deliverer DELIVERED to=<b@example.net> hop=example.net remote=... reply="..."};
     * the message id is shown only when it is not the one asked for (a report's events in its original's trail).
     */
    static String trail(MessageEvent e, String asked) {
        List<String> f = new ArrayList<>();
        f.add(e.at().truncatedTo(ChronoUnit.MILLIS).toString());
        f.add(e.node());
        f.add(String.format("%-9s", e.role()));
        f.add(String.format("%-11s", e.type()));
        if (!e.messageId().equals(asked)) {
            f.add("id=" + e.messageId());
        }
        if (e.sender() != null) {
            f.add("from=<" + e.sender() + ">");
        }
        if (!e.recipients().isEmpty()) {
            f.add("to=" + addresses(e.recipients()));
        }
        if (e.size() > 0) {
            f.add("size=" + e.size());
        }
        if (e.client() != null) {
            f.add("client=" + quoted(e.client()));
        }
        if (e.nextHop() != null) {
            f.add("hop=" + e.nextHop());
        }
        if (e.remote() != null) {
            f.add("remote=" + quoted(e.remote()));
        }
        if (e.reply() != null) {
            f.add("reply=" + quoted(e.reply()));
        }
        if (e.attempt() > 0) {
            f.add("attempt=" + e.attempt());
        }
        if (e.nextDue() != null) {
            f.add("next=" + e.nextDue().truncatedTo(ChronoUnit.MILLIS));
        }
        if (e.relatedId() != null) {
            f.add((e.type() == MessageEvent.Type.BADMAIL ? "file=" : "related=") + e.relatedId());
        }
        if (e.detail() != null) {
            f.add("detail=" + quoted(e.detail()));
        }
        return String.join(" ", f);
    }

    /**
     * {@code 2026-12-03T10:00:01Z node deliverer ID: to=<b@example.net>, relay=mx.example.net[192.0.2.7], delay=1.2,
     * dsn=2.0.0, status=sent (250 2.0.0 Ok)}.
     *
     * @param receivedAt when the message was received, if the reader saw its RECEIVED, else null (no delay shown)
     */
    static String maillog(MessageEvent e, Instant receivedAt) {
        List<String> f = new ArrayList<>();
        String reply = e.reply();
        switch (e.type()) {
            case RECEIVED -> {
                f.add("client=" + e.client());
                f.add("from=<" + nullToEmpty(e.sender()) + ">");
                f.add("size=" + e.size());
                f.add("nrcpt=" + e.recipients().size());
            }
            case ROUTED -> {
                f.add("to=" + addresses(e.recipients()));
                f.add("nexthop=" + e.nextHop());
                f.add("status=routed");
            }
            case REPORT_SENT -> {
                f.add("to=<" + nullToEmpty(e.sender()) + ">");
                f.add("report=" + e.relatedId());
                f.add("status=report-sent (" + nullToEmpty(e.detail()) + " notice for " + addresses(e.recipients()) + ")");
            }
            case BADMAIL -> {
                if (!e.recipients().isEmpty()) {
                    f.add("to=" + addresses(e.recipients()));
                }
                f.add("file=" + e.relatedId());
                f.add("status=badmail (" + nullToEmpty(reply) + ")");
            }
            case DELIVERED, DEFERRED, FAILED, DELAYED -> {
                f.add("to=" + addresses(e.recipients()));
                f.add("relay=" + relay(e));
                if (receivedAt != null) {
                    f.add("delay=" + seconds(Duration.between(receivedAt, e.at())));
                }
                String dsn = dsn(reply, e.type());
                if (dsn != null) {
                    f.add("dsn=" + dsn);
                }
                if (e.type() == MessageEvent.Type.DEFERRED && e.nextDue() != null) {
                    f.add("attempt=" + e.attempt());
                    f.add("next=" + e.nextDue().truncatedTo(ChronoUnit.SECONDS));
                }
                String why = reply != null ? reply : e.detail() != null ? e.detail() : "";
                f.add("status=" + status(e.type()) + (why.isEmpty() ? "" : " (" + why + ")"));
            }
            default -> f.add("status=" + e.type().name().toLowerCase(Locale.ROOT).replace('_', '-')
                    + (e.detail() == null ? "" : " (" + e.detail() + ")"));
        }
        return e.at().truncatedTo(ChronoUnit.SECONDS) + " " + e.node() + " " + e.role() + " " + e.messageId() + ": "
                + String.join(", ", f);
    }

    private static String status(MessageEvent.Type type) {
        return switch (type) {
            case DELIVERED -> "sent";
            case DEFERRED -> "deferred";
            case FAILED -> "bounced";
            default -> "delayed";
        };
    }

    /** {@code mx.example.net[192.0.2.7]} as Postfix writes it; {@code local} for the Drop folder; none when unknown. */
    private static String relay(MessageEvent e) {
        if (FollowupEvents.LOCAL.equals(e.nextHop())) {
            return "local";
        }
        if (e.remote() != null) {
            return e.remote().replace(" [", "[");
        }
        return e.nextHop() != null ? e.nextHop() : "none";
    }

    /** The enhanced status code in the reply, else the reply code's class ({@code 4.0.0}). */
    static String dsn(String reply, MessageEvent.Type type) {
        if (reply == null) {
            return type == MessageEvent.Type.DELIVERED ? "2.0.0" : null;
        }
        Matcher m = ENHANCED.matcher(reply);
        if (m.find()) {
            return m.group(1);
        }
        Matcher c = CODE.matcher(reply);
        return c.find() ? c.group(1) + ".0.0" : null;
    }

    private static String seconds(Duration d) {
        return String.format(Locale.ROOT, "%.1f", Math.max(0, d.toMillis()) / 1000.0);
    }

    private static String addresses(List<String> recipients) {
        return recipients.stream().map(r -> "<" + r + ">").collect(Collectors.joining(","));
    }

    private static String quoted(String s) {
        return s.indexOf(' ') < 0 && s.indexOf('"') < 0 ? s : "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }
}
