package io.mailroot.router;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.NextHop;
import io.mailroot.core.message.Recipient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MessageRouterTest {

    private static final Topics TOPICS = new Topics("p.", 2);
    private static final byte[] BYTES = "Subject: hi\r\n\r\nbody\r\n".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path dir;

    private MessageRouter router(String delivery) {
        return MessageRouter.from(ConfigLoader.parse("fqdn: relay.test\nlocalDomains: [local.test, second.test]\n"
                + "delivery:\n  retryIntervals: [1s]\n" + delivery, dir), TOPICS);
    }

    private static MailRecord mail(String sender, String... rcpts) {
        return new MailRecord(Envelope.received("ID1", sender, List.of(rcpts).stream().map(Recipient::of).toList(),
                Instant.EPOCH), BYTES);
    }

    private static Envelope envelope(ProducerRecord<String, byte[]> r) {
        return EnvelopeCodec.decode(r.headers().lastHeader(EnvelopeCodec.HEADER).value());
    }

    @Test
    void oneLocalRecordOneOutboundRecordPerNextHopAndADsnForBadAddresses() {
        List<ProducerRecord<String, byte[]>> out = router("  masqueradeDomain: masq.test\n")
                .route(mail("alice@second.test", "x@second.test", "a@remote.test", "y@local.test", "b@other.test", "bad"));

        assertEquals(List.of(TOPICS.local(), TOPICS.outbound(), TOPICS.outbound(), TOPICS.dsn()),
                out.stream().map(ProducerRecord::topic).toList());
        assertEquals(List.of("second.test", "remote.test", "other.test", "ID1"), out.stream().map(ProducerRecord::key).toList());
        out.forEach(r -> assertArrayEquals(BYTES, r.value()));

        Envelope local = envelope(out.get(0));
        assertEquals(List.of("x@second.test", "y@local.test"), local.recipients().stream().map(Recipient::address).toList());
        assertEquals("alice@second.test", local.sender(), "local mail keeps the real sender");
        assertNull(local.nextHop());

        Envelope remote = envelope(out.get(1));
        assertEquals("alice@masq.test", remote.sender());
        assertEquals(NextHop.direct("remote.test"), remote.nextHop());
        assertEquals(List.of("a@remote.test"), remote.recipients().stream().map(Recipient::address).toList());

        Envelope dsn = envelope(out.get(3));
        assertEquals("ID1", dsn.id());
        assertEquals("5.1.3", dsn.recipients().get(0).outcome().status());
    }

    @Test
    void masqueradeLeavesTheNullSenderAlone() {
        MessageRouter router = router("  masqueradeDomain: masq.test\n");

        assertEquals("", envelope(router.route(mail("", "a@remote.test")).get(0)).sender());
        assertEquals("bob@masq.test", router.masquerade("bob@Local.test"));
    }

    @Test
    void masqueradeOnlyReplacesLocalDomainsSoOtherSendersStillGetTheirReports() {
        MessageRouter router = router("  masqueradeDomain: masq.test\n");

        Envelope relayed = envelope(router.route(mail("carol@customer.test", "a@remote.test")).get(0));
        assertEquals("carol@customer.test", relayed.sender(), "a sender outside localDomains keeps its address");
        assertEquals("bob@sub.local.test", router.masquerade("bob@sub.local.test"), "only the listed domains");
        Envelope ours = envelope(router.route(mail("alice@local.test", "a@remote.test")).get(0));
        assertEquals("alice@masq.test", ours.sender());
    }

    @Test
    void allLocalMeansNoOutboundRecord() {
        List<ProducerRecord<String, byte[]>> out = router("").route(mail("a@b.test", "y@local.test"));

        assertEquals(List.of(TOPICS.local()), out.stream().map(ProducerRecord::topic).toList());
    }
}
