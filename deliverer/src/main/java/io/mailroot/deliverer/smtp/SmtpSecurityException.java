package io.mailroot.deliverer.smtp;

import java.io.IOException;

/**
 * The next hop cannot be used as the outbound security settings demand (TLS required but not to be had, credentials
 * refused or not to be sent in clear). Always temporary: it is a matter for the operator, and mail must not bounce
 * because a relay's password changed.
 */
public final class SmtpSecurityException extends IOException {

    private final String status;

    public SmtpSecurityException(String status, String message) {
        super(message);
        this.status = status;
    }

    /** The enhanced status code a retry carries, e.g. {@code 4.7.10} (encryption needed). */
    public String status() {
        return status;
    }
}
