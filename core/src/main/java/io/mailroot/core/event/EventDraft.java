package io.mailroot.core.event;

import io.mailroot.core.message.Recipient;
import java.time.Instant;
import java.util.List;

/**
 * A {@link MessageEvent} being filled in at a call site: one line per fact, {@link #emit()} at the end. Made by
 * {@link EventLog#event}, which stamps the node, role and time.
 */
public final class EventDraft {

    private final EventLog log;
    private final MessageEvent.Type type;
    private final String messageId;
    private Instant at;
    private final String node;
    private final String role;
    private String sender;
    private List<String> recipients = List.of();
    private long size;
    private String client;
    private String nextHop;
    private String remote;
    private String reply;
    private int attempt;
    private Instant nextDue;
    private String relatedId;
    private String detail;

    EventDraft(EventLog log, MessageEvent.Type type, String messageId, Instant at, String node, String role) {
        this.log = log;
        this.type = type;
        this.messageId = messageId;
        this.at = at;
        this.node = node;
        this.role = role;
    }

    /** When it happened, if not now: RECEIVED takes the envelope's receive time, which precedes any routing of it. */
    public EventDraft at(Instant when) {
        if (when != null) {
            at = when;
        }
        return this;
    }

    public EventDraft sender(String s) {
        sender = s;
        return this;
    }

    public EventDraft recipients(List<Recipient> r) {
        recipients = r.stream().map(Recipient::address).toList();
        return this;
    }

    public EventDraft addresses(List<String> r) {
        recipients = r;
        return this;
    }

    public EventDraft size(long bytes) {
        size = bytes;
        return this;
    }

    public EventDraft client(String c) {
        client = c;
        return this;
    }

    public EventDraft nextHop(String key) {
        nextHop = key;
        return this;
    }

    public EventDraft remote(String r) {
        remote = r;
        return this;
    }

    public EventDraft reply(String r) {
        reply = r;
        return this;
    }

    public EventDraft attempt(int n) {
        attempt = n;
        return this;
    }

    public EventDraft nextDue(Instant due) {
        nextDue = due;
        return this;
    }

    public EventDraft relatedId(String id) {
        relatedId = id;
        return this;
    }

    public EventDraft detail(String d) {
        detail = d;
        return this;
    }

    public MessageEvent build() {
        return new MessageEvent(messageId, type, at, node, role, sender, recipients, size, client, nextHop, remote,
                reply, attempt, nextDue, relatedId, detail);
    }

    /** Builds it and hands it to the log (asynchronously; never throws). */
    public void emit() {
        log.emit(build());
    }
}
