package io.mailroot.router;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.config.NodeId;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.TopicCreator;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.MessageIds;
import io.mailroot.core.message.NextHop;
import io.mailroot.core.message.Outcome;
import io.mailroot.core.message.Recipient;
import io.mailroot.testkit.Await;
import io.mailroot.testkit.SharedKafka;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RouterRoleTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private String bootstrap;
    private Topics topics;
    private KafkaClients clients;

    private MailrootConfig setUp(String name, String delivery) throws Exception {
        bootstrap = SharedKafka.bootstrap();
        String prefix = SharedKafka.uniquePrefix(name);
        topics = new Topics(prefix, 2);
        clients = new KafkaClients(bootstrap, prefix);
        TopicCreator.ensure(bootstrap, topics, 3, (short) 1);
        return ConfigLoader.parse("fqdn: relay.test\nlocalDomains: [local.test]\ndelivery:\n  retryIntervals: [1s]\n"
                + delivery, dir);
    }

    private static MailRecord mail(String id, String sender, String... rcpts) {
        byte[] bytes = ("Message-ID: <" + id + "@test>\r\nSubject: \u00e9t\u00e9\r\n\r\nbody of " + id + "\r\n")
                .getBytes(StandardCharsets.UTF_8);
        return new MailRecord(Envelope.received(id, sender, List.of(rcpts).stream().map(Recipient::of).toList(),
                Instant.now()), bytes);
    }

    private void publish(List<ProducerRecord<String, byte[]>> records) throws Exception {
        try (KafkaProducer<String, byte[]> p = clients.producer("test-ingress")) {
            List<Future<?>> acks = new ArrayList<>();
            for (ProducerRecord<String, byte[]> r : records) {
                acks.add(p.send(r));
            }
            for (Future<?> ack : acks) {
                ack.get(30, TimeUnit.SECONDS);
            }
        }
    }

    private void publish(MailRecord... mails) throws Exception {
        publish(List.of(mails).stream().map(m -> EnvelopeCodec.toRecord(topics.inbound(), m.envelope().id(), m)).toList());
    }

    /** A record for one chosen partition of inbound. */
    private ProducerRecord<String, byte[]> onPartition(int partition, MailRecord m) {
        ProducerRecord<String, byte[]> r = EnvelopeCodec.toRecord(topics.inbound(), m.envelope().id(), m);
        return new ProducerRecord<>(r.topic(), partition, r.key(), r.value(), r.headers());
    }

    private static Envelope envelope(ConsumerRecord<String, byte[]> r) {
        return EnvelopeCodec.fromRecord(r).envelope();
    }

    private static List<String> addresses(Envelope e) {
        return e.recipients().stream().map(Recipient::address).toList();
    }

    @Test
    void splitsOneMessageIntoALocalRecordAndOneOutboundRecordPerDomain() throws Exception {
        MailrootConfig config = setUp("split", "");
        MailRecord mail = mail("SPLIT1", "alice@sender.test", "bob@local.test", "a@remote.test", "b@other.test",
                "c@remote.test");
        try (RouterRole router = new RouterRole(config, clients, topics, "split");
             TopicReader local = new TopicReader(bootstrap, topics.local());
             TopicReader outbound = new TopicReader(bootstrap, topics.outbound())) {
            router.start();
            publish(mail);

            List<ConsumerRecord<String, byte[]>> locals = local.atLeast(1, WAIT);
            List<ConsumerRecord<String, byte[]>> remotes = outbound.atLeast(2, WAIT);

            assertEquals(1, locals.size());
            assertEquals("local.test", locals.get(0).key());
            assertEquals(List.of("bob@local.test"), addresses(envelope(locals.get(0))));
            assertArrayEquals(mail.message(), locals.get(0).value());

            assertEquals(2, remotes.size());
            Map<String, Envelope> byKey = new TreeMap<>();
            for (ConsumerRecord<String, byte[]> r : remotes) {
                byKey.put(r.key(), envelope(r));
                assertArrayEquals(mail.message(), r.value(), "raw bytes unchanged");
            }
            assertEquals(Set.of("remote.test", "other.test"), byKey.keySet());
            assertEquals(List.of("a@remote.test", "c@remote.test"), addresses(byKey.get("remote.test")));
            assertEquals(NextHop.direct("remote.test"), byKey.get("remote.test").nextHop());
            assertEquals(List.of("b@other.test"), addresses(byKey.get("other.test")));
            assertEquals("SPLIT1", byKey.get("other.test").id());
        }
    }

    @Test
    void routeDomainsSmartHostMasqueradeAndBadAddresses() throws Exception {
        MailrootConfig config = setUp("rules", "  masqueradeDomain: masq.test\n  smartHost: smart.test:2525\n"
                + "  routeDomains: {route.test: \"relay.route.test:2526\"}\n");
        MailRecord mail = mail("RULES1", "alice@local.test", "a@route.test", "b@far.test", "bob@local.test", "nodomain");
        try (RouterRole router = new RouterRole(config, clients, topics, "rules");
             TopicReader local = new TopicReader(bootstrap, topics.local());
             TopicReader outbound = new TopicReader(bootstrap, topics.outbound());
             TopicReader dsn = new TopicReader(bootstrap, topics.dsn())) {
            router.start();
            publish(mail);

            Map<String, Envelope> byKey = new TreeMap<>();
            outbound.atLeast(2, WAIT).forEach(r -> byKey.put(r.key(), envelope(r)));
            // Relays are spread over kafka.partitions (6 by default) shards; the message's id picks its shard.
            NextHop route = NextHop.relay("relay.route.test:2526").sharded("RULES1", 6);
            NextHop smart = NextHop.relay("smart.test:2525").sharded("RULES1", 6);
            assertEquals(Set.of(route.key(), smart.key()), byKey.keySet());
            Envelope routed = byKey.get(route.key());
            assertEquals(route, routed.nextHop());
            assertEquals(List.of("a@route.test"), addresses(routed));
            assertEquals("alice@masq.test", routed.sender());
            assertEquals(List.of("b@far.test"), addresses(byKey.get(smart.key())));

            Envelope localEnvelope = envelope(local.atLeast(1, WAIT).get(0));
            assertEquals("alice@local.test", localEnvelope.sender(), "masquerading is for outbound mail only");

            ConsumerRecord<String, byte[]> report = dsn.atLeast(1, WAIT).get(0);
            assertEquals("RULES1", report.key());
            Envelope failed = envelope(report);
            assertEquals(List.of("nodomain"), addresses(failed));
            assertEquals("5.1.3", failed.recipients().get(0).outcome().status());
        }
    }

    @Test
    void eachMessageIsRoutedOnceAcrossARestartAndMalformedRecordsAreSkipped() throws Exception {
        MailrootConfig config = setUp("once", "");
        int n = 60;
        MailRecord[] first = new MailRecord[n];
        for (int i = 0; i < n; i++) {
            first[i] = mail(MessageIds.next(), "s@sender.test", "u" + i + "@local.test", "r" + i + "@remote.test");
        }
        try (TopicReader local = new TopicReader(bootstrap, topics.local());
             TopicReader outbound = new TopicReader(bootstrap, topics.outbound())) {
            publish(List.of(new ProducerRecord<>(topics.inbound(), 0, "junk", new byte[] {1, 2, 3}, new RecordHeaders())));
            publish(first);
            try (RouterRole router = new RouterRole(config, clients, topics, "once")) {
                router.start();
                local.atLeast(n, WAIT);
            }

            // A new router with the same transactional id takes over; it must start after what the first committed.
            List<ProducerRecord<String, byte[]>> markers = new ArrayList<>();
            for (int p = 0; p < 3; p++) {
                markers.add(onPartition(p, mail("MARK" + p, "s@sender.test", "m" + p + "@local.test", "m" + p + "@remote.test")));
            }
            try (RouterRole again = new RouterRole(config, clients, topics, "once")) {
                again.start();
                publish(markers);
                // Each partition's marker comes after every earlier record of that partition, so once all three
                // are out, anything routed twice would be out too.
                Await.until("three markers routed", WAIT, () -> ids(local.atLeast(0, WAIT)).containsAll(
                        Set.of("MARK0", "MARK1", "MARK2")));
            }
            List<String> localIds = ids(local.atLeast(n + 3, WAIT));
            assertEquals(n + 3, localIds.size(), "local records");
            assertEquals(n + 3, new HashSet<>(localIds).size(), "no message routed twice");
            List<String> outboundIds = ids(outbound.atLeast(n + 3, WAIT));
            assertEquals(n + 3, outboundIds.size(), "outbound records");
            assertEquals(n + 3, new HashSet<>(outboundIds).size(), "no outbound record twice");
        }
    }

    @Test
    void aFencedRouterReplacesItsProducerAndStillRoutesEachMessageOnce() throws Exception {
        MailrootConfig config = setUp("fenced", "");
        try (TopicReader local = new TopicReader(bootstrap, topics.local());
             RouterRole router = new RouterRole(config, clients, topics, "fenced")) {
            router.start();
            publish(mail("BEFORE", "s@sender.test", "a@local.test"));
            local.atLeast(1, WAIT);

            // A producer with the router's transactional id bumps the epoch: the router's next transaction fails.
            try (KafkaProducer<String, byte[]> usurper = clients.transactionalProducer(router.transactionalId())) {
                usurper.initTransactions();
            }
            int n = 20;
            List<ProducerRecord<String, byte[]>> after = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                after.add(onPartition(i % 3, mail("AFTER" + i, "s@sender.test", "u" + i + "@local.test")));
            }
            publish(after);

            List<String> ids = ids(local.atLeast(n + 1, WAIT));
            assertEquals(n + 1, new HashSet<>(ids).size(), "every message routed: " + ids);
            // One more message per partition: once they are out, any duplicate of the earlier ones would be too.
            publish(List.of(onPartition(0, mail("MARK0", "s@s.test", "m@local.test")),
                    onPartition(1, mail("MARK1", "s@s.test", "m@local.test")),
                    onPartition(2, mail("MARK2", "s@s.test", "m@local.test"))));
            ids = ids(local.atLeast(n + 4, WAIT));
            assertEquals(n + 4, ids.size(), "no message routed twice: " + ids);
            assertEquals(n + 4, new HashSet<>(ids).size());
        }
    }

    @Test
    void twoRoutersOnOneHostWithTheirOwnNodeIdsNeverFenceEachOther() throws Exception {
        setUp("twonodes", "");
        String yaml = "fqdn: relay.test\nlocalDomains: [local.test]\ndelivery:\n  retryIntervals: [1s]\ndataDir: ";
        MailrootConfig first = ConfigLoader.parse(yaml + "node-a\n", dir);
        MailrootConfig second = ConfigLoader.parse(yaml + "node-b\n", dir);
        try (TopicReader local = new TopicReader(bootstrap, topics.local());
             RouterRole a = new RouterRole(first, clients, topics);
             RouterRole b = new RouterRole(second, clients, topics)) {
            assertTrue(!a.transactionalId().equals(b.transactionalId()), a.transactionalId());
            a.start();
            publish(List.of(onPartition(0, mail("A0", "s@s.test", "x@local.test")),
                    onPartition(1, mail("A1", "s@s.test", "x@local.test")),
                    onPartition(2, mail("A2", "s@s.test", "x@local.test"))));
            local.atLeast(3, WAIT);
            b.start();
            Await.until("the second router's producer", WAIT, () -> b.producersStarted.get() == 1);

            int n = 30;
            List<ProducerRecord<String, byte[]>> after = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                after.add(onPartition(i % 3, mail("B" + i, "s@sender.test", "u" + i + "@local.test")));
            }
            publish(after);
            List<String> ids = ids(local.atLeast(n + 3, WAIT));
            assertEquals(n + 3, new HashSet<>(ids).size(), "every message routed: " + ids);
            assertEquals(1, a.producersStarted.get(), "the first router was fenced");
            assertEquals(1, b.producersStarted.get(), "the second router was fenced");
        }
        // The generated node id is kept in dataDir: the same router after a restart, a private file.
        Path idFile = dir.resolve("node-a").resolve(NodeId.FILE);
        assertEquals(NodeId.of(first), NodeId.of(ConfigLoader.parse(yaml + "node-a\n", dir)));
        assertEquals(new RouterRole(first, clients, topics).transactionalId(),
                new RouterRole(ConfigLoader.parse(yaml + "node-a\n", dir), clients, topics).transactionalId());
        assertTrue(new RouterRole(first, clients, topics).transactionalId().endsWith(Files.readString(idFile).trim()));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(idFile)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(idFile.getParent())));
        assertEquals("router-x", NodeId.of(ConfigLoader.parse(yaml + "node-c\nnodeId: router-x\n", dir)));
    }

    @Test
    void aMessageTheRulesFailOnIsReportedAsFailedToItsSenderNotLost() throws Exception {
        MailrootConfig config = setUp("rulebug", "");
        RoutingRule buggy = (message, pending) -> {
            if (pending.stream().anyMatch(r -> r.address().startsWith("boom@"))) {
                throw new NullPointerException("a rule bug");
            }
            return List.of();
        };
        List<RoutingRule> rules = new ArrayList<>(List.of(buggy));
        rules.addAll(RoutingRules.from(config).rules());
        MessageRouter withBug = new MessageRouter(new RoutingRules(rules), topics, null, d -> false);
        MailRecord doomed = mail("DOOMED", "alice@sender.test", "x@local.test", "boom@remote.test");
        MailRecord fine = mail("FINE", "alice@sender.test", "y@local.test");
        try (RouterRole router = new RouterRole(config, clients, topics, "rulebug", withBug);
             TopicReader local = new TopicReader(bootstrap, topics.local());
             TopicReader dsn = new TopicReader(bootstrap, topics.dsn())) {
            router.start();
            publish(List.of(onPartition(0, doomed), onPartition(0, fine)));

            ConsumerRecord<String, byte[]> report = dsn.atLeast(1, WAIT).get(0);
            assertEquals("DOOMED", report.key());
            assertArrayEquals(doomed.message(), report.value(), "the original bytes, for the report");
            Envelope failed = envelope(report);
            assertEquals("alice@sender.test", failed.sender());
            assertEquals(List.of("x@local.test", "boom@remote.test"), addresses(failed));
            for (Recipient r : failed.recipients()) {
                assertEquals(Outcome.Action.FAILED, r.outcome().action());
                assertEquals("5.3.0", r.outcome().status());
                assertTrue(r.outcome().diagnostic().startsWith("x-mailroot; routing failed: NullPointerException"),
                        r.outcome().diagnostic());
                assertTrue(r.outcome().diagnostic().contains("a rule bug"), r.outcome().diagnostic());
            }
            // FINE follows DOOMED on the same partition: once it is routed, DOOMED was dealt with.
            assertEquals(List.of("FINE"), ids(local.atLeast(1, WAIT)));
            assertEquals(1, dsn.atLeast(1, WAIT).size());
        }
    }

    @Test
    void aMalformedRecordIsKeptInBadmailBeforeItsOffsetCommits() throws Exception {
        MailrootConfig config = setUp("malformed", "");
        byte[] junk = "Subject: no envelope\r\n\r\njunk\r\n".getBytes(StandardCharsets.US_ASCII);
        try (TopicReader local = new TopicReader(bootstrap, topics.local());
             RouterRole router = new RouterRole(config, clients, topics, "malformed")) {
            publish(List.of(new ProducerRecord<>(topics.inbound(), 1, "junk", junk, new RecordHeaders()),
                    onPartition(1, mail("AFTER", "s@sender.test", "a@local.test"))));
            router.start();
            assertEquals(List.of("AFTER"), ids(local.atLeast(1, WAIT)));

            String name = ("malformed-" + topics.inbound() + "-1-0").replaceAll("[^A-Za-z0-9._-]", "_");
            Path bad = config.badmailDir().resolve(name + ".bad");
            assertArrayEquals(junk, Files.readAllBytes(bad));
            String reason = Files.readString(config.badmailDir().resolve(name + ".bdr"));
            assertTrue(reason.contains("Malformed record") && reason.contains("mailroot-envelope"), reason);
        }
    }

    @Test
    void anUnexpectedErrorRestartsTheRouterWhichThenRoutesLaterMessages() throws Exception {
        MailrootConfig config = setUp("recover", "");
        AtomicInteger failures = new AtomicInteger();
        try (TopicReader local = new TopicReader(bootstrap, topics.local());
             RouterRole router = new RouterRole(config, clients, topics, "recover")) {
            router.start();
            publish(mail("FIRST", "s@sender.test", "a@local.test"));
            local.atLeast(1, WAIT);

            router.beforePoll = () -> {
                if (failures.incrementAndGet() <= 2) {
                    throw new IllegalStateException("injected failure");
                }
            };
            Await.until("the injected failures", WAIT, () -> failures.get() >= 2);
            publish(mail("SECOND", "s@sender.test", "b@local.test"));

            List<String> ids = ids(local.atLeast(2, WAIT));
            assertEquals(List.of("FIRST", "SECOND"), ids);
            assertTrue(failures.get() > 2, "polling again after the failures");
        }
    }

    private static List<String> ids(List<ConsumerRecord<String, byte[]>> records) {
        return records.stream().map(r -> envelope(r).id()).toList();
    }
}
