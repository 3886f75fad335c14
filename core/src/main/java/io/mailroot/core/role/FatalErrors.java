package io.mailroot.core.role;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What happens when a thread Mailroot relies on meets an {@link Error} (OutOfMemoryError, StackOverflowError, a
 * class that will not load): the process stops at once with {@link #EXIT_STATUS} after one clear log line, so its
 * supervisor (systemd, Docker, Kubernetes) starts it again. Carrying on is worse: a role thread that died leaves a
 * node whose ingress still answers 250 while nothing routes or delivers, and after an Error the JVM's state is not
 * to be trusted for a restart in place.
 *
 * <p>It halts rather than exits: shutdown hooks would try to close roles whose threads may be what is broken, and
 * could hang; nothing acknowledged is lost by stopping hard (Kafka holds it, as after kill -9).
 */
public final class FatalErrors {

    /** EX_SOFTWARE from sysexits.h: an internal software error. */
    public static final int EXIT_STATUS = 70;

    /** Stops the process; tests give one that records instead. */
    @FunctionalInterface
    public interface Halt {
        void halt(int status, String why);
    }

    private static final Logger LOG = LoggerFactory.getLogger(FatalErrors.class);
    private static final FatalErrors PROCESS = new FatalErrors((status, why) -> Runtime.getRuntime().halt(status));

    private final Halt halt;

    public FatalErrors(Halt halt) {
        this.halt = halt;
    }

    /** The one that stops this JVM. */
    public static FatalErrors process() {
        return PROCESS;
    }

    /** Logs that {@code where} met {@code error} and stops the process. */
    public void halt(String where, Throwable error) {
        String why = "FATAL: " + where + " stopped by " + error + "; halting the process with exit status "
                + EXIT_STATUS + " so that its supervisor starts it again";
        try {
            LOG.error(why, error);
            System.err.println("mailroot: " + why);
        } catch (Throwable ignored) {
            // Out of memory even for the log line: halting matters more than saying so.
        }
        halt.halt(EXIT_STATUS, why);
    }

    /**
     * {@code task} made safe to schedule repeatedly: a RuntimeException is logged and the next run goes ahead (a
     * scheduled executor would otherwise cancel the task for good), an Error halts the process.
     */
    public Runnable everyRun(String what, Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                LOG.error("{} failed; it runs again at its next turn", what, e);
            } catch (Error e) {
                halt(what, e);
            }
        };
    }

    /**
     * For threads: an Error that ends one halts the process; any other exception is logged as the JVM's default
     * handler would. Set as the default handler at start-up, and on role threads of their own.
     */
    public Thread.UncaughtExceptionHandler uncaughtHandler() {
        return (thread, e) -> {
            if (e instanceof Error) {
                halt("thread " + thread.getName(), e);
            } else {
                LOG.error("thread {} ended by an exception", thread.getName(), e);
            }
        };
    }
}
