package io.mailroot.core.message;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class NextHopTest {

    @Test
    void aMessageAlwaysGetsTheSameShardAndMessagesSpreadOverAll() {
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            String id = "msg-" + i + "@relay.test";
            int shard = NextHop.shardOf(id, 6);
            assertTrue(shard >= 0 && shard < 6, id + " -> " + shard);
            assertEquals(shard, NextHop.shardOf(id, 6), "stable for " + id);
            seen.add(shard);
        }
        assertEquals(Set.of(0, 1, 2, 3, 4, 5), seen);
        assertEquals(0, NextHop.shardOf("anything", 1));
    }

    @Test
    void theShardIsKafkasMurmur2OfTheIdSoEveryNodeAgrees() {
        // A fixed value: changing the hash would move queued retries of a message to another key.
        assertEquals(org.apache.kafka.common.utils.Utils.toPositive(org.apache.kafka.common.utils.Utils.murmur2(
                "ID-1".getBytes(StandardCharsets.UTF_8))) % 6, NextHop.shardOf("ID-1", 6));
    }

    @Test
    void keysCarryTheShardOnlyWhenTheHopHasSeveral() {
        assertEquals("b.test", NextHop.direct("B.Test").key());
        assertEquals("[smart.example:25]", NextHop.relay("Smart.Example:25").key());
        NextHop relay = NextHop.relay("smart.example:25").sharded("ID-1", 6);
        assertEquals("[smart.example:25]#" + NextHop.shardOf("ID-1", 6), relay.key());
        assertEquals("example.com#0", new NextHop("example.com", null, null, 0, 2).key());
        assertEquals("example.com", NextHop.direct("example.com").sharded("ID-1", 1).key());
    }

    @Test
    void aRelayHopHasNoDomainAndAHopNeedsOneOrTheOther() {
        assertNull(NextHop.relay("smart.example").domain());
        assertEquals("smart.example", NextHop.relay("smart.example").name());
        assertThrows(IllegalArgumentException.class, () -> new NextHop(null, null, "fallback.test"));
        assertThrows(IllegalArgumentException.class, () -> new NextHop("a.test", null, null, 3, 3));
    }

    @Test
    void theConnectionLimitIsDividedAmongShardsRoundingUpToAtLeastOne() {
        assertEquals(100, NextHop.direct("a.test").connectionsPerShard(100));
        assertEquals(17, NextHop.relay("r").sharded("x", 6).connectionsPerShard(100));
        assertEquals(25, NextHop.relay("r").sharded("x", 4).connectionsPerShard(100));
        assertEquals(1, NextHop.relay("r").sharded("x", 6).connectionsPerShard(3));
        assertEquals(1, NextHop.relay("r").sharded("x", 6).connectionsPerShard(1));
        for (int limit = 1; limit <= 200; limit++) {
            for (int k = 1; k <= Math.min(limit, 12); k++) {
                int total = k * new NextHop("a.test", null, null, 0, k).connectionsPerShard(limit);
                assertTrue(total >= limit && total < limit + k, "limit " + limit + " over " + k + ": " + total);
            }
        }
    }

    @Test
    void aShardedHopSurvivesTheEnvelopeHeader() {
        NextHop hop = NextHop.relay("smart.example:587").sharded("ID-7", 6);
        Envelope e = Envelope.received("ID-7", "a@b.test", List.of(Recipient.of("c@d.test")), Instant.EPOCH)
                .withNextHop(hop);
        assertEquals(hop, EnvelopeCodec.decode(EnvelopeCodec.encode(e)).nextHop());
    }

    @Test
    void aHopWrittenBeforeShardsIsOneShardWithItsOldKey() {
        String json = "{\"id\":\"OLD\",\"sender\":\"a@b.test\",\"recipients\":[{\"address\":\"c@d.test\"}],"
                + "\"nextHop\":{\"domain\":\"d.test\",\"relay\":\"Smart.Example:25\"}}";
        NextHop hop = EnvelopeCodec.decode(json.getBytes(StandardCharsets.UTF_8)).nextHop();
        assertEquals(1, hop.shards());
        assertEquals(0, hop.shard());
        assertEquals("[smart.example:25]", hop.key());
        assertEquals(100, hop.connectionsPerShard(100));
    }
}
