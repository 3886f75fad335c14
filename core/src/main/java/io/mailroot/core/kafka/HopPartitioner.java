package io.mailroot.core.kafka;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.kafka.clients.producer.Partitioner;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.utils.Utils;

/**
 * Puts the shards of one next hop on different partitions. A sharded key {@code hop#n} goes to the partition after
 * the one {@code hop} hashes to, plus n; any other key where Kafka's default partitioner puts it (murmur2 of the key),
 * so records queued before sharding, and every other topic, keep their partitions. Hashing {@code hop#n} instead
 * would land k shards on fewer than k partitions about as often as not, and leave deliverers idle beside a busy hop.
 * Both writers of {@code outbound}, the router and the retry role, use it, so a retried record returns to its
 * shard's partition.
 */
public final class HopPartitioner implements Partitioner {

    @Override
    public int partition(String topic, Object key, byte[] keyBytes, Object value, byte[] valueBytes, Cluster cluster) {
        int partitions = cluster.partitionsForTopic(topic).size();
        if (keyBytes == null) {
            return ThreadLocalRandom.current().nextInt(partitions);
        }
        return partitionOf(key instanceof String s ? s : new String(keyBytes, StandardCharsets.UTF_8), keyBytes, partitions);
    }

    /** The partition of {@code key} among {@code partitions}. */
    public static int partitionOf(String key, byte[] keyBytes, int partitions) {
        int hash = key.lastIndexOf('#');
        if (hash > 0 && hash < key.length() - 1 && hash >= key.length() - 5 && digits(key, hash + 1)) {
            int shard = Integer.parseInt(key.substring(hash + 1));
            int base = Utils.toPositive(Utils.murmur2(key.substring(0, hash).getBytes(StandardCharsets.UTF_8))) % partitions;
            return (base + shard) % partitions;
        }
        return Utils.toPositive(Utils.murmur2(keyBytes)) % partitions;
    }

    private static boolean digits(String s, int from) {
        for (int i = from; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() {
    }

    @Override
    public void configure(Map<String, ?> configs) {
    }
}
