package io.mailroot.deliverer.control;

import io.mailroot.core.control.ControlAction;
import io.mailroot.core.control.ControlAction.Verb;
import io.mailroot.core.control.ControlCodec;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.EnvelopeCodec.MalformedRecordException;
import io.mailroot.core.message.NextHop;
import io.mailroot.core.message.Recipient;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's current actions, as the compacted {@code control} topic holds them: read whole (every partition,
 * no consumer group, from the beginning) before its role takes mail, then followed on a thread of its own. Every
 * deliverer and retry process keeps its own board, so each applies every action to the records it holds.
 */
public final class ControlBoard implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ControlBoard.class);
    private static final Duration LOAD_LIMIT = Duration.ofSeconds(60);
    private static final Duration POLL = Duration.ofMillis(200);

    private final Map<String, ControlAction> byKey = new ConcurrentHashMap<>();
    /** Moves on with every change, so a reader knows whether what it decided still holds. */
    private final AtomicLong generation = new AtomicLong();
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private final KafkaConsumer<String, byte[]> consumer;
    private final Thread follower;

    private ControlBoard(KafkaConsumer<String, byte[]> consumer, String name) {
        this.consumer = consumer;
        this.follower = new Thread(this::follow, name);
        this.follower.setDaemon(true);
    }

    /** Reads the whole topic (failing after a minute if it cannot), then follows it. */
    public static ControlBoard open(KafkaClients clients, Topics topics, String clientId) {
        Map<String, Object> c = clients.consumerConfig("control", clientId + "-control");
        // Every node needs every action: no group, so no partition is shared out and nothing is committed.
        c.remove(ConsumerConfig.GROUP_ID_CONFIG);
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
        ControlBoard board = new ControlBoard(consumer, clientId + "-control");
        try {
            board.load(topics.control());
        } catch (RuntimeException e) {
            consumer.close(Duration.ofSeconds(2));
            throw e;
        }
        board.follower.start();
        return board;
    }

    private void load(String topic) {
        long deadline = System.nanoTime() + LOAD_LIMIT.toNanos();
        List<PartitionInfo> infos = consumer.partitionsFor(topic, LOAD_LIMIT);
        if (infos == null || infos.isEmpty()) {
            throw new IllegalStateException("the control topic " + topic + " does not exist");
        }
        List<TopicPartition> all = infos.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
        consumer.assign(all);
        consumer.seekToBeginning(all);
        Map<TopicPartition, Long> end = consumer.endOffsets(all, LOAD_LIMIT);
        while (all.stream().anyMatch(tp -> consumer.position(tp, LOAD_LIMIT) < end.get(tp))) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("could not read the control topic " + topic + " within " + LOAD_LIMIT);
            }
            consumer.poll(POLL).forEach(this::apply);
        }
        LOG.debug("control board loaded: {} action(s)", byKey.size());
    }

    private void follow() {
        while (true) {
            try {
                consumer.poll(POLL).forEach(this::apply);
            } catch (WakeupException e) {
                return;
            } catch (KafkaException e) {
                LOG.warn("reading the control topic failed: {}; trying again", e.toString());
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException stop) {
                    return;
                }
            }
        }
    }

    private void apply(ConsumerRecord<String, byte[]> r) {
        if (r.key() == null) {
            return;
        }
        String key = normalised(r.key());
        if (r.value() == null) {
            byKey.remove(key);
        } else {
            try {
                ControlAction action = ControlCodec.decode(r.value());
                byKey.put(normalised(action.key()), action);
                LOG.info("operator action {} {} {} (id {}, by {})", action.verb(), action.messageId() != null ? "message"
                        : "domain", target(action), action.id(), action.operator());
            } catch (MalformedRecordException e) {
                LOG.warn("ignoring unreadable control record {}-{}@{}: {}", r.topic(), r.partition(), r.offset(),
                        e.getMessage());
                return;
            }
        }
        generation.incrementAndGet();
        listeners.forEach(Runnable::run);
    }

    /** Domains compare without case; a message id is kept as written. */
    private static String normalised(String key) {
        return key.startsWith("domain:") ? key.toLowerCase(Locale.ROOT) : key;
    }

    static String target(ControlAction a) {
        return a.messageId() != null ? a.messageId() : a.domain();
    }

    public long generation() {
        return generation.get();
    }

    public boolean isEmpty() {
        return byKey.isEmpty();
    }

    /** Runs on the board's thread after every change. */
    public void onChange(Runnable listener) {
        listeners.add(listener);
    }

    /**
     * The action that decides what becomes of this record now, or null when none does. In order: DELETE, EXPIRE
     * (for mail that arrived before the request), HOLD, RELEASE (only for a record parked by a hold), RETRY_NOW (for a
     * record written before the request, so the attempt it causes, if deferred again, is not hurried once more).
     *
     * @param recordTimestamp when the record was written to the topic it is read from
     * @param heldBy the hold that parked this record ({@link ControlEffects#HELD_HEADER}), or null
     */
    public ControlAction actionFor(Envelope env, Instant recordTimestamp, String heldBy) {
        Set<String> targets = targets(env);
        Instant arrival = env.receivedAt() != null ? env.receivedAt() : recordTimestamp;
        for (Verb verb : List.of(Verb.DELETE, Verb.EXPIRE)) {
            for (ControlAction a : find(targets, verb.name().toLowerCase(Locale.ROOT))) {
                if (!arrival.isAfter(a.requestedAt())) {
                    return a;
                }
            }
        }
        ControlAction holdSlot = holdSlot(env, targets);
        if (holdSlot != null && holdSlot.verb() == Verb.HOLD) {
            return holdSlot;
        }
        if (heldBy != null && holdSlot != null && holdSlot.verb() == Verb.RELEASE) {
            return holdSlot;
        }
        for (ControlAction a : find(targets, "retry_now")) {
            if (!recordTimestamp.isAfter(a.requestedAt())) {
                return a;
            }
        }
        return null;
    }

    /** The one message's own hold or release when it has one, else a hold of one of its domains, else a release. */
    private ControlAction holdSlot(Envelope env, Set<String> targets) {
        ControlAction own = byKey.get("id:" + env.id() + "/hold");
        if (own != null) {
            return own;
        }
        ControlAction release = null;
        for (ControlAction a : find(targets, "hold")) {
            if (a.verb() == Verb.HOLD) {
                return a;
            }
            release = a;
        }
        return release;
    }

    private List<ControlAction> find(Set<String> targets, String slot) {
        List<ControlAction> found = new ArrayList<>(1);
        for (String t : targets) {
            ControlAction a = byKey.get(t + "/" + slot);
            if (a != null) {
                found.add(a);
            }
        }
        return found;
    }

    /** The keys an action on this record could have: its id, its recipients' domains, its next hop. */
    private static Set<String> targets(Envelope env) {
        Set<String> t = new LinkedHashSet<>();
        t.add("id:" + env.id());
        for (Recipient r : env.recipients()) {
            t.add("domain:" + r.domain());
        }
        NextHop hop = env.nextHop();
        if (hop != null) {
            String key = hop.key().toLowerCase(Locale.ROOT);
            t.add("domain:" + key);
            int shard = key.lastIndexOf('#');
            if (shard > 0) {
                t.add("domain:" + key.substring(0, shard));
            }
            if (hop.domain() != null) {
                t.add("domain:" + hop.domain().toLowerCase(Locale.ROOT));
            }
            if (hop.relay() != null) {
                t.add("domain:" + hop.relay().toLowerCase(Locale.ROOT));
            }
        }
        return t;
    }

    @Override
    public void close() {
        consumer.wakeup();
        try {
            follower.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            consumer.close(Duration.ofSeconds(2));
        } catch (RuntimeException e) {
            LOG.debug("error closing the control board's consumer", e);
        }
    }
}
