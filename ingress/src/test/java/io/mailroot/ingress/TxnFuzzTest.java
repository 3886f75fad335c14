package io.mailroot.ingress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.Recipient;
import io.mailroot.testkit.SmtpTestClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded random and malformed command streams over many connections: random bytes, NULs, long lines, bare CR and
 * LF, partial commands, pipelined garbage, relay tricks and huge DATA. Afterwards the server must still greet and
 * answer EHLO, every queued message must be one the server answered 250 to, and none may be for a remote
 * recipient (relay.allow is empty).
 */
class TxnFuzzTest {

    private static final long SEED = Long.getLong("txn.fuzz.seed", 20261128L);
    private static final int CONNECTIONS = 48;
    private static final Pattern QUEUED = Pattern.compile("250 2\\.0\\.0 Ok: queued as (\\S+)");

    private static final String[] PATHS = {
        "<bob@local.test>", "<bob@remote.test>", "<@local.test:bob@remote.test>", "<bob%remote.test@local.test>",
        "<remote.test!bob@local.test>", "<\"bob@remote.test\"@local.test>", "<\"x\"@remote.test>",
        "<bob@[127.0.0.1]>", "<bob@local.test.>", "<bob@remote.test.>", "<BOB@LOCAL.TEST>", "<bob@REMOTE.test>",
        "<bob@local.test@remote.test>", "bob@remote.test", "<>", "<bob>", "<bob@local.test", "<<bob@local.test>>",
        "<bob@local.test> NOTIFY=NEVER", "<bob@remote.test> ORCPT=rfc822;bob@local.test", "<bob@local.test> X=1",
    };

    @TempDir
    static Path dir;
    private static TxnHarness harness;
    private static int port;

    @BeforeAll
    static void start() throws Exception {
        harness = TxnHarness.withIngress("txn-fuzz", dir, "maxMessageSizeKb: 64\nrelay: { allow: [] }");
        port = harness.port();
    }

    @AfterAll
    static void stop() {
        harness.close();
    }

    @Test
    void hostileStreamsQueueNothingUnansweredAndNothingRemote() throws Exception {
        Set<String> acknowledged = new HashSet<>();
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<String>> sessions = new ArrayList<>();
                for (int i = 0; i < CONNECTIONS; i++) {
                    byte[] script = script(new Random(SEED + i));
                    sessions.add(pool.submit(() -> play(script, pool)));
                }
                for (Future<String> s : sessions) {
                    Matcher m = QUEUED.matcher(s.get());
                    while (m.find()) {
                        acknowledged.add(m.group(1));
                    }
                }
            } finally {
                pool.shutdownNow();
            }
        }, "seed " + SEED);
        assertTrue(acknowledged.size() >= 3, "the well-formed transactions among the noise were queued: " + acknowledged.size());

        try (SmtpTestClient client = new SmtpTestClient("127.0.0.1", port)) {
            assertTrue(client.greeting().startsWith("220 "), client.greeting());
            SmtpTestClient.expect(client.command("EHLO still.alive.test"), "250");
        }
        List<MailRecord> queued = harness.inbound();
        for (MailRecord m : queued) {
            assertTrue(acknowledged.contains(m.envelope().id()), "queued without a 250: " + m.envelope().id() + " seed " + SEED);
            for (Recipient r : m.envelope().recipients()) {
                assertEquals("local.test", r.domain(), "relayed to " + r.address() + " seed " + SEED);
            }
        }
        assertEquals(acknowledged.size(), queued.size(), "every 250 was queued exactly once; seed " + SEED);
    }

    /** Sends the script while reading every reply, then half-closes and reads to the server's end. */
    private static String play(byte[] script, ExecutorService pool) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(20_000);
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream heard = new ByteArrayOutputStream();
            Thread reader = new Thread(() -> {
                try {
                    in.transferTo(heard);
                } catch (IOException e) {
                    // the server may reset a connection it gave up on
                }
            });
            reader.start();
            OutputStream out = socket.getOutputStream();
            try {
                for (int off = 0; off < script.length; off += 4096) {
                    out.write(script, off, Math.min(4096, script.length - off));
                }
                out.flush();
                socket.shutdownOutput();
            } catch (IOException e) {
                // the server closed on us (e.g. after invalid UTF-8): what it said is in heard
            }
            reader.join(20_000);
            synchronized (heard) {
                return heard.toString(StandardCharsets.ISO_8859_1);
            }
        }
    }

    private static byte[] script(Random random) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int steps = 5 + random.nextInt(40);
        if (random.nextInt(4) > 0) {
            line(b, "EHLO fuzz.test");
        }
        for (int i = 0; i < steps; i++) {
            switch (random.nextInt(14)) {
                case 0 -> line(b, "MAIL FROM:" + PATHS[random.nextInt(PATHS.length)]);
                case 1, 2 -> line(b, "RCPT TO:" + PATHS[random.nextInt(PATHS.length)]);
                case 3 -> {
                    line(b, "DATA");
                    data(b, random);
                }
                case 4 -> {
                    byte[] noise = new byte[random.nextInt(300)];
                    random.nextBytes(noise);
                    b.writeBytes(noise);
                }
                case 5 -> line(b, "NOOP " + "x".repeat(400 + random.nextInt(1200)));
                case 6 -> b.writeBytes(new byte[] {'M', 'A', 'I', 'L', 0, ' ', 'F', 'R', 'O', 'M', '\r', '\n'});
                case 7 -> b.writeBytes(("RCPT TO:<bob@remote.test>" + (random.nextBoolean() ? "\n" : "\r")).getBytes(StandardCharsets.ISO_8859_1));
                case 8 -> b.writeBytes("MAIL FR".getBytes(StandardCharsets.ISO_8859_1));
                case 9 -> line(b, random.nextBoolean() ? "RSET" : "HELO fuzz.test");
                case 10 -> line(b, "MAIL FROM:<alice@client.test> SIZE=" + random.nextInt(200_000));
                case 11 -> {
                    // a well-formed transaction, so some messages are really queued
                    line(b, "MAIL FROM:<alice@client.test>");
                    line(b, "RCPT TO:" + PATHS[random.nextInt(PATHS.length)]);
                    line(b, "RCPT TO:<carol@local.test>");
                    line(b, "DATA");
                    data(b, random);
                }
                case 12 -> line(b, "\u00ff\u0000\u0007" + "BDAT 1000 LAST");
                default -> line(b, "");
            }
        }
        if (random.nextBoolean()) {
            line(b, "QUIT");
        }
        return b.toByteArray();
    }

    private static void data(ByteArrayOutputStream b, Random random) {
        String[] fakeEnds = {"\n.\n", "\r.\r", "\r\n.\n", "\n.\r\n", "\r.\r\n"};
        StringBuilder text = new StringBuilder("Subject: fuzz\r\n\r\n");
        switch (random.nextInt(6)) {
            case 0 -> text.append(fakeEnds[random.nextInt(fakeEnds.length)]).append("MAIL FROM:<x@remote.test>\r\nRCPT TO:<y@remote.test>\r\nDATA\r\nsmuggled\r\n");
            case 1 -> text.append(("z".repeat(998) + "\r\n").repeat(70 + random.nextInt(100)));
            case 2 -> text.append("x".repeat(1000 + random.nextInt(3000))).append("\r\n");
            case 3 -> text.append("..dot\r\n.\r\n.\r\n");
            default -> text.append("hello\r\n");
        }
        b.writeBytes(text.toString().getBytes(StandardCharsets.ISO_8859_1));
        if (random.nextInt(8) > 0) {
            line(b, ".");
        }
    }

    private static void line(ByteArrayOutputStream b, String s) {
        b.writeBytes((s + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
    }
}
