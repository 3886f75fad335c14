package io.mailroot.core.kafka;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Makes the producers and consumers every role uses, with the settings that make "250 means queued" true:
 * idempotent acks=all producers, read_committed consumers, no auto-commit; and the {@link KafkaSecurity} that
 * authenticates them.
 */
public record KafkaClients(String bootstrap, String groupPrefix, KafkaSecurity security) {

    /**
     * Clients with the credentials of the broker this JVM runs at {@code bootstrap} (the embedded one, and in tests
     * the shared test broker), else none (PLAINTEXT).
     */
    public KafkaClients(String bootstrap, String groupPrefix) {
        this(bootstrap, groupPrefix, KafkaSecurity.inProcess(bootstrap).orElse(KafkaSecurity.NONE));
    }

    /** For an Admin client (topic creation, tests): the bootstrap and the security settings. */
    public Map<String, Object> adminConfig() {
        Map<String, Object> c = new HashMap<>(security.clientProperties());
        c.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        return c;
    }

    /** Largest record Mailroot writes; topics and the embedded broker are created to accept it. */
    public static final int MAX_RECORD_BYTES = 64 * 1024 * 1024;
    /**
     * A producer's buffer: the least that still takes the largest record (a producer refuses one larger than its
     * buffer). It is a cap, not an allocation: it fills only while the broker is slower than the role feeding it, and
     * every role feeds its producer from something already bounded (an SMTP transaction waiting for its ack, one poll
     * of a consumer, the deliverer's in-flight budget). All roles in one process have a producer each.
     */
    static final long PRODUCER_BUFFER_BYTES = MAX_RECORD_BYTES + 1024 * 1024;
    /**
     * What one fetch may bring into a consumer, over all its partitions (Kafka's default is 50 MB, and a consumer may
     * hold a fetched response while the next is on its way). A record batch larger than this still comes, alone, so
     * records of up to {@link #MAX_RECORD_BYTES} are read.
     */
    static final int FETCH_MAX_BYTES = 8 * 1024 * 1024;
    /** What one fetch may bring of one partition (Kafka's default), so a fetch spreads over the partitions. */
    static final int PARTITION_FETCH_MAX_BYTES = 1024 * 1024;

    public Map<String, Object> producerConfig(String clientId) {
        Map<String, Object> c = new HashMap<>(security.clientProperties());
        c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        c.put(ProducerConfig.ACKS_CONFIG, "all");
        c.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        // Concurrent SMTP sessions share one producer: a short linger lets their records go in one batch.
        c.put(ProducerConfig.LINGER_MS_CONFIG, 2);
        c.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        c.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        c.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, MAX_RECORD_BYTES + 1024 * 1024);
        c.put(ProducerConfig.BUFFER_MEMORY_CONFIG, PRODUCER_BUFFER_BYTES);
        c.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        c.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 15_000);
        c.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 15_000);
        c.put(ProducerConfig.PARTITIONER_CLASS_CONFIG, HopPartitioner.class.getName());
        return c;
    }

    public KafkaProducer<String, byte[]> producer(String clientId) {
        return new KafkaProducer<>(producerConfig(clientId), new StringSerializer(), new ByteArraySerializer());
    }

    /** A producer for read-process-write transactions; the id must be stable per consumer instance. */
    public KafkaProducer<String, byte[]> transactionalProducer(String transactionalId) {
        Map<String, Object> c = producerConfig(transactionalId);
        c.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        c.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 60_000);
        return new KafkaProducer<>(c, new StringSerializer(), new ByteArraySerializer());
    }

    public Map<String, Object> consumerConfig(String group, String clientId) {
        Map<String, Object> c = new HashMap<>(security.clientProperties());
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, groupPrefix + group);
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
        c.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, FETCH_MAX_BYTES);
        c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, PARTITION_FETCH_MAX_BYTES);
        c.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer");
        // A request to a broker that stopped answering (paused, cut off) is given up after 10 s, not 30: until then
        // heartbeats and commits wait on it, and the group coordinator that took over cannot hear from the member.
        c.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        return c;
    }

    public KafkaConsumer<String, byte[]> consumer(String group, String clientId) {
        return new KafkaConsumer<>(consumerConfig(group, clientId), new StringDeserializer(), new ByteArrayDeserializer());
    }
}
