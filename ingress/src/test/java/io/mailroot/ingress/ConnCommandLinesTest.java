package io.mailroot.ingress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One reply per command line, and only once its CRLF has come: whatever bytes a line holds (a TLS ClientHello sent
 * in clear text, invalid UTF-8, control bytes), a pipelining client hears exactly as many replies as it sent lines,
 * in order.
 */
class ConnCommandLinesTest {

    @TempDir
    static Path dir;
    private static TxnHarness harness;
    private static int port;

    @BeforeAll
    static void start() throws Exception {
        harness = TxnHarness.withIngress("conn-lines", dir, "relay: { allow: [] }");
        port = harness.port();
    }

    @AfterAll
    static void stop() {
        harness.close();
    }

    /** The start of a TLS 1.2 ClientHello, then random bytes: binary, 8-bit, but neither CR nor LF. */
    private static byte[] clientHello() {
        byte[] hello = new byte[300];
        new Random(7).nextBytes(hello);
        byte[] head = {0x16, 0x03, 0x01, 0x01, 0x27, 0x01, 0x00, 0x01, 0x23, 0x03, 0x03};
        System.arraycopy(head, 0, hello, 0, head.length);
        for (int i = 0; i < hello.length; i++) {
            if (hello[i] == '\r' || hello[i] == '\n') {
                hello[i] = 0x7f;
            }
        }
        return hello;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            b.writeBytes(p);
        }
        return b.toByteArray();
    }

    /** A greeted connection; replies are read line by line (one-line replies only after EHLO). */
    private static final class Client implements AutoCloseable {
        final Socket socket;
        final BufferedReader in;
        final OutputStream out;

        Client() throws IOException {
            socket = new Socket("127.0.0.1", port);
            socket.setSoTimeout(30_000);
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
            out = socket.getOutputStream();
            assertTrue(in.readLine().startsWith("220 "));
            send(ascii("HELO client.test\r\n"));
            assertEquals("250 relay.test", in.readLine());
        }

        void send(byte[] bytes) throws IOException {
            out.write(bytes);
            out.flush();
        }

        /** Every line the server says from now to its close. */
        List<String> rest() throws IOException {
            List<String> lines = new ArrayList<>();
            String l;
            while ((l = in.readLine()) != null) {
                lines.add(l);
            }
            return lines;
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    @Test
    void aClientHelloInClearTextIsOneBadLineAnsweredAtItsCrLf() throws Exception {
        try (Client c = new Client()) {
            c.send(clientHello());
            // nothing may be said yet: the next reply must be to the line the CRLF below ends, then the NOOP's
            c.send(ascii("\r\nNOOP\r\nQUIT\r\n"));
            assertEquals(List.of("501 5.5.2 Invalid character encoding", "250 2.0.0 Ok", "221 2.0.0 Bye"), c.rest());
        }
    }

    @Test
    void binaryBytesThatAreValidUtf8AreOneUnrecognizedCommand() throws Exception {
        try (Client c = new Client()) {
            c.send(new byte[] {0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00});
            c.send(ascii("\r\nNOOP\r\nQUIT\r\n"));
            assertEquals(List.of("500 5.5.1 Command unrecognized", "250 2.0.0 Ok", "221 2.0.0 Bye"), c.rest());
        }
    }

    @Test
    void pipelinedBadLinesGetOneReplyEachInOrder() throws Exception {
        try (Client c = new Client()) {
            c.send(concat(ascii("NOOP \u00ff\u00fe\r\n"), clientHello(), ascii("\r\nRSET\r\n\u0000\u0001\u0002\u0003\r\nab\r\n"),
                    ascii("NOOP " + "x".repeat(600) + "\r\nNOOP\r\nQUIT\r\n")));
            assertEquals(List.of("501 5.5.2 Invalid character encoding", "501 5.5.2 Invalid character encoding",
                    "250 2.0.0 Ok", "500 5.5.1 Command unrecognized", "500 5.5.2 Syntax error", "500 5.5.2 Line too long",
                    "250 2.0.0 Ok", "221 2.0.0 Bye"), c.rest());
        }
    }

    @Test
    void heloIsOurs() throws Exception {
        try (Client c = new Client()) {
            c.send(ascii("HELO\r\nQUIT\r\n"));
            assertEquals(List.of("501 5.5.4 Syntax: HELO hostname", "221 2.0.0 Bye"), c.rest());
        }
    }

    @Test
    void aLineTooLongForAnyReaderIsAnsweredAtItsEndAndClosed() throws Exception {
        try (Client c = new Client()) {
            // 3000 octets without a CRLF: read and dropped, never answered halfway
            c.send(ascii("NOOP " + "y".repeat(3000)));
            c.send(ascii("\r\nNOOP\r\n"));
            assertEquals(List.of("500 5.5.2 Line too long"), c.rest());
        }
        try (Client c = new Client()) {
            c.send(concat(clientHello(), ascii("\n"), clientHello(), ascii("\r\nNOOP\r\n")));
            assertEquals(List.of("501 5.5.2 Bare CR or LF in command"), c.rest(), "a bare LF is a framing error");
        }
    }
}
