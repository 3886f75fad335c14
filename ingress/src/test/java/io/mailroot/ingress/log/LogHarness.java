package io.mailroot.ingress.log;

import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.TopicCreator;
import io.mailroot.core.kafka.Topics;
import io.mailroot.ingress.IngressRole;
import io.mailroot.testkit.FreePorts;
import io.mailroot.testkit.SharedKafka;
import io.mailroot.testkit.SmtpTestClient;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/** An ingress role against the shared broker with a protocol log configured, and the SMTP sessions tests drive. */
final class LogHarness implements AutoCloseable {

    static final String MESSAGE = "From: alice@client.test\r\nTo: bob@local.test\r\nSubject: log\r\n\r\nHello.\r\n";

    private static Topics topics;
    private static KafkaClients clients;

    final IngressRole role;
    final int port;
    final String serverName;

    private LogHarness(IngressRole role, int port, String serverName) {
        this.role = role;
        this.port = port;
        this.serverName = serverName;
    }

    /**
     * @param logging the lines of {@code virtualServers[0].logging}, indented for a mapping under it
     * @param base the folder dataDir and the log folders are under
     */
    static LogHarness start(String serverName, String logging, Path base, Clock clock) throws Exception {
        return start(serverName, logging, base, clock, "");
    }

    /** @param serverLines more settings of the virtual server, one a line */
    static synchronized LogHarness start(String serverName, String logging, Path base, Clock clock, String serverLines)
            throws Exception {
        if (topics == null) {
            String bootstrap = SharedKafka.bootstrap();
            String prefix = SharedKafka.uniquePrefix("plog");
            topics = new Topics(prefix, 2);
            clients = new KafkaClients(bootstrap, prefix);
            TopicCreator.ensure(bootstrap, topics, 3, (short) 1);
        }
        int free = FreePorts.next();
        MailrootConfig config = ConfigLoader.parse("""
                fqdn: relay.test
                nodeId: node-7
                localDomains: [local.test]
                virtualServers:
                  - name: %s
                    addresses: [127.0.0.1]
                    port: %d
                %s
                    logging:
                %s
                """.formatted(serverName, free, serverLines.indent(4), logging.indent(6)), base);
        IngressRole role = new IngressRole(config, clients, topics, IngressRole.DEFAULT_QUEUE_TIMEOUT, clock);
        role.start();
        return new LogHarness(role, free, serverName);
    }

    ProtocolLog log() {
        return role.protocolLogs().get(0);
    }

    /**
     * One session of the commands an admin reads in a log: EHLO, a transaction, a NOOP, a verb nobody has, QUIT.
     *
     * @return the reply to the end of data
     */
    String session() throws IOException {
        try (SmtpTestClient c = new SmtpTestClient("127.0.0.1", port)) {
            SmtpTestClient.expect(c.greeting(), "220");
            SmtpTestClient.expect(c.command("EHLO client.test"), "250");
            String queued = c.send("alice@client.test", List.of("bob@local.test"), MESSAGE);
            SmtpTestClient.expect(queued, "250");
            SmtpTestClient.expect(c.command("NOOP"), "250");
            SmtpTestClient.expect(c.command("FROB something odd"), "500");
            SmtpTestClient.expect(c.command("QUIT"), "221");
            return queued;
        }
    }

    /** The replies to {@code n} NOOPs after EHLO, then QUIT. */
    List<String> noops(int n) throws IOException {
        List<String> replies = new ArrayList<>();
        try (SmtpTestClient c = new SmtpTestClient("127.0.0.1", port)) {
            SmtpTestClient.expect(c.command("EHLO client.test"), "250");
            for (int i = 0; i < n; i++) {
                replies.add(c.command("NOOP"));
            }
            SmtpTestClient.expect(c.command("QUIT"), "221");
        }
        return replies;
    }

    @Override
    public void close() {
        role.close();
    }

    /** A clock the test moves. */
    static final class MovableClock extends Clock {
        private final AtomicReference<Instant> now;
        private final ZoneId zone;

        MovableClock(Instant start, ZoneId zone) {
            this(new AtomicReference<>(start), zone);
        }

        private MovableClock(AtomicReference<Instant> now, ZoneId zone) {
            this.now = now;
            this.zone = zone;
        }

        void set(Instant t) {
            now.set(t);
        }

        void advance(Duration d) {
            now.updateAndGet(t -> t.plus(d));
        }

        @Override
        public ZoneId getZone() {
            return zone;
        }

        @Override
        public Clock withZone(ZoneId z) {
            return new MovableClock(now, z);
        }

        @Override
        public Instant instant() {
            return now.get();
        }
    }
}
