package io.mailroot.deliverer;

/**
 * A DNS answer that stops delivery to a domain: permanent ones (NXDOMAIN, null MX) become reports,
 * temporary ones (SERVFAIL, time-out) become retries.
 *
 * @param status the enhanced status code a report or retry carries, e.g. {@code 5.1.2}
 */
public final class DnsFailure extends Exception {

    private final String status;

    public DnsFailure(String status, String message) {
        super(message);
        this.status = status;
    }

    public String status() {
        return status;
    }

    public boolean permanent() {
        return status.startsWith("5");
    }
}
