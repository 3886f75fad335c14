package io.mailroot.core.monitor;

import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.EnvelopeCodec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.admin.ListGroupsOptions;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads a {@link LagSnapshot}: for every Mailroot topic (those of {@link Topics#all()} that exist, and every
 * {@code retry.N} there is), partition and consumer group of the installation (ids starting with the group prefix),
 * the end and committed offsets, and the age of the oldest record not yet consumed: the timestamp of the record at
 * the committed offset, read by a consumer of its own (no group, read_committed) that seeks there. On a retry level
 * it goes on reading while records are overdue, to count them. One reader keeps one Admin and one consumer; it is
 * not for concurrent use.
 */
public final class TopicLagReader implements AutoCloseable {

    /** A retry is overdue once its due time is this far past: the retry role releases it at the due time. */
    public static final Duration OVERDUE_GRACE = Duration.ofMinutes(1);
    /** Overdue retries counted per partition at most: a count that large says enough, and each is a record read. */
    static final int MAX_OVERDUE_SCAN = 10_000;
    private static final Duration POLL = Duration.ofMillis(100);
    private static final AtomicInteger INSTANCES = new AtomicInteger();

    private final Topics topics;
    private final String groupPrefix;
    private final Duration timeout;
    private final Clock clock = Clock.systemUTC();
    private final Admin admin;
    private final KafkaConsumer<byte[], byte[]> consumer;

    /** @param timeout for each request to Kafka, and for reading the oldest records of all partitions together */
    public TopicLagReader(KafkaClients clients, Topics topics, Duration timeout) {
        this.topics = topics;
        this.groupPrefix = clients.groupPrefix();
        this.timeout = timeout;
        this.admin = Admin.create(clients.adminConfig());
        Map<String, Object> c = clients.consumerConfig("lag", "lag-reader-" + INSTANCES.incrementAndGet());
        // Assigned, never subscribed: it commits nothing and joins no group.
        c.remove(ConsumerConfig.GROUP_ID_CONFIG);
        c.remove(ConsumerConfig.GROUP_PROTOCOL_CONFIG);
        KafkaConsumer<byte[], byte[]> made;
        try {
            made = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        } catch (RuntimeException e) {
            admin.close(Duration.ZERO);
            throw e;
        }
        this.consumer = made;
    }

    /** The lag now; throws a KafkaException naming what could not be read. */
    public LagSnapshot read() {
        Instant now = clock.instant();
        try {
            List<TopicPartition> partitions = partitions();
            Map<TopicPartition, Long> ends = offsets(partitions, OffsetSpec.latest());
            Map<TopicPartition, Long> starts = offsets(partitions, OffsetSpec.earliest());
            List<String> groupIds = groups();
            Map<String, Map<TopicPartition, Long>> committed = groupOffsets(groupIds, Set.copyOf(partitions));
            // A group reads a topic it committed on, or one its members are assigned (the retry role commits nothing
            // while all its mail waits).
            Map<String, Set<String>> groupsByTopic = new HashMap<>();
            committed.forEach((group, offsets) -> offsets.keySet().forEach(tp -> groupsByTopic
                    .computeIfAbsent(tp.topic(), k -> new java.util.TreeSet<>()).add(group)));
            assigned(groupIds, Set.copyOf(partitions)).forEach((group, read) -> read.forEach(topic -> groupsByTopic
                    .computeIfAbsent(topic, k -> new java.util.TreeSet<>()).add(group)));

            record Row(TopicPartition tp, String group, long end, long from) {
            }
            List<Row> rows = new ArrayList<>();
            for (TopicPartition tp : partitions) {
                long end = ends.get(tp);
                long start = starts.get(tp);
                Collection<String> groups = groupsByTopic.containsKey(tp.topic()) ? groupsByTopic.get(tp.topic())
                        : java.util.Collections.singletonList(null);
                for (String group : groups) {
                    // A partition the group never committed is read from its start (auto.offset.reset=earliest), as is
                    // one whose committed records were deleted meanwhile.
                    long from = group == null ? start
                            : Math.max(start, committed.getOrDefault(group, Map.of()).getOrDefault(tp, start));
                    rows.add(new Row(tp, group, end, from));
                }
            }
            Set<HeadLookup> lookups = new HashSet<>();
            for (Row r : rows) {
                if (r.from() < r.end()) {
                    lookups.add(new HeadLookup(r.tp(), r.from(), r.end(), retry(r.tp().topic())));
                }
            }
            Map<HeadLookup, HeadScan> heads = readHeads(lookups, now);
            List<PartitionLag> lag = new ArrayList<>();
            for (Row r : rows) {
                boolean retry = retry(r.tp().topic());
                long records = Math.max(0, r.end() - r.from());
                double seconds = 0;
                long overdue = 0;
                if (records > 0) {
                    HeadScan head = heads.get(new HeadLookup(r.tp(), r.from(), r.end(), retry));
                    seconds = head.timestamp >= 0 ? Math.max(0, (now.toEpochMilli() - head.timestamp) / 1000.0)
                            : head.done ? 0 : Double.NaN;
                    overdue = head.overdue;
                }
                lag.add(new PartitionLag(r.tp().topic(), r.tp().partition(), r.group(), r.end(), r.from(), records,
                        seconds, retry, overdue));
            }
            return new LagSnapshot(now, lag);
        } catch (ExecutionException e) {
            throw new KafkaException("cannot read topic lag: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new KafkaException("cannot read topic lag: Kafka did not answer within " + timeout, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaException("interrupted reading topic lag", e);
        }
    }

    private boolean retry(String topic) {
        return topics.anyRetry().matcher(topic).matches();
    }

    /** Every partition of the Mailroot topics that exist, in the order of {@link Topics#all()}, then retry levels. */
    private List<TopicPartition> partitions() throws ExecutionException, InterruptedException, TimeoutException {
        Set<String> existing = admin.listTopics().names().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        Pattern anyRetry = topics.anyRetry();
        List<String> names = new ArrayList<>(topics.all().stream().filter(existing::contains).toList());
        existing.stream().filter(t -> anyRetry.matcher(t).matches() && !names.contains(t))
                .sorted(Comparator.comparingInt(t -> Integer.parseInt(t.substring(t.lastIndexOf('.') + 1))))
                .forEach(names::add);
        if (names.isEmpty()) {
            return List.of();
        }
        Map<String, TopicDescription> described = admin.describeTopics(names).allTopicNames()
                .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        List<TopicPartition> partitions = new ArrayList<>();
        for (String name : names) {
            int count = described.get(name).partitions().size();
            for (int p = 0; p < count; p++) {
                partitions.add(new TopicPartition(name, p));
            }
        }
        return partitions;
    }

    /** Latest is the last stable offset (read_committed): an open transaction's records are not lag yet. */
    private Map<TopicPartition, Long> offsets(List<TopicPartition> partitions, OffsetSpec spec)
            throws ExecutionException, InterruptedException, TimeoutException {
        if (partitions.isEmpty()) {
            return Map.of();
        }
        Map<TopicPartition, OffsetSpec> request = new LinkedHashMap<>();
        partitions.forEach(tp -> request.put(tp, spec));
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> info = admin
                .listOffsets(request, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all()
                .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        Map<TopicPartition, Long> offsets = new HashMap<>();
        info.forEach((tp, i) -> offsets.put(tp, i.offset()));
        return offsets;
    }

    /** The installation's consumer groups: their ids start with the group prefix. */
    private List<String> groups() throws ExecutionException, InterruptedException, TimeoutException {
        Collection<GroupListing> groups = admin.listGroups(ListGroupsOptions.forConsumerGroups()).all()
                .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        return groups.stream().map(GroupListing::groupId).filter(g -> g.startsWith(groupPrefix)).sorted().toList();
    }

    /** The topics among {@code partitions} that each group's members are assigned now. */
    private Map<String, Set<String>> assigned(List<String> groups, Set<TopicPartition> partitions)
            throws ExecutionException, InterruptedException, TimeoutException {
        if (groups.isEmpty()) {
            return Map.of();
        }
        Map<String, Set<String>> topicsByGroup = new HashMap<>();
        admin.describeConsumerGroups(groups).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .forEach((group, description) -> description.members().forEach(m -> m.assignment().topicPartitions()
                        .stream().filter(partitions::contains)
                        .forEach(tp -> topicsByGroup.computeIfAbsent(group, k -> new HashSet<>()).add(tp.topic()))));
        return topicsByGroup;
    }

    /** The committed offsets of the groups on the given partitions; groups with none are left out. */
    private Map<String, Map<TopicPartition, Long>> groupOffsets(List<String> groups, Set<TopicPartition> partitions)
            throws ExecutionException, InterruptedException, TimeoutException {
        if (groups.isEmpty()) {
            return Map.of();
        }
        Map<String, ListConsumerGroupOffsetsSpec> specs = new HashMap<>();
        groups.forEach(g -> specs.put(g, new ListConsumerGroupOffsetsSpec()));
        Map<String, Map<TopicPartition, OffsetAndMetadata>> all = admin.listConsumerGroupOffsets(specs).all()
                .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        Map<String, Map<TopicPartition, Long>> ours = new HashMap<>();
        all.forEach((group, offsets) -> offsets.forEach((tp, o) -> {
            if (o != null && partitions.contains(tp)) {
                ours.computeIfAbsent(group, k -> new HashMap<>()).put(tp, o.offset());
            }
        }));
        return ours;
    }

    /** Where to look: the first record from {@code from} below {@code end}. */
    private record HeadLookup(TopicPartition tp, long from, long end, boolean retry) {
    }

    /** What was found from a lookup's offset: the first record's timestamp and, on a retry level, the overdue count. */
    private static final class HeadScan {
        private final HeadLookup lookup;
        private final Instant overdueBefore;
        long timestamp = -1;
        long overdue;
        boolean done;

        HeadScan(HeadLookup lookup, Instant now) {
            this.lookup = lookup;
            this.overdueBefore = now.minus(OVERDUE_GRACE);
        }

        void accept(ConsumerRecord<byte[], byte[]> r) {
            if (done || r.offset() < lookup.from()) {
                return;
            }
            if (r.offset() >= lookup.end()) {
                done = true;
                return;
            }
            if (timestamp < 0) {
                timestamp = r.timestamp();
            }
            if (!lookup.retry()) {
                done = true;
                return;
            }
            // Records of a level fall due in about the order they were written, and the retry role waits at the
            // first one not due: the count stops there too.
            if (dueAt(r).isBefore(overdueBefore)) {
                overdue++;
                done = overdue >= MAX_OVERDUE_SCAN;
            } else {
                done = true;
            }
        }
    }

    /** As the retry role reads it: no due time, or no readable envelope, is due at once. */
    static Instant dueAt(ConsumerRecord<byte[], byte[]> r) {
        Header h = r.headers().lastHeader(EnvelopeCodec.HEADER);
        if (h == null || h.value() == null) {
            return Instant.EPOCH;
        }
        try {
            Envelope env = EnvelopeCodec.decode(h.value());
            return env.nextDueAt() == null ? Instant.EPOCH : env.nextDueAt();
        } catch (RuntimeException e) {
            return Instant.EPOCH;
        }
    }

    /**
     * Reads from each lookup's offset until its scan is done or the partition's end is reached. A partition has one
     * position at a time, so lookups of one partition at different offsets (groups at different places) take rounds.
     */
    private Map<HeadLookup, HeadScan> readHeads(Set<HeadLookup> lookups, Instant now) {
        Map<TopicPartition, Deque<HeadLookup>> byPartition = new HashMap<>();
        for (HeadLookup l : lookups.stream().sorted(Comparator.comparingLong(HeadLookup::from)).toList()) {
            byPartition.computeIfAbsent(l.tp(), k -> new ArrayDeque<>()).add(l);
        }
        Map<HeadLookup, HeadScan> scans = new HashMap<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (!byPartition.isEmpty()) {
                Map<TopicPartition, HeadScan> round = new HashMap<>();
                byPartition.values().removeIf(q -> {
                    HeadLookup l = q.poll();
                    HeadScan s = new HeadScan(l, now);
                    round.put(l.tp(), s);
                    scans.put(l, s);
                    return q.isEmpty();
                });
                consumer.assign(round.keySet());
                round.forEach((tp, s) -> consumer.seek(tp, s.lookup.from()));
                Set<TopicPartition> open = new HashSet<>(round.keySet());
                while (!open.isEmpty() && System.nanoTime() < deadline) {
                    ConsumerRecords<byte[], byte[]> records = consumer.poll(POLL);
                    for (TopicPartition tp : records.partitions()) {
                        HeadScan s = round.get(tp);
                        for (ConsumerRecord<byte[], byte[]> r : records.records(tp)) {
                            s.accept(r);
                        }
                    }
                    for (TopicPartition tp : List.copyOf(open)) {
                        HeadScan s = round.get(tp);
                        // Past the end with nothing found: only markers or aborted records were left.
                        if (!s.done && consumer.position(tp) >= s.lookup.end()) {
                            s.done = true;
                        }
                        if (s.done) {
                            open.remove(tp);
                            consumer.pause(List.of(tp));
                        }
                    }
                }
            }
        } finally {
            consumer.assign(List.of());
        }
        return scans;
    }

    @Override
    public void close() {
        try {
            consumer.close(Duration.ofSeconds(5));
        } finally {
            admin.close(Duration.ofSeconds(5));
        }
    }
}
