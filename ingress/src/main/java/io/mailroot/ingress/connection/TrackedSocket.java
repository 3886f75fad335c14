package io.mailroot.ingress.connection;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An accepted client connection that knows how long it has been waiting for the client, so that the
 * {@link IdleWatchdog} can close an idle one with {@code 421 4.4.2}. SubEthaSMTP's own read time-out answers
 * without an enhanced status code, so it is kept only as a backstop far behind the watchdog.
 *
 * <p>After STARTTLS (or from the start, on an implicit-TLS port) the SMTP session talks through an SSLSocket
 * layered over this one; {@link #layeredUnder(Socket)} records it so that the watchdog's 421 is sent encrypted.
 */
public final class TrackedSocket extends Socket {

    private static final byte[] IDLE_REPLY = "421 4.4.2 Idle timeout, closing connection\r\n".getBytes(StandardCharsets.US_ASCII);

    private final long idleLimitNanos;
    private volatile long waitingSince;
    private volatile Socket top = this;
    private final AtomicBoolean expired = new AtomicBoolean();
    private volatile long expiredAt;
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

    /** The socket the SMTP session now reads and writes through (an SSLSocket over this one after STARTTLS). */
    public void layeredUnder(Socket socket) {
        top = socket;
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
