package io.mailroot.ingress.log;

import io.mailroot.ingress.connection.ProtocolTrail;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * One connection's protocol log: pairs each command line with the last line of its reply and hands the entry to the
 * {@link ProtocolLog}. A 3xx reply (354 to DATA, 334 to AUTH) is not the end: the entry waits for the reply after the
 * message or the exchange, so DATA is one entry carrying the message's octets and its 250. A final reply with no
 * command before it is the connection's own: the greeting ({@code CONNECT}) or a 421 sent before closing
 * ({@code CLOSE}).
 *
 * <p>Calls come from the session's thread and, for the idle watchdog's 421, from another; they are serialised here.
 */
final class SessionTrail implements ProtocolTrail {

    /** Enough of a reply line to read its code and a queue id. */
    private static final int KEPT_REPLY = 160;
    private static final String QUEUED_AS = "queued as ";

    private final ProtocolLog log;
    private final String clientIp;
    private final String serverIp;
    private final int serverPort;
    private final long connectedAt = System.nanoTime();

    private String helo;
    private boolean greeted;
    /** The command waiting for its reply, or null. */
    private String verb;
    private String parameters;
    private long started;
    private long in;
    private long out;

    private final byte[] reply = new byte[KEPT_REPLY];
    private int replyLength;

    SessionTrail(ProtocolLog log, String clientIp, String serverIp, int serverPort) {
        this.log = log;
        this.clientIp = clientIp;
        this.serverIp = serverIp;
        this.serverPort = serverPort;
    }

    @Override
    public synchronized void commandLine(String line, long octets) {
        if (verb != null) {
            // a command that never replied (it cannot happen today: every command answers before the next is read)
            finish(0, null);
        }
        String trimmed = line.strip();
        int space = trimmed.indexOf(' ');
        verb = (space < 0 ? trimmed : trimmed.substring(0, space)).toUpperCase(Locale.ROOT);
        String argument = space < 0 ? null : trimmed.substring(space + 1).strip();
        if (verb.equals("AUTH") && argument != null) {
            // the initial response is a credential: only the mechanism is logged
            int end = argument.indexOf(' ');
            argument = end < 0 ? argument : argument.substring(0, end);
        }
        parameters = argument;
        started = System.nanoTime();
        in += octets;
    }

    @Override
    public synchronized void bytesRead(long octets) {
        in += octets;
    }

    @Override
    public synchronized void replied(byte[] b, int off, int len) {
        for (int i = off; i < off + len; i++) {
            byte c = b[i];
            out++;
            if (replyLength < reply.length) {
                reply[replyLength++] = c;
            }
            if (c == '\n') {
                replyLine();
                replyLength = 0;
            }
        }
    }

    /** A whole reply line is in {@link #reply}: the last line of a reply ends the entry unless it is a 3xx. */
    private void replyLine() {
        if (replyLength > 3 && reply[3] == '-') {
            return;
        }
        int code = code();
        if (verb != null && code >= 300 && code < 400) {
            return;
        }
        String text = new String(reply, 0, replyLength, StandardCharsets.US_ASCII).strip();
        if (verb == null) {
            verb = greeted ? "CLOSE" : "CONNECT";
            started = greeted ? System.nanoTime() : connectedAt;
        }
        greeted = true;
        if ((verb.equals("HELO") || verb.equals("EHLO")) && code / 100 == 2 && parameters != null) {
            helo = parameters.split(" ", 2)[0];
        }
        int queued = text.indexOf(QUEUED_AS);
        finish(code, verb.equals("DATA") && queued >= 0 ? text.substring(queued + QUEUED_AS.length()).strip() : parameters);
    }

    private int code() {
        if (replyLength < 3) {
            return 0;
        }
        int code = 0;
        for (int i = 0; i < 3; i++) {
            if (reply[i] < '0' || reply[i] > '9') {
                return 0;
            }
            code = code * 10 + reply[i] - '0';
        }
        return code;
    }

    private void finish(int status, String params) {
        long taken = Math.max(0, (System.nanoTime() - started) / 1_000_000);
        log.offer(new LogEntry(log.now(), clientIp, helo, log.service(), log.computer(), serverIp, serverPort, verb,
                params, status, out, in, taken));
        verb = null;
        parameters = null;
        in = 0;
        out = 0;
        Arrays.fill(reply, (byte) 0);
    }
}
