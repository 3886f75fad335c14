package io.mailroot.ingress.connection;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * The last stretch of every reply to an SMTP client: gives the replies SubEthaSMTP makes itself the enhanced status
 * codes we advertise (ENHANCEDSTATUSCODES, RFC 2034), and ends a connection that keeps sending what is not SMTP.
 *
 * <p>Why here, on the way out. Those replies come from code we cannot replace: {@code CommandHandler} answers an
 * unknown verb with {@code 500 Error: command not implemented}, and {@code Session.run} answers the exceptions of
 * its line reader (a line of 998 octets or more, a bare CR or LF, invalid UTF-8) and then closes. Rewriting their
 * fixed texts is one table and leaves SubEthaSMTP's behaviour (what it reads, when it closes) untouched. The
 * alternative, an input filter that cuts bad lines before SubEthaSMTP's reader sees them, would have to know where
 * commands end and DATA, BDAT or an AUTH exchange begins in bytes read ahead, i.e. run a second SMTP state machine.
 *
 * <p>What it relies on: {@code Session.sendResponse} prints each reply and flushes, which reaches this stream as one
 * {@code write} of whole CRLF-ended lines (PrintWriter, BufferedWriter and the encoder buffer 8 KiB). A write that
 * does not end in CRLF is passed on untouched. The session reads and writes through the socket on top: this
 * stream sits on the {@link TrackedSocket} until TLS starts, then on the {@link TlsSessionSocket} (the TrackedSocket
 * then carries ciphertext, and its stream passes it through untouched).
 *
 * <p>Every reply with code 500, 501, 502, 504 or 555 (a command or parameter we did not understand or do not do)
 * counts against {@link TrackedSocket#MAX_ERRORS} for the whole connection, STARTTLS or not; at the limit the
 * client hears {@code 421 4.7.0} after the reply and the connection is closed, as with Postfix's
 * {@code smtpd_hard_error_limit}, and {@code CommandLineLimit} runs no command SubEthaSMTP had already read. 503
 * (bad sequence) is not counted: a pipelining client whose MAIL was refused hears one per RCPT.
 */
final class StockReplies extends FilterOutputStream {

    /** SubEthaSMTP 7.2's own replies that can still reach a client of ours, and what we say instead. */
    private static final Map<String, String> REWRITTEN = Map.of(
            "500 Error: command not implemented", "500 5.5.1 Command unrecognized",
            // a line shorter than four characters, an empty one included
            "500 Error: bad syntax", "500 5.5.2 Syntax error",
            "501 Input line length is too long!", "500 5.5.2 Line too long",
            "501 Syntax error: invalid character encoding.", "501 5.5.2 Invalid character encoding",
            // backstops behind IdleWatchdog and ConnectionGate, which answer with codes themselves
            "421 Timeout waiting for data from client.", "421 4.4.2 Idle timeout, closing connection",
            "421 Too many connections, try again later", "421 4.3.2 Too many connections, try again later");
    /** Followed by the position and "CR and LF must be CRLF paired." */
    private static final String BARE_LINE_END = "501 Syntax error at character position ";
    static final String TOO_MANY_ERRORS = "421 4.7.0 Too many errors, closing connection";

    private final TrackedSocket connection;
    private final BooleanSupplier active;
    private final Runnable close;

    /**
     * @param connection where the connection's errors are counted
     * @param active whether what passes now is clear-text replies
     * @param close ends the connection once the error limit is reached
     */
    StockReplies(OutputStream out, TrackedSocket connection, BooleanSupplier active, Runnable close) {
        super(out);
        this.connection = connection;
        this.active = active;
        this.close = close;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        if (len < 2 || b[off + len - 2] != '\r' || b[off + len - 1] != '\n' || !active.getAsBoolean()) {
            out.write(b, off, len);
            return;
        }
        String text = new String(b, off, len - 2, StandardCharsets.ISO_8859_1);
        StringBuilder replies = new StringBuilder(len + 64);
        boolean changed = false;
        boolean tooMany = false;
        for (String line : text.split("\r\n", -1)) {
            String said = rewritten(line);
            changed |= !said.equals(line);
            replies.append(said).append("\r\n");
            if (counted(said) && connection.countError()) {
                replies.append(TOO_MANY_ERRORS).append("\r\n");
                tooMany = true;
            }
        }
        if (changed || tooMany) {
            out.write(replies.toString().getBytes(StandardCharsets.ISO_8859_1));
        } else {
            out.write(b, off, len);
        }
        if (tooMany) {
            out.flush();
            close.run();
        }
    }

    static String rewritten(String line) {
        String instead = REWRITTEN.get(line);
        if (instead != null) {
            return instead;
        }
        return line.startsWith(BARE_LINE_END) ? "501 5.5.2 Bare CR or LF in command" : line;
    }

    /** The last line of a reply saying the client sent what we do not understand or do not do. */
    private static boolean counted(String line) {
        if (line.length() < 4 || line.charAt(3) != ' ') {
            return false;
        }
        String code = line.substring(0, 3);
        return code.equals("500") || code.equals("501") || code.equals("502") || code.equals("504") || code.equals("555");
    }
}
