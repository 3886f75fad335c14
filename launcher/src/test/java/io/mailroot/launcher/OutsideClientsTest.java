package io.mailroot.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.mailroot.core.config.ConfigLoader;
import io.mailroot.testkit.Await;
import io.mailroot.testkit.FreePorts;
import io.mailroot.testkit.SharedKafka;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The relay as an outsider meets it: SMTP clients nobody here wrote (swaks, Python's smtplib) against every role on
 * the test broker. .ci/run installs swaks; python3 is part of the machine. Where either is missing the test says so
 * and is skipped.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OutsideClientsTest {

    private static final Duration WAIT = Duration.ofSeconds(60);

    private Path dir;
    private int port;
    private int pooledPort;
    private MailrootNode node;

    @BeforeAll
    void startRelay() throws Exception {
        dir = Files.createTempDirectory("mailroot-outside");
        port = FreePorts.next();
        pooledPort = FreePorts.next();
        String yaml = """
                fqdn: relay.test
                dataDir: %s
                mailroot: %s
                localDomains: [local.test]
                kafka: { topicPrefix: "%s", partitions: 2 }
                pickup: { enabled: false }
                virtualServers:
                  - name: Plain
                    port: %d
                    tls: { enabled: false }
                  - name: Pooled
                    port: %d
                    tls: { enabled: false }
                    maxSessionSizeKb: 64
                """.formatted(dir.resolve("data"), dir.resolve("mailroot"), SharedKafka.uniquePrefix("outside"), port,
                pooledPort);
        node = new MailrootNode(ConfigLoader.parse(yaml, dir), RoleName.all(), SharedKafka.bootstrap());
        node.start();
    }

    @AfterAll
    void stopRelay() {
        if (node != null) {
            node.close();
        }
    }

    @Test
    void swaksWithPipeliningLandsInDrop() throws Exception {
        Run run = run("swaks", "--server", "127.0.0.1:" + port, "--pipeline", "--from", "alice@example.com",
                "--to", "bob@local.test", "--header", "Subject: swaks-pipelined", "--body", "Hi Bob");
        assertEquals(0, run.exit(), run.output());
        String drop = Await.value("swaks's message in Drop", WAIT, () -> dropFileContaining("swaks-pipelined"));
        assertTrue(drop.contains("X-Receiver: bob@local.test"), drop);
    }

    @Test
    void swaksIsRefusedARoutingTrickWithoutRelayRights() throws Exception {
        Run run = run("swaks", "--server", "127.0.0.1:" + port, "--from", "alice@example.com",
                "--to", "carol%far.test@local.test", "--header", "Subject: swaks-routing");
        assertTrue(run.output().contains("550 5.7.1"), run.output());
        assertTrue(run.exit() != 0, "swaks reports the refused recipient: " + run.output());
    }

    /**
     * A web application's pool keeps one connection for many messages. Past maxSessionSizeKb the relay closes the
     * session gracefully (421 at the next MAIL): smtplib sees a temporary failure, reconnects, and nothing bounces.
     */
    @Test
    void pythonConnectionPoolPastTheSessionSizeReconnectsAndLosesNothing() throws Exception {
        String script = """
                import smtplib, sys
                port = int(sys.argv[1])
                body = ("x" * 76 + "\\r\\n") * 260   # about 20 KB
                reconnects = 0
                permanent = 0
                s = smtplib.SMTP("127.0.0.1", port)
                for i in range(10):
                    msg = "Subject: pooled-%d\\r\\n\\r\\n" % i + body
                    for attempt in range(3):
                        try:
                            s.sendmail("app@example.com", ["pool@local.test"], msg)
                            break
                        except (smtplib.SMTPServerDisconnected, smtplib.SMTPSenderRefused) as e:
                            code = getattr(e, "smtp_code", 421)
                            if code >= 500:
                                permanent += 1
                                break
                            reconnects += 1
                            try:
                                s.close()
                            except Exception:
                                pass
                            s = smtplib.SMTP("127.0.0.1", port)
                s.quit()
                print("reconnects=%d permanent=%d" % (reconnects, permanent))
                """;
        Run run = run("python3", "-c", script, String.valueOf(pooledPort));
        assertEquals(0, run.exit(), run.output());
        assertTrue(run.output().contains("permanent=0"), run.output());
        assertTrue(!run.output().contains("reconnects=0"), "the session limit was reached: " + run.output());
        for (int i = 0; i < 10; i++) {
            String subject = "Subject: pooled-" + i + "\r\n";
            Await.value("pooled message " + i + " in Drop", WAIT, () -> dropFileContaining(subject));
        }
    }

    private String dropFileContaining(String text) {
        Path drop = dir.resolve("mailroot").resolve("Drop");
        if (!Files.isDirectory(drop)) {
            return null;
        }
        try (Stream<Path> files = Files.list(drop)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".eml")).toList()) {
                String s = Files.readString(f, StandardCharsets.ISO_8859_1);
                if (s.contains(text)) {
                    return s;
                }
            }
        } catch (IOException e) {
            return null; // a file renamed in the meantime: look again
        }
        return null;
    }

    private record Run(int exit, String output) {
    }

    private static Run run(String... command) throws Exception {
        assumeTrue(onPath(command[0]), command[0] + " is not installed: .ci/run installs it (apt-get install "
                + command[0] + "); skipping this outside-client test");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", command) + " finished");
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    private static boolean onPath(String program) {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
        return dirs.stream().anyMatch(d -> Files.isExecutable(Path.of(d, program)));
    }
}
