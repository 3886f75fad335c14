package io.mailroot.ingress.connection;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.util.Optional;
import java.util.function.Predicate;
import javax.net.ssl.SSLSocket;

/**
 * The socket an SMTP session reads and writes through: its input is the client's bytes framed by
 * {@link CommandInput}, its output the replies counted by {@link ReplyOutput}, over the {@link TrackedSocket}
 * itself or, once TLS is on, over the TLS socket layered on it. The session keeps this one socket across
 * STARTTLS ({@link #startTls}), so the framing and counting stay on the clear-text side without a wrapper around
 * the JDK's SSLSocket.
 *
 * <p>Only what SubEthaSMTP's session uses is passed on: the streams, time-out, close and the addresses. It is not
 * an SSLSocket, so a session on an implicit-TLS port is marked as TLS by {@link SessionStart}.
 */
public final class SessionSocket extends Socket {

    private final TrackedSocket connection;
    private final Predicate<String> dispatchable;
    private volatile Socket transport;
    private volatile boolean admitted;
    private CommandInput input;
    private ReplyOutput output;

    /**
     * @param transport {@code connection}, or a TLS socket layered over it (implicit TLS)
     * @param dispatchable whether the session has a command for a command line
     */
    public SessionSocket(TrackedSocket connection, Socket transport, Predicate<String> dispatchable) {
        this.connection = connection;
        this.transport = transport;
        this.dispatchable = dispatchable;
        connection.servedBy(this);
    }

    /** The session socket under an SMTP session's socket, or empty for one not made by our listener. */
    public static Optional<SessionSocket> of(Socket sessionSocket) {
        return sessionSocket instanceof SessionSocket s ? Optional.of(s) : Optional.empty();
    }

    /** The accepted TCP connection under it. */
    public TrackedSocket connection() {
        return connection;
    }

    /** Whether the session speaks TLS. */
    public boolean tls() {
        return transport instanceof SSLSocket;
    }

    /** From now on the session talks through {@code tls}; what was read ahead in clear text is dropped. */
    public synchronized void startTls(SSLSocket tls) {
        transport = tls;
        input = null;
        output = null;
    }

    /** The framing of what the session reads now; empty before the session has asked for its stream. */
    public synchronized Optional<CommandInput> input() {
        return Optional.ofNullable(input);
    }

    /** The session's handler was asked to admit it: whatever is written now is ours. */
    void admit() {
        admitted = true;
    }

    boolean admitted() {
        return admitted;
    }

    @Override
    public synchronized InputStream getInputStream() throws IOException {
        if (input == null) {
            input = new CommandInput(transport.getInputStream(), getOutputStream(), dispatchable, connection);
        }
        return input;
    }

    @Override
    public synchronized OutputStream getOutputStream() throws IOException {
        if (output == null) {
            output = new ReplyOutput(transport.getOutputStream(), connection, this);
        }
        return output;
    }

    @Override
    public void close() throws IOException {
        try {
            if (transport != connection) {
                transport.close();
            }
        } finally {
            connection.close();
        }
    }

    @Override
    public void setSoTimeout(int timeout) throws SocketException {
        transport.setSoTimeout(timeout);
    }

    @Override
    public int getSoTimeout() throws SocketException {
        return transport.getSoTimeout();
    }

    @Override
    public boolean isClosed() {
        return connection.isClosed();
    }

    @Override
    public boolean isBound() {
        return connection.isBound();
    }

    @Override
    public boolean isConnected() {
        return connection.isConnected();
    }

    @Override
    public InetAddress getInetAddress() {
        return connection.getInetAddress();
    }

    @Override
    public int getPort() {
        return connection.getPort();
    }

    @Override
    public InetAddress getLocalAddress() {
        return connection.getLocalAddress();
    }

    @Override
    public int getLocalPort() {
        return connection.getLocalPort();
    }

    @Override
    public SocketAddress getRemoteSocketAddress() {
        return connection.getRemoteSocketAddress();
    }

    @Override
    public SocketAddress getLocalSocketAddress() {
        return connection.getLocalSocketAddress();
    }

    @Override
    public void setTcpNoDelay(boolean on) throws SocketException {
        connection.setTcpNoDelay(on);
    }

    @Override
    public boolean getTcpNoDelay() throws SocketException {
        return connection.getTcpNoDelay();
    }

    @Override
    public String toString() {
        return "SessionSocket[" + transport + "]";
    }
}
