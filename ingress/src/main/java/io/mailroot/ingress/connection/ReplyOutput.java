package io.mailroot.ingress.connection;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The session's replies on their way to the client: counted, never rewritten. Every reply with code 500, 501, 502,
 * 504 or 555 (a command or parameter we did not understand or do not do) counts against
 * {@link TrackedSocket#MAX_ERRORS} for the whole connection, STARTTLS or not; at the limit the client hears
 * {@code 421 4.7.0} after the reply and the connection is closed, as with Postfix's {@code smtpd_hard_error_limit}.
 * 503 (bad sequence) is not counted: a pipelining client whose MAIL was refused hears one per RCPT.
 *
 * <p>Replies are read by their first four octets at each line start, whatever way the writes cut them.
 */
final class ReplyOutput extends FilterOutputStream {

    static final String TOO_MANY_ERRORS = "421 4.7.0 Too many errors, closing connection";
    /** What SubEthaSMTP would say itself to a session it refuses before asking our gate (too many sessions). */
    static final byte[] TOO_MANY_CONNECTIONS = "421 4.3.2 Too many connections, try again later\r\n"
            .getBytes(StandardCharsets.US_ASCII);

    private final TrackedSocket connection;
    private final SessionSocket session;
    private final byte[] head = new byte[4];
    private int column;

    ReplyOutput(OutputStream out, TrackedSocket connection, SessionSocket session) {
        super(out);
        this.connection = connection;
        this.session = session;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
        if (!session.admitted()) {
            // SubEthaSMTP answers a session over its own connection limit before any handler of ours is asked
            connection.trail().replied(TOO_MANY_CONNECTIONS, 0, TOO_MANY_CONNECTIONS.length);
            out.write(TOO_MANY_CONNECTIONS);
            out.flush();
            connection.closeQuietly();
            return;
        }
        boolean limit = false;
        for (int i = off; i < off + len; i++) {
            byte c = b[i];
            if (column < head.length) {
                head[column] = c;
            }
            column++;
            if (c == '\n') {
                limit |= column > head.length && counted() && connection.countError();
                column = 0;
            }
        }
        // told before the write: a reply to a client that has gone is still an entry of the log
        connection.trail().replied(b, off, len);
        out.write(b, off, len);
        if (limit) {
            byte[] closing = (TOO_MANY_ERRORS + "\r\n").getBytes(StandardCharsets.US_ASCII);
            connection.trail().replied(closing, 0, closing.length);
            out.write(closing);
            out.flush();
            connection.closeQuietly();
        }
    }

    /** The last line of a reply saying the client sent what we do not understand or do not do. */
    private boolean counted() {
        if (head[3] != ' ' || head[0] != '5') {
            return false;
        }
        String code = new String(head, 0, 3, StandardCharsets.US_ASCII);
        return code.equals("500") || code.equals("501") || code.equals("502") || code.equals("504") || code.equals("555");
    }
}
