package io.mailroot.ingress;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Reads the text of DATA up to the one end RFC 5321 knows: CRLF "." CRLF. A lone CR or LF is never a line end here,
 * so {@code \n.\n}, {@code \r.\r}, {@code \r\n.\n} and friends are just bytes of the message (and make it refused),
 * never its end: what follows them cannot be smuggled in as a second message. Leading dots are unstuffed. The text
 * is stored only up to the size limit; past it the reader keeps reading to the end without keeping anything, so the
 * client hears a clean 552 and the session goes on.
 */
final class DataReader {

    /** Longest text line RFC 5321 section 4.5.3.1.6 allows, CRLF included. */
    static final int MAX_LINE = 1000;

    private static final int CHUNK = 8192;

    private enum State { LINE_START, DOT, DOT_CR, TEXT, CR, END }

    /**
     * What came in.
     *
     * @param bytes the message as received (unstuffed), at most the limit
     * @param size how many bytes the whole message had, including what was not kept
     * @param bareLineEnd a CR or LF that was not part of a CRLF
     * @param longLine a line over {@link #MAX_LINE} octets
     */
    record Body(byte[] bytes, long size, boolean bareLineEnd, boolean longLine) {
        boolean truncated() {
            return size > bytes.length;
        }
    }

    private final int limit;
    private byte[] kept = new byte[CHUNK];
    private int length;
    private long size;
    private int lineLength;
    private boolean bareLineEnd;
    private boolean longLine;
    private State state = State.LINE_START;

    private DataReader(int limit) {
        this.limit = limit;
    }

    /**
     * Reads from just after the 354 reply to just after the terminating CRLF.CRLF, never further, so pipelined
     * commands after the message stay in the stream.
     *
     * @param limit how many bytes to keep at most
     * @throws EOFException when the client goes away before the end of the message
     */
    static Body read(InputStream in, int limit) throws IOException {
        DataReader reader = new DataReader(limit);
        if (in.markSupported()) {
            reader.readChunks(in);
        } else {
            int b;
            while (reader.state != State.END && (b = in.read()) != -1) {
                reader.accept((byte) b);
            }
            if (reader.state != State.END) {
                throw new EOFException("connection closed in DATA");
            }
        }
        return new Body(Arrays.copyOf(reader.kept, reader.length), reader.size, reader.bareLineEnd, reader.longLine);
    }

    private void readChunks(InputStream in) throws IOException {
        byte[] buffer = new byte[CHUNK];
        while (true) {
            in.mark(CHUNK);
            int n = in.read(buffer, 0, CHUNK);
            if (n < 0) {
                throw new EOFException("connection closed in DATA");
            }
            for (int i = 0; i < n; i++) {
                accept(buffer[i]);
                if (state == State.END) {
                    // give back what the client sent after the message: its next commands
                    in.reset();
                    in.skipNBytes(i + 1);
                    return;
                }
            }
        }
    }

    private void accept(byte b) {
        switch (state) {
            case LINE_START -> {
                if (b == '.') {
                    state = State.DOT;
                } else {
                    text(b);
                }
            }
            case DOT -> {
                if (b == '\r') {
                    state = State.DOT_CR;
                } else {
                    // the dot was stuffing; drop it
                    text(b);
                }
            }
            case DOT_CR -> {
                if (b == '\n') {
                    state = State.END;
                } else {
                    bareLineEnd = true;
                    keep((byte) '\r');
                    state = State.TEXT;
                    text(b);
                }
            }
            case TEXT -> text(b);
            case CR -> {
                if (b == '\n') {
                    keep((byte) '\r');
                    keep((byte) '\n');
                    if (lineLength + 2 > MAX_LINE) {
                        longLine = true;
                    }
                    lineLength = 0;
                    state = State.LINE_START;
                } else {
                    bareLineEnd = true;
                    keep((byte) '\r');
                    lineLength++;
                    state = State.TEXT;
                    text(b);
                }
            }
            case END -> throw new IllegalStateException("read past the end of DATA");
        }
    }

    /** A byte inside a line (a lone LF included: it is not a line end). */
    private void text(byte b) {
        if (b == '\r') {
            state = State.CR;
            return;
        }
        if (b == '\n') {
            bareLineEnd = true;
        }
        keep(b);
        lineLength++;
        state = State.TEXT;
    }

    private void keep(byte b) {
        size++;
        if (length < limit) {
            if (length == kept.length) {
                kept = Arrays.copyOf(kept, (int) Math.min(limit, 2L * kept.length));
            }
            kept[length++] = b;
        }
    }
}
