package io.mailroot.ndr;

import io.mailroot.core.folder.Badmail;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.Recipient;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps messages nobody can be told about, and says in the log when the folder grows past what an
 * administrator should let pile up (IIS left that to the admin noticing a full disk).
 */
final class BadmailFolder {

    private static final Logger LOG = LoggerFactory.getLogger(BadmailFolder.class);
    private static final Duration WARN_EVERY = Duration.ofMinutes(1);

    private final Badmail badmail;
    private final long warnBytes;
    private Instant lastWarning = Instant.EPOCH;

    BadmailFolder(Path dir, long warnBytes) {
        this.badmail = new Badmail(dir);
        this.warnBytes = warnBytes;
    }

    Path dir() {
        return badmail.dir();
    }

    Path keep(String name, byte[] message, String reason) throws IOException {
        Path bad = badmail.write(name, message, reason);
        LOG.warn("message {} put in Badmail: {} (mailroot badmail show {})", name, firstLine(reason),
                bad.getFileName().toString().replaceFirst("\\.bad$", ""));
        warnIfLarge();
        return bad;
    }

    /** The size in bytes past which the log warns (delivery.badmailWarnSizeKb; null there means never). */
    static long warnBytes(Integer warnSizeKb) {
        return warnSizeKb == null ? Long.MAX_VALUE : warnSizeKb * 1024L;
    }

    boolean overWarningSize() throws IOException {
        return badmail.size() > warnBytes;
    }

    private void warnIfLarge() throws IOException {
        Instant now = Instant.now();
        if (Duration.between(lastWarning, now).compareTo(WARN_EVERY) >= 0 && overWarningSize()) {
            long size = badmail.size();
            lastWarning = now;
            LOG.warn("Badmail folder {} holds {} KB, more than the {} KB it should; review and clear it (mailroot badmail list)",
                    badmail.dir(), size / 1024, warnBytes / 1024);
        }
    }

    /** The {@code .bdr} text for a failure whose sender was null: what failed and why, for the administrator. */
    static String nullSenderReason(Envelope envelope) {
        return reason("Not returned to the sender: the message came from the null sender <>, so it is itself a report"
                + " or a bounce, and answering it could start a mail loop.", envelope);
    }

    /** A headline saying why the message is here, then the envelope and every recipient's outcome. */
    static String reason(String headline, Envelope envelope) {
        StringBuilder s = new StringBuilder();
        s.append(headline).append("\n\n");
        s.append("Message id: ").append(envelope.id()).append('\n');
        s.append("Envelope id: ").append(envelope.envId() == null ? "(none)" : envelope.envId()).append('\n');
        s.append("Sender: <").append(envelope.sender()).append(">\n");
        s.append("Received: ").append(envelope.receivedAt() == null ? "(unknown)" : envelope.receivedAt()).append('\n');
        s.append("Recipients:\n");
        for (Recipient r : envelope.recipients()) {
            s.append("  <").append(r.address()).append(">");
            if (r.outcome() == null) {
                s.append(" no outcome recorded\n");
                continue;
            }
            s.append(" action=").append(r.outcome().action().field())
                    .append(" status=").append(orNone(r.outcome().status()))
                    .append(" diagnostic=").append(orNone(r.outcome().diagnostic()))
                    .append(" remote-mta=").append(orNone(r.outcome().remoteMta()))
                    .append('\n');
        }
        return s.toString();
    }

    private static String orNone(String s) {
        return s == null ? "(none)" : s;
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
