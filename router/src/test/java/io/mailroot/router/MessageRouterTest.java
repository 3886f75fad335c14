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
import java.util.Map;
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
    void aSmartHostTakesEveryDomainOfAMessageInOneRecordOnTheMessagesShard() {
        List<ProducerRecord<String, byte[]>> out = router("  smartHost: smart.test:2525\n")
                .route(mail("alice@sender.test", "a@one.test", "b@two.test", "c@three.test"));

        assertEquals(1, out.size());
        NextHop hop = envelope(out.get(0)).nextHop();
        assertEquals(6, hop.shards(), "a relay is spread over kafka.partitions (default 6)");
        assertEquals(NextHop.shardOf("ID1", 6), hop.shard());
        assertEquals("[smart.test:2525]#" + hop.shard(), out.get(0).key());
        assertNull(hop.domain(), "a relay's record carries many domains");
        assertEquals(List.of("a@one.test", "b@two.test", "c@three.test"),
                envelope(out.get(0)).recipients().stream().map(Recipient::address).toList());
    }

    @Test
    void shardCountsComeFromHopShardsAndHopShardsByDomainAndNeverExceedTheConnectionLimit() {
        MessageRouter router = router("  smartHost: smart.test\n  attemptDirectBeforeSmartHost: true\n"
                + "  routeDomains: {routed.test: relay.test}\n  hopShards: 3\n  hopShardsByDomain: {Busy.test: 4}\n");
        List<ProducerRecord<String, byte[]>> out = router.route(mail("alice@sender.test", "a@routed.test",
                "b@busy.test", "c@quiet.test"));
        Map<String, NextHop> hops = new java.util.LinkedHashMap<>();
        out.forEach(r -> hops.put(r.key().replaceAll("#\\d+$", ""), envelope(r).nextHop()));

        assertEquals(List.of("[relay.test]", "busy.test", "quiet.test"), List.copyOf(hops.keySet()));
        assertEquals(3, hops.get("[relay.test]").shards());
        assertEquals(4, hops.get("busy.test").shards(), "a busy domain, even with a fallback relay");
        assertEquals(1, hops.get("quiet.test").shards());
        assertEquals("quiet.test", out.get(2).key(), "a one-shard hop keeps its plain key");

        NextHop capped = envelope(router("  smartHost: smart.test\n  maxConnectionsPerDomain: 2\n")
                .route(mail("alice@sender.test", "a@far.test")).get(0)).nextHop();
        assertEquals(2, capped.shards(), "every shard holds a connection: no more shards than the limit");
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
