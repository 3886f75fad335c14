package io.mailroot.deliverer;

import io.mailroot.core.message.Recipient;

/**
 * What one delivery attempt decided for one recipient.
 *
 * @param status enhanced status code, e.g. {@code 5.1.1}
 * @param reply the next hop's reply ({@code 550 5.1.1 no such user}) or our own account of what went wrong
 * @param remoteHost the host that answered, or the last one tried; may be null when none was reached
 */
public record DeliveryResult(Recipient recipient, Verdict verdict, String status, String reply, String remoteHost) {

    public enum Verdict {
        /** The next hop took responsibility (2xx), and reports success itself if asked (it speaks DSN). */
        DELIVERED,
        /** The next hop took responsibility (2xx) but cannot report success (no DSN extension, RFC 3461 5.2.2). */
        RELAYED,
        /** Will never work (5xx, null MX, no such domain): report to the sender. */
        FAILED,
        /** May work later (4xx, network, DNS trouble): retry. */
        DEFERRED,
        /**
         * In one of our local domains (the router thought otherwise, e.g. while {@code localDomains} is being rolled
         * out): never sent by SMTP, handed to local delivery instead.
         */
        LOCAL
    }

    /** Whether the next hop took the message for this recipient. */
    public boolean accepted() {
        return verdict == Verdict.DELIVERED || verdict == Verdict.RELAYED;
    }

    public static DeliveryResult deferred(Recipient r, String status, String reply, String host) {
        return new DeliveryResult(r, Verdict.DEFERRED, status, reply, host);
    }
}
