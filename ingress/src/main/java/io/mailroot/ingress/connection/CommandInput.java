package io.mailroot.ingress.connection;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Predicate;

/**
 * What the SMTP session reads from its client: the client's bytes cut into whole command lines, each handed on only
 * once its CRLF has arrived. A line no command could take is answered here, once, after its CRLF, and never handed
 * on, so the session's own line reader (SubEthaSMTP's, which would answer mid-line or with texts of its own) only
 * ever sees well-formed lines of a verb it has a command for:
 * <ul>
 * <li>over 997 octets, or with a bare CR or LF (a framing error): {@code 500 5.5.2 Line too long} or
 * {@code 501 5.5.2 Bare CR or LF in command}, then the connection is closed;</li>
 * <li>a command line over 512 octets (RFC 5321 section 4.5.3.1.4; AUTH may have 997, RFC 4954 section 4):
 * {@code 500 5.5.2 Line too long};</li>
 * <li>invalid UTF-8: {@code 501 5.5.2 Invalid character encoding};</li>
 * <li>shorter than a verb: {@code 500 5.5.2 Syntax error}; a verb no command has: {@code 500 5.5.1 Command
 * unrecognized}.</li>
 * </ul>
 * The session goes on after the last three, and every reply is counted by {@link ReplyOutput}.
 *
 * <p>While a command runs, the lines it reads (an AUTH response) are continuation lines: only the framing rules
 * apply. During DATA the text passes as it is, up to and including its CRLF.CRLF and never beyond, so the
 * commands pipelined after it are framed again. Nothing is ever handed on past the current line or message, which
 * is why the reader above never holds client bytes this class has not judged.
 *
 * <p>Time: a command line must be complete within the connection time-out from its first byte (the idle limit
 * runs until that byte), and DATA must average {@link #MIN_DATA_BYTES_PER_SECOND} once the time-out has passed
 * since the 354; the {@link IdleWatchdog} ends a connection that misses either with {@code 421 4.4.2}. A byte
 * now and then no longer keeps a session alive.
 *
 * <p>A read that fails or times out ends the connection here: the session sees the end of the stream, never an
 * exception it would answer with a text of its own.
 */
public final class CommandInput extends InputStream {

    /** Longest line handed on, CRLF excluded: SubEthaSMTP's reader refuses lines of 998 characters or more. */
    static final int MAX_LINE = 997;
    /** RFC 5321 section 4.5.3.1.4, CRLF included. */
    static final int MAX_COMMAND_LINE = 512;
    /**
     * The slowest DATA accepted, on average, once the connection time-out has passed since the 354: one byte a
     * minute must not hold a session for ever, while a client on the slowest real link sends many times this.
     */
    static final long MIN_DATA_BYTES_PER_SECOND = 1024;
    /** Shortest verb (SubEthaSMTP looks commands up by their first four characters). */
    private static final int MIN_VERB = 4;

    private enum Mode { COMMAND, CONTINUATION, DATA }

    /** States of the search for the CRLF.CRLF that ends DATA, as {@code DataReader} reads it. */
    private enum DataState { LINE_START, DOT, DOT_CR, TEXT, CR }

    private final InputStream transport;
    private final OutputStream replies;
    private final Predicate<String> dispatchable;
    private final TrackedSocket connection;

    private final byte[] raw = new byte[8192];
    private int rawPos;
    private int rawEnd;
    /** The line being handed on, CRLF included. */
    private byte[] line = new byte[0];
    private int linePos;
    private volatile Mode mode = Mode.COMMAND;
    private DataState data = DataState.LINE_START;
    private long dataStart;
    private long dataBytes;
    private boolean ended;

    /**
     * @param replies where this answers the lines it refuses (the session's own reply stream)
     * @param dispatchable whether the session has a command for a line
     * @param connection where the deadlines are kept and which {@link #end()} closes
     */
    CommandInput(InputStream transport, OutputStream replies, Predicate<String> dispatchable, TrackedSocket connection) {
        this.transport = transport;
        this.replies = replies;
        this.dispatchable = dispatchable;
        this.connection = connection;
    }

    /** A command runs: lines read until {@link #commandEnded()} are its continuation lines. */
    public void commandStarted() {
        mode = Mode.CONTINUATION;
    }

    /** The message text follows: it is handed on as it is up to its CRLF.CRLF, then command lines again. */
    public void dataFollows() {
        data = DataState.LINE_START;
        dataStart = System.nanoTime();
        dataBytes = 0;
        mode = Mode.DATA;
    }

    /** The command has ended: the next line is a command line. */
    public void commandEnded() {
        mode = Mode.COMMAND;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (linePos < line.length) {
            return handOn(b, off, len);
        }
        if (mode == Mode.DATA) {
            return readData(b, off, len);
        }
        while (true) {
            Line next = nextLine();
            if (next == null) {
                return -1;
            }
            if (mode == Mode.COMMAND) {
                connection.trail().commandLine(next.text(), next.octets + 2);
            } else {
                connection.trail().bytesRead(next.octets + 2);
            }
            Refusal refusal = judge(next);
            if (refusal == null) {
                line = next.withCrLf();
                linePos = 0;
                return handOn(b, off, len);
            }
            replies.write((refusal.reply() + "\r\n").getBytes(StandardCharsets.US_ASCII));
            replies.flush();
            if (refusal.closes()) {
                end();
            }
            if (ended) {
                return -1;
            }
        }
    }

    /** The one reply to a line that is not handed on; {@code closes} for framing errors. */
    private record Refusal(String reply, boolean closes) {
    }

    private static final Refusal TOO_LONG = new Refusal("500 5.5.2 Line too long", true);
    private static final Refusal BARE_LINE_END = new Refusal("501 5.5.2 Bare CR or LF in command", true);
    private static final Refusal COMMAND_TOO_LONG = new Refusal("500 5.5.2 Line too long", false);
    private static final Refusal INVALID_ENCODING = new Refusal("501 5.5.2 Invalid character encoding", false);
    private static final Refusal SYNTAX = new Refusal("500 5.5.2 Syntax error", false);
    private static final Refusal UNRECOGNIZED = new Refusal("500 5.5.1 Command unrecognized", false);

    private int handOn(byte[] b, int off, int len) {
        int n = Math.min(len, line.length - linePos);
        System.arraycopy(line, linePos, b, off, n);
        linePos += n;
        return n;
    }

    /** Bytes of the message, up to and including the CRLF.CRLF that ends it. */
    private int readData(byte[] b, int off, int len) throws IOException {
        if (rawPos == rawEnd) {
            long now = System.nanoTime();
            long idle = now + connection.idleLimitNanos();
            long byRate = dataStart + connection.idleLimitNanos() + dataBytes * 1_000_000_000L / MIN_DATA_BYTES_PER_SECOND;
            if (idle - byRate < 0) {
                connection.deadline(idle, TrackedSocket.IDLE_REPLY);
            } else {
                connection.deadline(byRate, TrackedSocket.DATA_TOO_SLOW);
            }
            if (!fill()) {
                return -1;
            }
            dataBytes += rawEnd;
        }
        int n = 0;
        while (n < len && rawPos < rawEnd) {
            byte c = raw[rawPos++];
            b[off + n++] = c;
            if (endsData(c)) {
                // the DATA command still runs: what it might read next is not a command line
                mode = Mode.CONTINUATION;
                connection.noDeadline();
                break;
            }
        }
        connection.trail().bytesRead(n);
        return n;
    }

    private boolean endsData(byte c) {
        switch (data) {
            case LINE_START -> data = c == '.' ? DataState.DOT : c == '\r' ? DataState.CR : DataState.TEXT;
            case DOT -> data = c == '\r' ? DataState.DOT_CR : DataState.TEXT;
            case DOT_CR -> {
                if (c == '\n') {
                    return true;
                }
                data = c == '\r' ? DataState.CR : DataState.TEXT;
            }
            case TEXT -> data = c == '\r' ? DataState.CR : DataState.TEXT;
            case CR -> data = c == '\n' ? DataState.LINE_START : c == '\r' ? DataState.CR : DataState.TEXT;
        }
        return false;
    }

    /** The next line up to its CRLF (at most {@link #MAX_LINE} octets of it kept); null when the client has gone. */
    private Line nextLine() throws IOException {
        Line l = new Line();
        boolean cr = false;
        // Waiting for a line: the idle limit. From its first byte the whole line must come within the same time,
        // however the client spaces its bytes.
        connection.deadline(System.nanoTime() + connection.idleLimitNanos(), TrackedSocket.IDLE_REPLY);
        boolean first = true;
        while (true) {
            if (rawPos == rawEnd && !fill()) {
                return null;
            }
            if (first) {
                first = false;
                connection.deadline(System.nanoTime() + connection.idleLimitNanos(), TrackedSocket.LINE_TOO_SLOW);
            }
            byte c = raw[rawPos++];
            if (cr) {
                if (c == '\n') {
                    connection.noDeadline();
                    return l;
                }
                l.bare = true;
                l.add((byte) '\r');
                cr = c == '\r';
                if (!cr) {
                    l.add(c);
                }
            } else if (c == '\r') {
                cr = true;
            } else {
                if (c == '\n') {
                    l.bare = true;
                }
                l.add(c);
            }
        }
    }

    /** A line as read, without its CRLF: what is kept of it, how long it was, and whether it held a bare CR or LF. */
    private static final class Line {
        private byte[] bytes = new byte[128];
        private int length;
        private long octets;
        boolean bare;

        void add(byte c) {
            octets++;
            if (length < MAX_LINE) {
                if (length == bytes.length) {
                    bytes = Arrays.copyOf(bytes, Math.min(MAX_LINE, bytes.length * 2));
                }
                bytes[length++] = c;
            }
        }

        /** What is kept of the line, for the log: undecodable octets become U+FFFD. */
        String text() {
            return new String(bytes, 0, length, StandardCharsets.UTF_8);
        }

        byte[] withCrLf() {
            byte[] done = Arrays.copyOf(bytes, length + 2);
            done[length] = '\r';
            done[length + 1] = '\n';
            return done;
        }
    }

    /** The refusal for a line, or null to hand it on. */
    private Refusal judge(Line l) {
        if (l.octets > MAX_LINE) {
            return TOO_LONG;
        }
        if (l.bare) {
            return BARE_LINE_END;
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(l.bytes, 0, l.length)).toString();
        } catch (CharacterCodingException e) {
            return INVALID_ENCODING;
        }
        if (mode == Mode.COMMAND) {
            if (l.octets + 2 > MAX_COMMAND_LINE && !text.regionMatches(true, 0, "AUTH ", 0, 5)) {
                return COMMAND_TOO_LONG;
            }
            if (text.length() < MIN_VERB) {
                return SYNTAX;
            }
            if (!dispatchable.test(text)) {
                return UNRECOGNIZED;
            }
        }
        return null;
    }

    /** Reads more from the client; false when it has gone, the read failed or timed out (the connection is closed). */
    private boolean fill() throws IOException {
        if (ended) {
            return false;
        }
        int n;
        try {
            n = transport.read(raw, 0, raw.length);
        } catch (SocketTimeoutException e) {
            // SubEthaSMTP's read time-out is a backstop far behind the IdleWatchdog; answer it as the watchdog does
            try {
                replies.write(TrackedSocket.IDLE_REPLY);
                replies.flush();
            } catch (IOException ignored) {
                // closing anyway
            }
            end();
            return false;
        } catch (IOException e) {
            end();
            return false;
        }
        if (n < 0) {
            ended = true;
            return false;
        }
        rawPos = 0;
        rawEnd = n;
        return true;
    }

    private void end() {
        ended = true;
        connection.closeQuietly();
    }

    /**
     * What can be read now without judging another line: the rest of the line handed on, or message text read
     * ahead. Never more: a reader that reads on while bytes are available (BufferedInputStream does) would
     * otherwise pull in, and get answered, the line after the current command before that command has replied.
     */
    @Override
    public int available() {
        return mode == Mode.DATA ? rawEnd - rawPos : line.length - linePos;
    }

    /**
     * Throws away everything the client has sent that nothing has read yet, framed or not, read ahead or still in
     * the socket: STARTTLS drops what came in clear text before its 220 (CVE-2011-0411).
     *
     * @return how many octets were dropped
     */
    public long discardPending() throws IOException {
        long dropped = (long) (line.length - linePos) + (rawEnd - rawPos);
        linePos = line.length;
        rawPos = rawEnd;
        int n;
        while (!ended && (n = transport.available()) > 0) {
            long skipped = transport.skip(n);
            if (skipped <= 0) {
                break;
            }
            dropped += skipped;
        }
        return dropped;
    }

    @Override
    public void close() throws IOException {
        transport.close();
    }
}
