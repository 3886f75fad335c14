package io.mailroot.core.role;

/** One of Mailroot's jobs (ingress, router, deliverer, ndr-service, drop writer, retry). Roles meet only through topics. */
public interface Role extends AutoCloseable {

    String name();

    void start() throws Exception;

    /** Stops taking new work, finishes or abandons (uncommitted) what is in hand, and returns. Never throws. */
    @Override
    void close();
}
