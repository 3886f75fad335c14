package io.mailroot.ingress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No reply carries client bytes that break the protocol: whatever a MAIL or RCPT line holds (NUL, CR, escape
 * sequences, 8-bit text, 600 octets), every line the server sends is visible ASCII and at most 512 octets with its
 * CRLF (RFC 5321 section 4.5.3.1.5).
 */
class TxnReplyTextTest {

    private static final String MAIL = "MAIL FROM:<alice@client.test>";

    @TempDir
    static Path dir;
    private static TxnHarness harness;
    private static int port;

    @BeforeAll
    static void start() throws Exception {
        harness = TxnHarness.withIngress("txn-reply-text", dir, "relay: { allow: [] }");
        port = harness.port();
    }

    @AfterAll
    static void stop() {
        harness.close();
    }

    /** Sends EHLO, the lines given (UTF-8 unless raw), QUIT, and returns every line the server said, up to its close. */
    private static List<byte[]> conversation(byte[] lines) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(30_000);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes("EHLO client.test\r\n".getBytes(StandardCharsets.US_ASCII));
            out.writeBytes(lines);
            out.writeBytes("QUIT\r\n".getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().write(out.toByteArray());
            s.getOutputStream().flush();
            byte[] said = readToEnd(s.getInputStream());
            List<byte[]> replies = new ArrayList<>();
            int start = 0;
            for (int i = 0; i + 1 < said.length; i++) {
                if (said[i] == '\r' && said[i + 1] == '\n') {
                    replies.add(java.util.Arrays.copyOfRange(said, start, i + 2));
                    start = i + 2;
                    i++;
                }
            }
            assertEquals(said.length, start, "the server's output ends with a whole line");
            return replies;
        }
    }

    private static byte[] readToEnd(InputStream in) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buffer = new byte[4096];
        try {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                all.write(buffer, 0, n);
            }
        } catch (java.net.SocketException e) {
            // reset after the server closed with our unread bytes pending: what it said before is all there is
        }
        return all.toByteArray();
    }

    private static void assertCleanReplies(String what, byte[] lines) throws IOException {
        List<byte[]> replies = conversation(lines);
        assertTrue(replies.size() >= 3, what + ": greeting, EHLO and at least one more reply: " + replies.size());
        for (byte[] line : replies) {
            String shown = new String(line, StandardCharsets.ISO_8859_1).replace("\r\n", "");
            assertTrue(line.length <= 512, what + ": reply of " + line.length + " octets: " + shown);
            for (int i = 0; i < line.length - 2; i++) {
                int b = line[i] & 0xFF;
                assertTrue(b >= 0x20 && b <= 0x7E, what + ": octet 0x" + Integer.toHexString(b) + " at " + i + " in " + shown);
            }
        }
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void mailParametersAreNeverEchoedRaw() throws Exception {
        assertCleanReplies("duplicate NUL", utf8(MAIL + " BODY=7BIT \0=1 \0=2\r\n"));
        assertCleanReplies("unknown with NUL", utf8(MAIL + " X\0Y=1\r\n"));
        assertCleanReplies("escape sequence", utf8(MAIL + " \u001b[2J\u001b[31m=1\r\n"));
        assertCleanReplies("long unknown", utf8(MAIL + " " + "K".repeat(440) + "=1\r\n"));
        assertCleanReplies("600 octets", utf8(MAIL + " SIZE=1 " + "P".repeat(600) + "\r\n"));
        assertCleanReplies("UTF-8 unknown", utf8(MAIL + " \u00e9T\u00e9=1\r\n"));
        assertCleanReplies("UTF-8 duplicate", utf8(MAIL + " \u00e9=1 \u00e9=2\r\n"));
        assertCleanReplies("bare CR", utf8(MAIL + " A\rB=1\r\n"));
        byte[] invalid = (MAIL + " X=1 \u0080\u00ff=1\r\n").getBytes(StandardCharsets.ISO_8859_1);
        assertCleanReplies("invalid UTF-8", invalid);
        assertCleanReplies("NUL in the path", utf8("MAIL FROM:<a\0b@client.test>\r\n"));
        assertCleanReplies("DEL in ENVID", utf8(MAIL + " ENVID=a\u007fb\r\n"));
    }

    @Test
    void rcptParametersAreNeverEchoedRaw() throws Exception {
        assertCleanReplies("duplicate NUL", utf8(MAIL + "\r\nRCPT TO:<bob@local.test> \0\u00e9=1 \0\u00e9=2\r\n"));
        assertCleanReplies("unknown", utf8(MAIL + "\r\nRCPT TO:<bob@local.test> \u001b]0;pwned\u0007=1\r\n"));
        assertCleanReplies("NOTIFY", utf8(MAIL + "\r\nRCPT TO:<bob@local.test> NOTIFY=\0\r\n"));
        assertCleanReplies("relay", utf8(MAIL + "\r\nRCPT TO:<" + "b".repeat(60) + "@" + "r".repeat(60) + ".test>\r\n"));
        assertCleanReplies("greeting names", utf8("HELO \0\u001b\r\nEHLO \u00e9\0\r\n"));
    }
}
