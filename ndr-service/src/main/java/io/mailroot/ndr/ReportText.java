package io.mailroot.ndr;

import io.mailroot.core.message.Outcome;
import io.mailroot.core.message.Recipient;
import java.time.Instant;
import java.util.List;

/** The words a person reads in a report: its subject and the first, plain-text part. */
final class ReportText {

    private ReportText() {
    }

    static String subject(Outcome.Action action, String originalSubject) {
        String prefix = switch (action) {
            case FAILED -> "Undeliverable: ";
            case DELAYED -> "Delayed: ";
            case DELIVERED, RELAYED, EXPANDED -> "Delivered: ";
        };
        return prefix + (originalSubject == null ? "" : originalSubject);
    }

    static String explanation(String fqdn, Outcome.Action action, List<Recipient> recipients, Instant retryUntil,
                              boolean wholeMessageAttached) {
        StringBuilder s = new StringBuilder();
        s.append("This is the mail system at ").append(fqdn).append(".\n\n");
        s.append(switch (action) {
            case FAILED -> "Your message could not be delivered to the following recipients. This is a permanent"
                    + " failure; the mail system will not try again.\n";
            case DELAYED -> "Your message has not yet been delivered to the following recipients. The mail system"
                    + " is still trying" + (retryUntil == null ? "" : " until " + DsnFields.date(retryUntil))
                    + "; you do not need to send it again.\n";
            case DELIVERED -> "Your message was delivered to the following recipients, as you asked to be told.\n";
            case RELAYED -> "Your message was passed on to the following recipients' mail systems, which do not"
                    + " report delivery, so you may receive no further notice.\n";
            case EXPANDED -> "Your message was delivered to the following addresses, which forward it to further"
                    + " recipients.\n";
        });
        s.append('\n');
        for (Recipient r : recipients) {
            Outcome o = r.outcome();
            s.append("  <").append(r.address()).append(">\n");
            if (o.diagnostic() != null && !o.diagnostic().isBlank()) {
                s.append("      ").append(DsnFields.ascii(o.diagnostic())).append('\n');
            }
            if (o.remoteMta() != null && !o.remoteMta().isBlank()) {
                s.append("      (reported by ").append(o.remoteMta()).append(", status ")
                        .append(DsnFields.status(o)).append(")\n");
            } else {
                s.append("      (status ").append(DsnFields.status(o)).append(")\n");
            }
        }
        s.append('\n').append(wholeMessageAttached
                ? "Your original message is attached.\n"
                : "The headers of your original message are attached.\n");
        return s.toString();
    }
}
