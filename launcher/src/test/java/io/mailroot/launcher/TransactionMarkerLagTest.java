package io.mailroot.launcher;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.Recipient;
import io.mailroot.core.monitor.LagSnapshot;
import io.mailroot.core.monitor.PartitionLag;
import io.mailroot.core.monitor.TopicLagReader;
import io.mailroot.testkit.Await;
import io.mailroot.testkit.DnsResponder;
import io.mailroot.testkit.FreePorts;
import io.mailroot.testkit.ScriptedSmtpServer;
import io.mailroot.testkit.SharedKafka;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The router writes {@code outbound}, {@code local} and {@code dsn} in transactions, so each partition's end offset
 * is past a commit marker. Once the mail is delivered, dropped and reported, every group that reads those topics has
 * committed up to the end, markers included: lag 0, not 1 per partition forever.
 */
class TransactionMarkerLagTest {

    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void everyGroupCommitsPastTheRoutersTransactionMarkers() throws Exception {
        int outboundPort = FreePorts.next();
        String prefix = SharedKafka.uniquePrefix("markers");
        try (ScriptedSmtpServer remote = new ScriptedSmtpServer("127.0.0.2", outboundPort);
             DnsResponder dns = new DnsResponder().mx("remote.test", 10, "mx.remote.test").a("mx.remote.test", "127.0.0.2")) {
            MailrootConfig config = ConfigLoader.parse("""
                    fqdn: relay.test
                    dataDir: %s
                    mailroot: %s
                    localDomains: [local.test]
                    kafka: { topicPrefix: "%s", partitions: 2 }
                    dns: { servers: ["%s"], timeout: 2s }
                    delivery:
                      retryIntervals: [1s]
                      outboundPort: %d
                      outboundTimeout: 20s
                    """.formatted(dir.resolve("data"), dir.resolve("mailroot"), prefix, dns.address(), outboundPort), dir);
            Topics topics = new Topics(prefix, 1);
            KafkaClients clients = new KafkaClients(SharedKafka.bootstrap(), prefix);
            try (MailrootNode node = new MailrootNode(config, List.of(RoleName.ROUTER, RoleName.DELIVERER,
                    RoleName.RETRY, RoleName.DROP, RoleName.NDR), SharedKafka.bootstrap());
                 TopicLagReader lag = new TopicLagReader(clients, topics, Duration.ofSeconds(20))) {
                node.start();
                List<Envelope> mail = new ArrayList<>();
                for (int i = 0; i < 6; i++) {
                    mail.add(message("remote-" + i, "carol" + i + "@remote.test"));
                    mail.add(message("local-" + i, "bob" + i + "@local.test"));
                }
                // No domain: the router reports it on dsn, and the report comes back to alice's Drop.
                mail.add(message("bad-1", "nobody"));
                mail.add(message("bad-2", "noone"));
                publish(clients, topics, mail);

                Await.until("6 remote deliveries", WAIT, () -> remote.received().size() >= 6);
                Await.until("6 local messages and 2 reports in Drop", WAIT, () -> dropFiles() >= 8);
                AtomicReference<LagSnapshot> last = new AtomicReference<>();
                try {
                    Await.until("every group's lag on outbound, local, dsn and inbound at 0", WAIT, () -> {
                        LagSnapshot s = lag.read();
                        last.set(s);
                        return caughtUp(s, topics.outbound(), prefix + "deliverer")
                                && caughtUp(s, topics.local(), prefix + "drop")
                                && caughtUp(s, topics.dsn(), prefix + "ndr")
                                && caughtUp(s, topics.inbound(), prefix + "router")
                                // Nothing went to retry.1, so the retry role committed nothing: its assignment counts.
                                && s.of(topics.retry(1)).stream().allMatch(p -> (prefix + "retry").equals(p.group()));
                    });
                } catch (AssertionError e) {
                    throw new AssertionError(e.getMessage() + "; last snapshot: " + last.get().partitions(), e);
                }
                long outboundEnds = last.get().of(topics.outbound()).stream().mapToLong(PartitionLag::endOffset).sum();
                assertTrue(outboundEnds > 6, "the router's markers take offsets of their own: " + outboundEnds);
            }
        }
    }

    /** The group has a row for every partition of the topic, something was written, and nothing is left. */
    private static boolean caughtUp(LagSnapshot s, String topic, String group) {
        List<PartitionLag> rows = s.of(topic);
        return !rows.isEmpty() && rows.stream().allMatch(p -> group.equals(p.group()) && p.lagRecords() == 0)
                && rows.stream().mapToLong(PartitionLag::endOffset).sum() > 0;
    }

    private long dropFiles() {
        try (Stream<Path> files = Files.list(dir.resolve("mailroot").resolve("Drop"))) {
            return files.filter(p -> p.toString().endsWith(".eml")).count();
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    private static Envelope message(String id, String to) {
        return Envelope.received(id, "alice@local.test", List.of(Recipient.of(to)), Instant.now());
    }

    private static void publish(KafkaClients clients, Topics topics, List<Envelope> messages) throws Exception {
        try (KafkaProducer<String, byte[]> p = clients.producer("test-ingress")) {
            List<Future<?>> acks = new ArrayList<>();
            for (Envelope e : messages) {
                byte[] bytes = ("Message-ID: <" + e.id() + "@test>\r\nSubject: markers\r\n\r\nbody\r\n")
                        .getBytes(StandardCharsets.US_ASCII);
                acks.add(p.send(EnvelopeCodec.toRecord(topics.inbound(), e.id(), new MailRecord(e, bytes))));
            }
            for (Future<?> ack : acks) {
                ack.get(30, TimeUnit.SECONDS);
            }
        }
    }
}
