package io.mailroot.core.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mailroot.core.message.NextHop;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;

class HopPartitionerTest {

    private static int partition(String key, int partitions) {
        return HopPartitioner.partitionOf(key, key.getBytes(StandardCharsets.UTF_8), partitions);
    }

    @Test
    void theShardsOfAHopTakeAsManyPartitionsAsThereAreShards() {
        for (String relay : new String[] {"smtp.provider.example:25", "10.0.0.5:2526", "sink:2525"}) {
            NextHop hop = NextHop.relay(relay);
            Set<Integer> used = new HashSet<>();
            for (int shard = 0; shard < 6; shard++) {
                used.add(partition(new NextHop(hop.domain(), hop.relay(), null, shard, 6).key(), 6));
            }
            assertEquals(6, used.size(), relay + " shards share partitions: " + used);
        }
    }

    @Test
    void otherKeysStayWhereKafkasOwnPartitionerPutsThem() {
        for (String key : new String[] {"example.com", "[smart:25]", "MX77AF6N.3D186F7766CC87EE", "a#b", "x#123456"}) {
            byte[] b = key.getBytes(StandardCharsets.UTF_8);
            assertEquals(Utils.toPositive(Utils.murmur2(b)) % 12, partition(key, 12), key);
        }
    }
}
