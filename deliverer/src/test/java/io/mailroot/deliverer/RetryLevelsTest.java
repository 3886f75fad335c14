package io.mailroot.deliverer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.MessageIds;
import io.mailroot.core.message.NextHop;
import io.mailroot.core.message.Recipient;
import io.mailroot.core.role.Role;
import io.mailroot.testkit.Await;
import io.mailroot.testkit.DnsResponder;
import io.mailroot.testkit.ScriptedSmtpServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import io.mailroot.testkit.SharedKafka;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Mail waiting on a retry level that the current retryIntervals no longer name is still released. */
class RetryLevelsTest {

    @TempDir
    Path dir;

    @Test
    void aRecordOnALevelBeyondTheCurrentListIsDelivered() throws Exception {
        try (DnsResponder dns = new DnsResponder();
                ScriptedSmtpServer mx = new ScriptedSmtpServer();
                KafkaFixture kafka = new KafkaFixture("retry-levels", 1)) {
            dns.mx("remote.test", 10, "mx.remote.test").a("mx.remote.test", "127.0.0.1");
            // Written when retryIntervals had five entries; the list now has two.
            String level5 = kafka.prefix + "retry.5";
            try (Admin admin = Admin.create(SharedKafka.adminConfig())) {
                admin.createTopics(List.of(new NewTopic(level5, 1, (short) 1))).all().get();
            }
            Envelope env = Envelope.received(MessageIds.next(), "alice@sender.test",
                    List.of(Recipient.of("bob@remote.test")), Instant.now()).withNextHop(NextHop.direct("remote.test"))
                    .withAttempt(5, Instant.now(), Instant.now(), "451 4.3.0 busy");
            kafka.publish(List.of(EnvelopeCodec.toRecord(level5, "remote.test",
                    new MailRecord(env, "Subject: late\r\n\r\nstill here\r\n".getBytes(StandardCharsets.US_ASCII)))));
            MailrootConfig config = ConfigLoader.parse("""
                    fqdn: relay.test
                    dns:
                      servers: ["%s"]
                      timeout: 2s
                    delivery:
                      retryIntervals: [1s, 1s]
                      outboundPort: %d
                    """.formatted(dns.address(), mx.port()), dir);

            try (Role retry = new RetryRole(config, kafka.clients, kafka.topics);
                    Role deliverer = new DelivererRole(config, kafka.clients, kafka.topics)) {
                retry.start();
                deliverer.start();

                Await.until("the stranded retry was delivered", Duration.ofSeconds(30), () -> mx.received().size() == 1);
                assertEquals(List.of("bob@remote.test"), mx.received().get(0).recipients());
                Await.until("and committed on its level", Duration.ofSeconds(30), () -> kafka.caughtUp("retry", level5));
            }
        }
    }
}
