package io.mailroot.ingress.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.Topics;
import io.mailroot.ingress.IngressRole;
import io.mailroot.testkit.FreePorts;
import io.mailroot.testkit.SharedKafka;
import io.mailroot.testkit.SmtpTestClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** AUTH from many connections at once over real sockets: the lockout and the hash bound hold under parallel load. */
class ConnAuthLimitsTest {

    /** Slow enough that parallel checks overlap, fast enough for a test (a production hash has 600,000). */
    private static final int ITERATIONS = 100_000;

    @TempDir
    static Path dir;
    private static IngressRole ingress;
    private static int guarded, crowded;

    @BeforeAll
    static void start() throws Exception {
        UserStore.empty(dir.resolve("users")).put("carol@example.com", "right".toCharArray(), ITERATIONS);
        guarded = FreePorts.next();
        crowded = FreePorts.next();
        MailrootConfig config = ConfigLoader.parse("""
                fqdn: relay.test
                dataDir: data
                usersFile: users
                virtualServers:
                  - name: Guarded
                    addresses: [127.0.0.1]
                    port: %d
                    tls: { enabled: false }
                    authentication: { basic: true, allowAuthWithoutTls: true, maxFailures: 2, lockout: 1m }
                  - name: Crowded
                    addresses: [127.0.0.1]
                    port: %d
                    maxConnectionsPerClient: null
                    tls: { enabled: false }
                    authentication: { basic: true, allowAuthWithoutTls: true, maxFailures: 1000 }
                """.formatted(guarded, crowded), dir);
        String prefix = SharedKafka.uniquePrefix("authlimits");
        ingress = new IngressRole(config, new KafkaClients(SharedKafka.bootstrap(), prefix), new Topics(prefix, 2));
        ingress.start();
    }

    @AfterAll
    static void stop() {
        if (ingress != null) {
            ingress.close();
        }
    }

    private static String plain(String user, String password) {
        return "AUTH PLAIN " + Base64.getEncoder().encodeToString(("\0" + user + "\0" + password).getBytes(StandardCharsets.UTF_8));
    }

    /** Opens {@code n} sessions, then sends each its AUTH line at the same moment; the replies in order. */
    private static List<String> inParallel(int port, int n, String authLine) throws Exception {
        List<SmtpTestClient> clients = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            for (int i = 0; i < n; i++) {
                SmtpTestClient c = new SmtpTestClient("127.0.0.1", port);
                clients.add(c);
                assertTrue(c.greeting().startsWith("220"), c.greeting());
                assertTrue(c.command("EHLO client.test").startsWith("250"));
            }
            CountDownLatch go = new CountDownLatch(1);
            List<Future<String>> replies = new ArrayList<>();
            for (SmtpTestClient c : clients) {
                replies.add(pool.submit(() -> {
                    go.await();
                    return c.command(authLine);
                }));
            }
            go.countDown();
            List<String> out = new ArrayList<>();
            for (Future<String> r : replies) {
                out.add(r.get(60, TimeUnit.SECONDS));
            }
            return out;
        } finally {
            pool.shutdownNow();
            for (SmtpTestClient c : clients) {
                c.close();
            }
        }
    }

    @Test
    void parallelWrongPasswordsGetNoMoreHashesThanMaxFailures() throws Exception {
        long before = PasswordHash.DERIVED.get();
        List<String> replies = inParallel(guarded, 10, plain("carol@example.com", "guess"));
        long hashed = PasswordHash.DERIVED.get() - before;
        assertTrue(hashed <= 2, hashed + " hashes checked for maxFailures 2: " + replies);
        assertEquals(hashed, replies.stream().filter(r -> r.startsWith("535 5.7.8")).count(), replies.toString());
        assertTrue(replies.stream().allMatch(r -> r.startsWith("535 5.7.8") || r.startsWith("454 4.7.0")), replies.toString());
        try (SmtpTestClient c = new SmtpTestClient("127.0.0.1", guarded)) {
            c.greeting();
            c.command("EHLO client.test");
            assertEquals("454 4.7.0 Too many authentication failures, try again later", c.command(plain("carol@example.com", "right")),
                    "the address is locked out now");
        }
    }

    @Test
    void aUserNameWithLineBreaksCannotForgeLogLines() throws Exception {
        try (io.mailroot.ingress.LogLines log = new io.mailroot.ingress.LogLines(AuthCommand.class);
             SmtpTestClient c = new SmtpTestClient("127.0.0.1", crowded)) {
            c.greeting();
            c.command("EHLO client.test");
            assertEquals("535 5.7.8 Authentication credentials invalid", c.command(plain("eve\r\nINFO forged login ok", "x")));
            String line = log.messages().stream().filter(m -> m.contains("forged login")).findFirst().orElseThrow();
            assertTrue(!line.contains("\n") && !line.contains("\r"), line);
            assertTrue(line.contains("eve\\r\\nINFO forged login ok"), line);
        }
    }

    @Test
    void noMoreHashesRunAtOnceThanTheProcessHasSlots() throws Exception {
        int slots = HashSlots.forThisMachine().size();
        PasswordHash.PEAK.set(0);
        long before = PasswordHash.DERIVED.get();
        List<String> replies = inParallel(crowded, 3 * slots + 2, plain("carol@example.com", "right"));
        assertTrue(replies.stream().allMatch(r -> r.equals("235 2.7.0 Authentication successful")), replies.toString());
        assertEquals(3 * slots + 2, PasswordHash.DERIVED.get() - before, "every attempt was checked");
        assertTrue(PasswordHash.PEAK.get() <= slots, PasswordHash.PEAK.get() + " hashes ran at once, for " + slots + " slots");
    }
}
