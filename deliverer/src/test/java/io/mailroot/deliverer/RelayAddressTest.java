package io.mailroot.deliverer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.MessageIds;
import io.mailroot.core.message.NextHop;
import io.mailroot.core.message.Recipient;
import io.mailroot.testkit.Await;
import io.mailroot.testkit.DnsResponder;
import io.mailroot.testkit.ScriptedSmtpServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A relay written as an IP address is connected to as it is, even when DNS refuses to answer anything. */
class RelayAddressTest {

    @TempDir
    Path dir;

    @Test
    void aSmartHostGivenAsABareIpAddressIsNeverLookedUp() throws Exception {
        try (DnsResponder dns = new DnsResponder().refuseAll();
                ScriptedSmtpServer relay = new ScriptedSmtpServer("127.0.0.2", 0);
                KafkaFixture kafka = new KafkaFixture("relay-ip", 1)) {
            String smartHost = "127.0.0.2:" + relay.port();
            MailrootConfig config = ConfigLoader.parse("""
                    fqdn: relay.test
                    localDomains: [local.test]
                    dns:
                      servers: ["%s"]
                      timeout: 1s
                    delivery:
                      retryIntervals: [1s]
                      smartHost: "%s"
                    """.formatted(dns.address(), smartHost), dir);
            try (DelivererRole deliverer = new DelivererRole(config, kafka.clients, kafka.topics)) {
                deliverer.start();
                NextHop hop = new NextHop("remote.test", smartHost, null);
                Envelope env = Envelope.received(MessageIds.next(), "alice@sender.test",
                        List.of(Recipient.of("bob@remote.test")), Instant.now()).withNextHop(hop);
                try (KafkaProducer<String, byte[]> p = kafka.clients.producer("test-producer")) {
                    p.send(EnvelopeCodec.toRecord(kafka.topics.outbound(), hop.key(), new MailRecord(env,
                            "Subject: hi\r\n\r\nhello\r\n".getBytes(StandardCharsets.US_ASCII)))).get();
                }

                Await.until("the relay at the bare address got the mail", Duration.ofSeconds(30),
                        () -> relay.received().size() == 1);
                assertEquals(List.of("bob@remote.test"), relay.received().get(0).recipients());
            }
        }
    }

    @Test
    void outboundSecurityKeysMatchHoweverTheRelayIsWritten() {
        MailrootConfig config = ConfigLoader.parse("""
                fqdn: relay.test
                delivery:
                  smartHost: "2001:db8::1"
                  routeDomains: {a.test: "127.0.0.2:2526", b.test: "[2001:db8::2]:2526"}
                  outboundSecurity:
                    "[127.0.0.2]:2526": {requireTls: true}
                    "2001:DB8::1": {requireTls: true}
                    "[2001:db8:0::2]:2526": {requireTls: true}
                """, dir);

        MailrootConfig.Delivery d = config.delivery();
        assertTrue(d.securityFor("127.0.0.2:2526").requireTls());
        assertTrue(d.securityFor(d.smartHost()).requireTls());
        assertTrue(d.securityFor("[2001:db8::1]:25").requireTls(), "the default port is the outbound port");
        assertTrue(d.securityFor(d.routeDomains().get("b.test")).requireTls());
        assertFalse(d.securityFor("127.0.0.2:2527").requireTls(), "another port is another relay");
    }
}
