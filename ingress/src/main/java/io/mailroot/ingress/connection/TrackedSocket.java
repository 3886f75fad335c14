package io.mailroot.ingress.connection;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An accepted client connection that knows how long it has been waiting for the client, so that the
 * {@link IdleWatchdog} can close an idle one with {@code 421 4.4.2}. SubEthaSMTP's own read time-out answers
 * without an enhanced status code, so it is kept only as a backstop far behind the watchdog.
 *
 * <p>The SMTP session talks through the {@link SessionSocket} over this one (over TLS on it after STARTTLS or on an
 * implicit-TLS port); the watchdog's 421 goes out through it, so it is encrypted when the session is. The
 * connection also counts the client's errors across STARTTLS (see {@link ReplyOutput}).
 */
public final class TrackedSocket extends Socket {

    /** Replies with code 500, 501, 502, 504 or 555 one connection may cause before it is closed with 421 4.7.0. */
    public static final int MAX_ERRORS = 20;

    static final byte[] IDLE_REPLY = reply("421 4.4.2 Idle timeout, closing connection");
    static final byte[] LINE_TOO_SLOW = reply("421 4.4.2 Command line not completed in time, closing connection");
    static final byte[] DATA_TOO_SLOW = reply("421 4.4.2 Message data too slow, closing connection");

    /**
     * When waiting for the client must end, and what it is told then. Set by {@link CommandInput} for a command line
     * and for DATA; without one, the idle limit runs from the start of each read (a TLS handshake, say).
     */
    private record Deadline(long at, byte[] reply) {
    }

    private static byte[] reply(String text) {
        return (text + "\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    private final long idleLimitNanos;
    private volatile long waitingSince;
    private volatile Deadline deadline;
    private volatile SessionSocket session;
    private final AtomicBoolean expired = new AtomicBoolean();
    private volatile long expiredAt;
    private final AtomicInteger errors = new AtomicInteger();
    private volatile ProtocolTrail trail = ProtocolTrail.NONE;
    private InputStream input;

    /** Unconnected: {@link java.net.ServerSocket#implAccept} connects it. */
    TrackedSocket(long idleLimitNanos) {
        super();
        this.idleLimitNanos = idleLimitNanos;
    }

    @Override
    public synchronized InputStream getInputStream() throws IOException {
        if (input == null) {
            input = new WaitTimer(super.getInputStream());
        }
        return input;
    }

    /** From now on what the connection says and hears is told to {@code t} (the virtual server's protocol log). */
    public void trail(ProtocolTrail t) {
        trail = t;
    }

    /** Where what the connection says and hears is told; {@link ProtocolTrail#NONE} when nobody logs it. */
    public ProtocolTrail trail() {
        return trail;
    }

    /** Records the session socket the SMTP session writes through, for the watchdog's 421. */
    void servedBy(SessionSocket sessionSocket) {
        session = sessionSocket;
    }

    /** Whether the connection has had {@link #MAX_ERRORS}. */
    public boolean tooManyErrors() {
        return errors.get() >= MAX_ERRORS;
    }

    /** Counts one error; true for the one that reaches {@link #MAX_ERRORS}. */
    boolean countError() {
        return errors.incrementAndGet() == MAX_ERRORS;
    }

    /** Whether a read has been waiting for the client for longer than the idle limit. */
    boolean idle(long now) {
        long since = waitingSince;
        if (since == 0 || isClosed()) {
            return false;
        }
        Deadline d = deadline;
        return d != null ? now - d.at() > 0 : now - since > idleLimitNanos;
    }

    /** The connection's time-out (virtualServers[].connectionTimeout), in nanoseconds. */
    long idleLimitNanos() {
        return idleLimitNanos;
    }

    /** From now on, a read still waiting at {@code at} (System.nanoTime) ends the connection with {@code reply}. */
    void deadline(long at, byte[] reply) {
        deadline = new Deadline(at, reply);
    }

    /** Back to the idle limit counted from the start of each read. */
    void noDeadline() {
        deadline = null;
    }

    /** Sends the 421 4.4.2 of the deadline missed and closes; returns false if that was already done. */
    boolean expire() {
        if (!expired.compareAndSet(false, true)) {
            return false;
        }
        expiredAt = System.nanoTime();
        try {
            SessionSocket served = session;
            OutputStream out = served != null ? served.getOutputStream() : super.getOutputStream();
            Deadline d = deadline;
            out.write(d == null ? IDLE_REPLY : d.reply());
            out.flush();
        } catch (IOException | RuntimeException e) {
            // the client is gone already: closing is all that is left
        } finally {
            closeQuietly();
        }
        return true;
    }

    boolean expired() {
        return expired.get();
    }

    /** When {@link #expire()} started; a write to a client that does not read may block it. */
    long expiredAt() {
        return expiredAt;
    }

    void closeQuietly() {
        try {
            super.close();
        } catch (IOException ignored) {
            // nothing more to do
        }
    }

    /** Marks the time a read starts to wait for the client. Bytes already buffered above never get here. */
    private final class WaitTimer extends FilterInputStream {

        WaitTimer(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            waitingSince = nonZero(System.nanoTime());
            try {
                return in.read();
            } finally {
                waitingSince = 0;
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            waitingSince = nonZero(System.nanoTime());
            try {
                return in.read(b, off, len);
            } finally {
                waitingSince = 0;
            }
        }
    }

    private static long nonZero(long t) {
        return t == 0 ? 1 : t;
    }
}
