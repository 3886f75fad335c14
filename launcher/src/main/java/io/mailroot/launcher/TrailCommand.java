package io.mailroot.launcher;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.event.EventCodec;
import io.mailroot.core.event.MessageEvent;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code mailroot trail ID [--json]}: one message's history across every node, in time order, one line per event,
 * from the {@code events} topic. Only the partition the id is keyed to is read, from its beginning to its end at
 * start. The reports sent about the message (REPORT_SENT's {@code relatedId}) are followed too, so a bounce shows
 * where its report went. Exit codes: 0 shown, 1 no event for that id, 2 usage.
 */
final class TrailCommand {

    static final String USAGE = "usage: mailroot trail ID [--json] [--config FILE]";

    private TrailCommand() {
    }

    static int run(List<String> args, MailrootConfig config, PrintStream out, PrintStream err) {
        List<String> rest = new ArrayList<>(args);
        boolean json = rest.remove("--json");
        if (rest.size() != 1 || rest.get(0).startsWith("-")) {
            err.println(USAGE);
            return 2;
        }
        String id = rest.get(0);
        List<EventTopic.Read> trail;
        try (EventTopic events = EventTopic.of(config)) {
            trail = trail(events, id);
        }
        if (trail.isEmpty()) {
            err.println("mailroot: no events for " + id);
            return 1;
        }
        for (EventTopic.Read r : trail) {
            out.println(json ? new String(EventCodec.encode(r.event()), StandardCharsets.UTF_8)
                    : EventLines.trail(r.event(), id));
        }
        return 0;
    }

    /** The message's events, and those of the reports about it, in time order. */
    static List<EventTopic.Read> trail(EventTopic events, String id) {
        List<EventTopic.Read> all = new ArrayList<>(events.of(id));
        Set<String> reports = new LinkedHashSet<>();
        for (EventTopic.Read r : all) {
            if (r.event().type() == MessageEvent.Type.REPORT_SENT && r.event().relatedId() != null
                    && !r.event().relatedId().equals(id)) {
                reports.add(r.event().relatedId());
            }
        }
        for (String report : reports) {
            all.addAll(events.of(report));
        }
        all.sort(EventTopic.Read.BY_TIME);
        return all;
    }
}
