package io.mailroot.launcher;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.event.MessageEvent;
import java.io.PrintStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * {@code mailroot log [-f] [-n N]}: the delivery log of every node, like Postfix's maillog, from the {@code events}
 * topic: the last N events (50 unless told), in time order; with {@code -f}, then every event as it comes until
 * interrupted. The delay of a delivery is shown when its message's RECEIVED was among what was read.
 */
final class LogCommand {

    static final String USAGE = "usage: mailroot log [-f] [-n N] [--config FILE]";
    private static final int DEFAULT_LINES = 50;
    /** Receive times kept for delays while following; the oldest are forgotten beyond this. */
    private static final int REMEMBERED = 100_000;

    private LogCommand() {
    }

    static int run(List<String> args, MailrootConfig config, PrintStream out, PrintStream err, BooleanSupplier stop) {
        boolean follow = false;
        int lines = DEFAULT_LINES;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("-f")) {
                follow = true;
            } else if (a.equals("-n") && i + 1 < args.size() && args.get(i + 1).matches("\\d{1,9}")) {
                lines = Integer.parseInt(args.get(++i));
            } else {
                err.println(USAGE);
                return 2;
            }
        }
        Map<String, Instant> received = new LinkedHashMap<>(16, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Instant> eldest) {
                return size() > REMEMBERED;
            }
        };
        try (EventTopic events = EventTopic.of(config)) {
            if (lines > 0) {
                // Read more than is shown, so the deliveries shown find their RECEIVED for the delay.
                List<EventTopic.Read> tail = events.tail(Math.max(lines * 4L, 200));
                List<EventTopic.Read> shown = tail.subList(Math.max(0, tail.size() - lines), tail.size());
                tail.subList(0, tail.size() - shown.size()).forEach(r -> remember(received, r.event()));
                print(new ArrayList<>(shown), received, out);
            }
            if (follow) {
                if (lines == 0) {
                    events.fromEnd();
                }
                events.follow(batch -> print(batch, received, out), stop);
            }
        }
        return 0;
    }

    private static void print(List<EventTopic.Read> reads, Map<String, Instant> received, PrintStream out) {
        for (EventTopic.Read r : reads) {
            remember(received, r.event());
            out.println(EventLines.maillog(r.event(), received.get(r.event().messageId())));
        }
        out.flush();
    }

    private static void remember(Map<String, Instant> received, MessageEvent e) {
        if (e.type() == MessageEvent.Type.RECEIVED) {
            received.put(e.messageId(), e.at());
        }
    }
}
