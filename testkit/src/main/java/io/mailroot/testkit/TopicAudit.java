package io.mailroot.testkit;

import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.Recipient;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Checks a cluster's topics after a test, reading with {@code isolation.level=read_committed} as every role does:
 * <ul>
 *   <li>records the router wrote twice: an {@code outbound} record of attempt 0 (the retry consumer's records have
 *   attempt 1 and up) or a {@code local} record, with the same message id, key and recipients as another;</li>
 *   <li>the lag of every consumer group, counted in records a consumer would still be given (a committed offset
 *   just before a transaction marker is no lag); on {@code retry.N} topics records whose {@code nextDueAt} is still
 *   ahead are legitimately waiting and reported apart.</li>
 * </ul>
 * Run on the cluster's network with Mailroot's libraries on the class path; the connection comes from the same
 * MAILROOT_KAFKA_* variables the roles read. Every result line starts with {@code AUDIT }.
 */
public final class TopicAudit {

    private static final Duration READ_DEADLINE = Duration.ofSeconds(90);

    private final Properties kafka;
    private final Topics topics;
    private final Consumer<String> out;

    public TopicAudit(Properties kafka, Topics topics, Consumer<String> out) {
        this.kafka = kafka;
        this.topics = topics;
        this.out = out;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> env = System.getenv();
        Properties p = new Properties();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, required(env, "MAILROOT_KAFKA_BOOTSTRAP"));
        String protocol = env.getOrDefault("MAILROOT_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT");
        p.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, protocol);
        if (protocol.startsWith("SASL")) {
            String mechanism = env.getOrDefault("MAILROOT_KAFKA_SASL_MECHANISM", "PLAIN");
            String module = mechanism.equals("PLAIN") ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                    : "org.apache.kafka.common.security.scram.ScramLoginModule";
            p.put(SaslConfigs.SASL_MECHANISM, mechanism);
            p.put(SaslConfigs.SASL_JAAS_CONFIG, module + " required username=\""
                    + required(env, "MAILROOT_KAFKA_SASL_USERNAME") + "\" password=\""
                    + required(env, "MAILROOT_KAFKA_SASL_PASSWORD").replace("\"", "\\\"") + "\";");
        }
        Topics topics = new Topics(env.getOrDefault("MAILROOT_KAFKA_TOPIC_PREFIX", "mailroot."), 0);
        new TopicAudit(p, topics, System.out::println).run();
    }

    private static String required(Map<String, String> env, String name) {
        String v = env.get(name);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException(name + " is not set; TopicAudit reads the cluster from it");
        }
        return v;
    }

    public void run() throws Exception {
        try (Admin admin = Admin.create(kafka); KafkaConsumer<String, byte[]> consumer = consumer()) {
            int duplicates = 0;
            duplicates += duplicates(admin, consumer, topics.outbound(), true);
            duplicates += duplicates(admin, consumer, topics.local(), false);
            out.accept("AUDIT router-duplicates " + duplicates);
            lag(admin, consumer);
        }
    }

    /** Router-written records of {@code topic} that share message id, key and recipients with an earlier one. */
    private int duplicates(Admin admin, KafkaConsumer<String, byte[]> consumer, String topic, boolean firstAttemptOnly)
            throws Exception {
        List<TopicPartition> partitions = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic)
                .partitions().stream().map(i -> new TopicPartition(topic, i.partition())).toList();
        Map<TopicPartition, Long> start = new HashMap<>();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        for (TopicPartition tp : partitions) {
            start.put(tp, consumer.position(tp));
        }
        Map<String, Integer> seen = new HashMap<>();
        int[] records = {0};
        readUntil(consumer, start, endOffsets(admin, partitions), r -> {
            Envelope e = EnvelopeCodec.fromRecord(r).envelope();
            if (firstAttemptOnly && e.attempt() > 0) {
                return;
            }
            records[0]++;
            String recipients = e.recipients().stream().map(Recipient::address).sorted()
                    .collect(Collectors.joining(","));
            seen.merge(e.id() + " " + r.key() + " " + recipients, 1, Integer::sum);
        });
        int duplicates = 0;
        for (Map.Entry<String, Integer> s : seen.entrySet()) {
            if (s.getValue() > 1) {
                duplicates += s.getValue() - 1;
                out.accept("AUDIT duplicate " + topic + " " + s.getKey() + " x" + s.getValue());
            }
        }
        out.accept("AUDIT records " + topic + " " + records[0] + (firstAttemptOnly ? " (attempt 0)" : ""));
        return duplicates;
    }

    private void lag(Admin admin, KafkaConsumer<String, byte[]> consumer) throws Exception {
        Pattern retry = topics.anyRetry();
        long totalLag = 0;
        long totalWaiting = 0;
        Collection<ConsumerGroupListing> groups = admin.listConsumerGroups().all().get();
        for (ConsumerGroupListing g : groups.stream().sorted((a, b) -> a.groupId().compareTo(b.groupId())).toList()) {
            Map<TopicPartition, OffsetAndMetadata> committed =
                    admin.listConsumerGroupOffsets(g.groupId()).partitionsToOffsetAndMetadata().get();
            // A group that has committed nothing yet (ndr, retry while their topics are empty) is judged by what
            // its members were assigned.
            List<String> named = new ArrayList<>(committed.keySet().stream().map(TopicPartition::topic).toList());
            admin.describeConsumerGroups(List.of(g.groupId())).all().get().get(g.groupId()).members()
                    .forEach(m -> m.assignment().topicPartitions().forEach(tp -> named.add(tp.topic())));
            List<String> groupTopics = named.stream().distinct().sorted().toList();
            if (groupTopics.isEmpty()) {
                out.accept("AUDIT group " + g.groupId() + " has neither committed offsets nor members");
                continue;
            }
            // Every partition of the group's topics: one it never committed on still counts from its beginning.
            List<TopicPartition> partitions = new ArrayList<>();
            admin.describeTopics(groupTopics).allTopicNames().get().forEach((t, d) -> d.partitions()
                    .forEach(i -> partitions.add(new TopicPartition(t, i.partition()))));
            Map<TopicPartition, Long> end = endOffsets(admin, partitions);
            Map<TopicPartition, Long> from = new HashMap<>();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            for (TopicPartition tp : partitions) {
                OffsetAndMetadata c = committed.get(tp);
                long position = c != null ? c.offset() : consumer.position(tp);
                if (position < end.get(tp)) {
                    from.put(tp, position);
                }
            }
            Map<TopicPartition, long[]> counts = new TreeMap<>((a, b) -> a.toString().compareTo(b.toString()));
            Instant now = Instant.now();
            readUntil(consumer, from, end, r -> {
                TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                long[] c = counts.computeIfAbsent(tp, k -> new long[2]);
                Instant due = retry.matcher(r.topic()).matches()
                        ? EnvelopeCodec.fromRecord(r).envelope().nextDueAt() : null;
                c[due != null && due.isAfter(now) ? 1 : 0]++;
            });
            long groupLag = 0;
            for (Map.Entry<TopicPartition, long[]> c : counts.entrySet()) {
                long[] n = c.getValue();
                if (n[0] > 0) {
                    out.accept("AUDIT lag " + g.groupId() + " " + c.getKey() + " committed=" + from.get(c.getKey())
                            + " end=" + end.get(c.getKey()) + " records=" + n[0]);
                }
                if (n[1] > 0) {
                    out.accept("AUDIT waiting " + g.groupId() + " " + c.getKey() + " records=" + n[1]);
                }
                groupLag += n[0];
                totalWaiting += n[1];
            }
            out.accept("AUDIT group " + g.groupId() + " topics=" + groupTopics + " lag=" + groupLag);
            totalLag += groupLag;
        }
        out.accept("AUDIT total-lag " + totalLag);
        out.accept("AUDIT total-waiting " + totalWaiting);
    }

    /** Hands every committed record in [from, end) of each partition to {@code each}. */
    private static void readUntil(KafkaConsumer<String, byte[]> consumer, Map<TopicPartition, Long> from,
                                  Map<TopicPartition, Long> end, Consumer<ConsumerRecord<String, byte[]>> each) {
        consumer.assign(from.keySet());
        from.forEach(consumer::seek);
        long deadline = System.nanoTime() + READ_DEADLINE.toNanos();
        while (from.keySet().stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("could not read " + from.keySet() + " to " + end + " within "
                        + READ_DEADLINE);
            }
            for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition()))) {
                    each.accept(r);
                }
            }
        }
    }

    private static Map<TopicPartition, Long> endOffsets(Admin admin, List<TopicPartition> partitions) throws Exception {
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        partitions.forEach(tp -> latest.put(tp, OffsetSpec.latest()));
        Map<TopicPartition, Long> end = new HashMap<>();
        admin.listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all().get()
                .forEach((tp, info) -> end.put(tp, info.offset()));
        return end;
    }

    private KafkaConsumer<String, byte[]> consumer() {
        Properties p = new Properties();
        p.putAll(kafka);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "2000");
        return new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
    }
}
