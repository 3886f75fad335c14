package io.mailroot.ingress.connection;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLSocket;

/**
 * An accepted client connection that knows how long it has been waiting for the client, so that the
 * {@link IdleWatchdog} can close an idle one with {@code 421 4.4.2}. SubEthaSMTP's own read time-out answers
 * without an enhanced status code, so it is kept only as a backstop far behind the watchdog.
 *
 * <p>After STARTTLS (or from the start, on an implicit-TLS port) the SMTP session talks through an SSLSocket
 * layered over this one; {@link #layeredUnder(SSLSocket)} records it so that the watchdog's 421 is sent encrypted.
 *
 * <p>The connection also counts the client's errors across STARTTLS (see {@link StockReplies}, which the session's
 * replies pass through, here or on the {@link TlsSessionSocket}).
 */
public final class TrackedSocket extends Socket {

    /** Replies with code 500, 501, 502, 504 or 555 one connection may cause before it is closed with 421 4.7.0. */
    public static final int MAX_ERRORS = 20;

    private static final byte[] IDLE_REPLY = "421 4.4.2 Idle timeout, closing connection\r\n".getBytes(StandardCharsets.US_ASCII);

    private final long idleLimitNanos;
    private volatile long waitingSince;
    private volatile Socket top = this;
    private final AtomicBoolean expired = new AtomicBoolean();
    private volatile long expiredAt;
    private final AtomicInteger errors = new AtomicInteger();
    private InputStream input;
    private OutputStream output;

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

    /** Replies written here pass {@link StockReplies} while they are clear text, i.e. until TLS is layered over. */
    @Override
    public synchronized OutputStream getOutputStream() throws IOException {
        if (output == null) {
            output = new StockReplies(super.getOutputStream(), this, () -> top == this, this::closeQuietly);
        }
        return output;
    }

    /**
     * Records TLS layered over this connection, before its handshake, and returns the socket the SMTP session is to
     * read and write through: {@code tls} with {@link StockReplies} on its clear-text side.
     */
    public SSLSocket layeredUnder(SSLSocket tls) {
        top = tls;
        return new TlsSessionSocket(tls, this);
    }

    /**
     * Whether the connection under an SMTP session's socket (this, or TLS over this) has had
     * {@link #MAX_ERRORS}; false for a socket that is not tracked.
     */
    public static boolean tooManyErrors(Socket sessionSocket) {
        TrackedSocket tracked = sessionSocket instanceof TrackedSocket t ? t
                : sessionSocket instanceof TlsSessionSocket s ? s.connection() : null;
        return tracked != null && tracked.errors.get() >= MAX_ERRORS;
    }

    /** Counts one error; true for the one that reaches {@link #MAX_ERRORS}. */
    boolean countError() {
        return errors.incrementAndGet() == MAX_ERRORS;
    }

    /** Whether a read has been waiting for the client for longer than the idle limit. */
    boolean idle(long now) {
        long since = waitingSince;
        return since != 0 && now - since > idleLimitNanos && !isClosed();
    }

    /** Sends 421 4.4.2 and closes; returns false if that was already done. */
    boolean expire() {
        if (!expired.compareAndSet(false, true)) {
            return false;
        }
        expiredAt = System.nanoTime();
        try {
            OutputStream out = top.getOutputStream();
            out.write(IDLE_REPLY);
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
