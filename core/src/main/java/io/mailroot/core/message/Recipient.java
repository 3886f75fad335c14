package io.mailroot.core.message;

import java.util.Set;

/**
 * One forward path with its RFC 3461 parameters, and, once an attempt has been made, its outcome.
 *
 * @param notifyOn empty means the client said nothing (the default: failures and delays are reported)
 * @param orcpt the original recipient as given in ORCPT, e.g. {@code rfc822;bob@example.com}; may be null
 * @param outcome null until a delivery attempt decides something about this recipient
 */
public record Recipient(String address, Set<Notify> notifyOn, String orcpt, Outcome outcome) {

    public Recipient {
        notifyOn = notifyOn == null ? Set.of() : Set.copyOf(notifyOn);
    }

    public static Recipient of(String address) {
        return new Recipient(address, Set.of(), null, null);
    }

    public enum Notify { NEVER, SUCCESS, FAILURE, DELAY }

    /** The domain part, lower-cased; empty for an address without one (postmaster). */
    public String domain() {
        int at = address.lastIndexOf('@');
        return at < 0 ? "" : address.substring(at + 1).toLowerCase(java.util.Locale.ROOT);
    }

    public Recipient withOutcome(Outcome o) {
        return new Recipient(address, notifyOn, orcpt, o);
    }

    /** Whether the sender asked (or by default wants) a report for this kind of outcome. */
    public boolean wantsReport(Outcome.Action action) {
        if (notifyOn.contains(Notify.NEVER)) {
            return false;
        }
        return switch (action) {
            case FAILED -> notifyOn.isEmpty() || notifyOn.contains(Notify.FAILURE);
            case DELAYED -> notifyOn.isEmpty() || notifyOn.contains(Notify.DELAY);
            case DELIVERED, RELAYED, EXPANDED -> notifyOn.contains(Notify.SUCCESS);
        };
    }
}
