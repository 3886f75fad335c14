package io.mailroot.ndr;

import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.Outcome;

/**
 * One report ready for {@code inbound}: an RFC 3464 message from the null sender, with its own queue id.
 *
 * @param action the kind of outcome it reports; a dsn record with mixed outcomes yields one report per kind
 */
public record DeliveryReport(String id, Outcome.Action action, MailRecord mail) {
}
