package io.mailroot.deliverer.smtp;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * The wire of one SMTP connection: command lines out, replies in, the message as DATA. It owns the socket (which
 * STARTTLS may replace) and keeps it in the client's set of live sockets, so shutdown can close it from elsewhere.
 */
final class SmtpConnection {

    private static final byte[] CRLF = {'\r', '\n'};

    private final String host;
    private final Set<Socket> live;
    private volatile Socket socket;
    private ReplyReader replies;
    private OutputStream out;

    SmtpConnection(String host, Socket socket, Set<Socket> live) throws IOException {
        this.host = host;
        this.live = live;
        use(socket);
    }

    String host() {
        return host;
    }

    Socket socket() {
        return socket;
    }

    /** Carries on over {@code upgraded} (the TLS socket layered on the old one). */
    void use(Socket upgraded) throws IOException {
        Socket old = socket;
        live.add(upgraded);
        if (old != null && old != upgraded) {
            live.remove(old);
        }
        socket = upgraded;
        replies = new ReplyReader(new BufferedInputStream(upgraded.getInputStream(), 16 * 1024), host);
        out = new BufferedOutputStream(upgraded.getOutputStream(), 64 * 1024);
    }

    /** Sends one command and waits for its reply. */
    SmtpReply command(String line) throws IOException {
        writeLine(line);
        flush();
        return read();
    }

    /** Queues a command line; pipelined commands go out together at {@link #flush()}. */
    void writeLine(String line) throws IOException {
        out.write(line.getBytes(StandardCharsets.UTF_8));
        out.write(CRLF);
    }

    void flush() throws IOException {
        out.flush();
    }

    SmtpReply read() throws IOException {
        return replies.read();
    }

    /**
     * The message as it is, with a '.' doubled at the start of each line (RFC 5321 4.5.2) and a CRLF added
     * if it does not end with one, then the terminating dot.
     */
    void writeData(byte[] message) throws IOException {
        int from = 0;
        boolean lineStart = true;
        for (int i = 0; i < message.length; i++) {
            if (lineStart && message[i] == '.') {
                out.write(message, from, i - from);
                out.write('.');
                from = i;
            }
            lineStart = message[i] == '\n';
        }
        out.write(message, from, message.length - from);
        int n = message.length;
        if (n >= 2 && message[n - 2] == '\r' && message[n - 1] == '\n') {
            // already ends with CRLF
        } else if (n >= 1 && message[n - 1] == '\r') {
            out.write('\n');
        } else {
            out.write(CRLF);
        }
        out.write(new byte[] {'.', '\r', '\n'});
    }

    /** QUIT, without waiting long for the answer or minding a failure. */
    void sayGoodbye() {
        try {
            socket.setSoTimeout(Math.min(socket.getSoTimeout() == 0 ? 10_000 : socket.getSoTimeout(), 10_000));
            command("QUIT");
        } catch (IOException ignored) {
            // the message is already handed over; a lost goodbye changes nothing
        }
    }

    boolean closed() {
        return socket.isClosed();
    }

    /** Closes the socket at once; safe from another thread, which is how a stuck read is abandoned on shutdown. */
    void close() {
        Socket s = socket;
        live.remove(s);
        try {
            s.close();
        } catch (IOException ignored) {
            // closing a broken socket can fail; it is gone either way
        }
    }
}
