package io.mailroot.deliverer.smtp;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Reads replies off the wire (RFC 5321 4.2): "250-..." continues a reply, "250 ..." ends it; lines are bounded. */
final class ReplyReader {

    private static final int MAX_LINE = 8192;

    private final InputStream in;
    private final String host;

    ReplyReader(InputStream in, String host) {
        this.in = in;
        this.host = host;
    }

    /** One reply, all its lines. */
    SmtpReply read() throws IOException {
        List<String> lines = new ArrayList<>();
        while (true) {
            String line = readLine();
            if (line.length() < 3) {
                throw new IOException("malformed reply from " + host + ": '" + line + "'");
            }
            int code;
            try {
                code = Integer.parseInt(line.substring(0, 3));
            } catch (NumberFormatException e) {
                throw new IOException("malformed reply from " + host + ": '" + line + "'");
            }
            lines.add(line.length() > 4 ? line.substring(4) : "");
            if (line.length() == 3 || line.charAt(3) != '-') {
                return new SmtpReply(code, lines);
            }
        }
    }

    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(128);
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("connection closed by " + host);
            }
            if (b == '\n') {
                byte[] bytes = line.toByteArray();
                int len = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(Arrays.copyOf(bytes, len), StandardCharsets.UTF_8);
            }
            if (line.size() >= MAX_LINE) {
                throw new IOException("reply line from " + host + " longer than " + MAX_LINE + " bytes");
            }
            line.write(b);
        }
    }
}
