package io.mailroot.core.message;

/**
 * What became of one recipient, in the terms of an RFC 3464 per-recipient block.
 *
 * @param status enhanced status code, e.g. {@code 5.1.1}
 * @param diagnostic the remote reply, e.g. {@code smtp; 550 5.1.1 no such user}; may be null
 * @param remoteMta the host that answered; may be null
 */
public record Outcome(Action action, String status, String diagnostic, String remoteMta) {

    public enum Action {
        FAILED, DELAYED, DELIVERED, RELAYED, EXPANDED;

        /** The RFC 3464 Action field value. */
        public String field() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public static Outcome failed(String status, String diagnostic, String remoteMta) {
        return new Outcome(Action.FAILED, status, diagnostic, remoteMta);
    }

    public static Outcome delayed(String status, String diagnostic, String remoteMta) {
        return new Outcome(Action.DELAYED, status, diagnostic, remoteMta);
    }
}
