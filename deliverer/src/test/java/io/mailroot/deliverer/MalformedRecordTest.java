package io.mailroot.deliverer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.MessageIds;
import io.mailroot.core.message.NextHop;
import io.mailroot.core.message.Recipient;
import io.mailroot.core.role.Role;
import io.mailroot.deliverer.local.DropWriterRole;
import io.mailroot.testkit.Await;
import io.mailroot.testkit.DnsResponder;
import io.mailroot.testkit.ScriptedSmtpServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each role that reads mail records keeps one it cannot read in Badmail, with its reason, and goes on. */
class MalformedRecordTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final byte[] GARBAGE_BODY = "Subject: lost?\r\n\r\nkeep me\r\n".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path dir;

    private DnsResponder dns;
    private ScriptedSmtpServer mx;
    private KafkaFixture kafka;
    private MailrootConfig config;

    @BeforeEach
    void setUp() throws Exception {
        dns = new DnsResponder();
        dns.mx("remote.test", 10, "mx.remote.test").a("mx.remote.test", "127.0.0.1");
        mx = new ScriptedSmtpServer();
        kafka = new KafkaFixture("malformed", 1);
        config = ConfigLoader.parse("""
                fqdn: relay.test
                localDomains: [local.test]
                mailroot: ./mr
                dns:
                  servers: ["%s"]
                  timeout: 2s
                delivery:
                  retryIntervals: [1s, 1s]
                  outboundPort: %d
                """.formatted(dns.address(), mx.port()), dir);
    }

    @AfterEach
    void tearDown() {
        kafka.close();
        mx.close();
        dns.close();
    }

    /** A record whose envelope header is not JSON, followed on the same partition by a good one. */
    private void publishGarbageThenGood(String topic, String to) throws Exception {
        RecordHeaders headers = new RecordHeaders();
        headers.add(new RecordHeader(EnvelopeCodec.HEADER, "{not json".getBytes(StandardCharsets.US_ASCII)));
        Envelope good = Envelope.received(MessageIds.next(), "alice@sender.test", List.of(Recipient.of(to)),
                Instant.now()).withNextHop(NextHop.direct(Recipient.of(to).domain()));
        kafka.publish(List.of(new ProducerRecord<>(topic, 0, "k", GARBAGE_BODY, headers),
                EnvelopeCodec.toRecord(topic, "k", new MailRecord(good, "Subject: ok\r\n\r\nfine\r\n"
                        .getBytes(StandardCharsets.US_ASCII)))));
    }

    private void assertKeptInBadmail(String topic) throws Exception {
        Path bad = config.badmailDir().resolve("malformed-" + topic + "-0-0.bad");
        Path reason = config.badmailDir().resolve("malformed-" + topic + "-0-0.bdr");
        Await.until("the malformed record is in Badmail", WAIT, () -> Files.exists(bad));
        assertEquals(new String(GARBAGE_BODY, StandardCharsets.US_ASCII), Files.readString(bad));
        String why = Files.readString(reason);
        assertTrue(why.contains("not valid JSON") && why.contains("{not json"), why);
    }

    @Test
    void theDelivererKeepsItAndDeliversTheNext() throws Exception {
        try (Role deliverer = new DelivererRole(config, kafka.clients, kafka.topics)) {
            deliverer.start();
            publishGarbageThenGood(kafka.topics.outbound(), "bob@remote.test");

            Await.until("the good record was delivered", WAIT, () -> mx.received().size() == 1);
            assertKeptInBadmail(kafka.topics.outbound());
            Await.until("both offsets committed", WAIT, () -> kafka.caughtUp("deliverer", kafka.topics.outbound()));
        }
    }

    @Test
    void retryKeepsItAndReleasesTheNext() throws Exception {
        List<MailRecord> outbound = kafka.watch(kafka.topics.outbound());
        try (Role retry = new RetryRole(config, kafka.clients, kafka.topics)) {
            retry.start();
            publishGarbageThenGood(kafka.topics.retry(1), "bob@remote.test");

            Await.until("the good record was released", WAIT, () -> outbound.size() == 1);
            assertKeptInBadmail(kafka.topics.retry(1));
            Await.until("both offsets committed", WAIT, () -> kafka.caughtUp("retry", kafka.topics.retry(1)));
            assertEquals(1, kafka.end(kafka.topics.outbound()), "the malformed record was not put back on outbound");
        }
    }

    @Test
    void theDropWriterKeepsItAndWritesTheNext() throws Exception {
        try (DropWriterRole writer = new DropWriterRole(config, kafka.clients, kafka.topics)) {
            writer.start();
            publishGarbageThenGood(kafka.topics.local(), "carol@local.test");

            Await.until("the good record is in Drop", WAIT, () -> {
                try (var files = Files.list(config.dropDir())) {
                    return files.anyMatch(p -> p.toString().endsWith(".eml"));
                } catch (java.io.IOException e) {
                    return false;
                }
            });
            assertKeptInBadmail(kafka.topics.local());
            Await.until("both offsets committed", WAIT, () -> kafka.caughtUp("drop", kafka.topics.local()));
        }
    }
}
