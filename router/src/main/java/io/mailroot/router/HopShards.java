package io.mailroot.router;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.message.NextHop;
import java.util.Map;

/**
 * Over how many shards (outbound keys, so partitions and deliverers) each next hop is spread. A fixed relay carries
 * every domain's mail, so by default it gets as many shards as {@code outbound} has partitions; a domain delivered
 * by MX gets one unless {@code delivery.hopShardsByDomain} names it. Never more shards than the hop's connection
 * limit, since every shard holds at least one connection.
 */
public final class HopShards {

    private final int relayShards;
    private final Map<String, Integer> byDomain;
    private final int connectionLimit;

    public HopShards(int relayShards, Map<String, Integer> byDomain, int connectionLimit) {
        this.relayShards = relayShards;
        this.byDomain = Map.copyOf(byDomain);
        this.connectionLimit = Math.max(1, connectionLimit);
    }

    /** One shard for every hop: the routing as it was before hops were spread. */
    public static HopShards none() {
        return new HopShards(1, Map.of(), 1);
    }

    public static HopShards from(MailrootConfig config) {
        MailrootConfig.Delivery d = config.delivery();
        int relay = d.hopShards() != null ? d.hopShards() : config.kafka().partitions();
        return new HopShards(relay, d.hopShardsByDomain(), d.maxConnectionsPerDomain());
    }

    int shardsOf(NextHop hop) {
        int k = hop.relay() != null ? relayShards : byDomain.getOrDefault(hop.domain(), 1);
        return Math.max(1, Math.min(k, connectionLimit));
    }

    /** The hop on the message's shard: all of one message's recipients for a hop stay in one record. */
    NextHop place(NextHop hop, String messageId) {
        return hop.sharded(messageId, shardsOf(hop));
    }
}
