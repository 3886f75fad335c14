package io.mailroot.ingress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.testkit.SmtpTestClient;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A byte now and then does not keep a session: a command line must be whole within the connection time-out (1 s
 * here) from its first byte, and DATA must keep its minimum rate once that time has passed, else 421 4.4.2.
 */
class ConnTrickleTest {

    private static final Duration GIVE_UP = Duration.ofSeconds(10);

    @TempDir
    static Path dir;
    private static TxnHarness harness;
    private static int port;

    @BeforeAll
    static void start() throws Exception {
        harness = TxnHarness.withIngress("conn-trickle", dir, "connectionTimeout: 1s\nrelay: { allow: [] }");
        port = harness.port();
    }

    @AfterAll
    static void stop() {
        harness.close();
    }

    /**
     * Sends {@code text} one byte every 100 ms (the client's pace, not a synchronisation) until the server speaks,
     * and returns what it said and after how long.
     */
    private static Heard trickle(Socket socket, BufferedReader in, String text) throws IOException, InterruptedException {
        OutputStream out = socket.getOutputStream();
        long start = System.nanoTime();
        long giveUp = start + GIVE_UP.toNanos();
        for (int i = 0; !in.ready() && System.nanoTime() < giveUp; i++) {
            try {
                out.write(text.charAt(i % text.length()));
                out.flush();
            } catch (IOException closed) {
                break;
            }
            Thread.sleep(100);
        }
        assertTrue(in.ready() || System.nanoTime() < giveUp, "the server said nothing for " + GIVE_UP);
        return new Heard(in.readLine(), Duration.ofNanos(System.nanoTime() - start));
    }

    private record Heard(String reply, Duration after) {
    }

    private static Socket connect() throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout((int) GIVE_UP.toMillis());
        return s;
    }

    @Test
    void aCommandLineTrickledByteByByteIsCutOff() throws Exception {
        try (Socket s = connect()) {
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
            assertTrue(in.readLine().startsWith("220 "));
            Heard heard = trickle(s, in, "NOOP xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
            assertEquals("421 4.4.2 Command line not completed in time, closing connection", heard.reply());
            assertTrue(heard.after().toMillis() >= 900, "cut off after " + heard.after());
            assertEquals(null, in.readLine(), "and closed");
        }
    }

    @Test
    void dataTrickledByteByByteIsCutOff() throws Exception {
        try (SmtpTestClient c = TxnHarness.connect(port)) {
            SmtpTestClient.expect(c.command("MAIL FROM:<alice@client.test>"), "250");
            SmtpTestClient.expect(c.command("RCPT TO:<bob@local.test>"), "250");
            SmtpTestClient.expect(c.command("DATA"), "354");
            BufferedReader in = new BufferedReader(new InputStreamReader(c.socket().getInputStream(), StandardCharsets.ISO_8859_1));
            Heard heard = trickle(c.socket(), in, "Subject: slow\r\n\r\nvery slow text\r\n");
            assertEquals("421 4.4.2 Message data too slow, closing connection", heard.reply());
            assertTrue(heard.after().toMillis() >= 900, "cut off after " + heard.after());
        }
    }

    @Test
    void aLineInPiecesWithinTheTimeOutIsFine() throws Exception {
        try (SmtpTestClient c = TxnHarness.connect(port)) {
            c.send("NO");
            c.send("OP\r\n");
            assertEquals("250 2.0.0 Ok", c.reply());
        }
    }
}
