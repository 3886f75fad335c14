package io.mailroot.deliverer;

import io.mailroot.core.message.Recipient;

/**
 * What one delivery attempt decided for one recipient.
 *
 * @param status enhanced status code, e.g. {@code 5.1.1}
 * @param reply the next hop's reply ({@code 550 5.1.1 no such user}) or our own account of what went wrong
 * @param remoteHost the host that answered, or the last one tried; may be null when none was reached
 * @param remoteAddress the address of the host that answered ({@code 192.0.2.7}), for the trail; null when none did
 */
public record DeliveryResult(Recipient recipient, Verdict verdict, String status, String reply, String remoteHost,
                             String remoteAddress) {

    public DeliveryResult(Recipient recipient, Verdict verdict, String status, String reply, String remoteHost) {
        this(recipient, verdict, status, reply, remoteHost, null);
    }

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

    /** The host as the trail shows it: {@code mx.example.net [192.0.2.7]}. */
    public String remote() {
        if (remoteHost == null) {
            return remoteAddress;
        }
        return remoteAddress == null || remoteAddress.equals(remoteHost) ? remoteHost : remoteHost + " [" + remoteAddress + "]";
    }

    /** Whether the next hop took the message for this recipient. */
    public boolean accepted() {
        return verdict == Verdict.DELIVERED || verdict == Verdict.RELAYED;
    }

    public static DeliveryResult deferred(Recipient r, String status, String reply, String host) {
        return new DeliveryResult(r, Verdict.DEFERRED, status, reply, host);
    }
}
