package io.mailroot.core.role;

import java.util.Optional;

/** One of Mailroot's jobs (ingress, router, deliverer, ndr-service, drop writer, retry). Roles meet only through topics. */
public interface Role extends AutoCloseable {

    String name();

    void start() throws Exception;

    /**
     * Why the role is not doing its job at the moment (waiting to restart after a failure, stopped), or empty while
     * it is; asked by the node's {@code /health/ready} once the role has started. A role without a
     * {@link RestartingWorker} is doing its job from start until close.
     */
    default Optional<String> notReady() {
        return Optional.empty();
    }

    /** Stops taking new work, finishes or abandons (uncommitted) what is in hand, and returns. Never throws. */
    @Override
    void close();
}
