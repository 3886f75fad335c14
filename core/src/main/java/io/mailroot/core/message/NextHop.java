package io.mailroot.core.message;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.apache.kafka.common.utils.Utils;

/**
 * Where the router sends a group of remote recipients of one message, and which shard of that hop carries them.
 *
 * @param domain for a direct hop (MX lookup, with or without a fallback relay) the recipients' domain, which all
 *     recipients of the record share; null for a fixed relay, whose record may carry recipients of many domains
 *     (records written before relays were shared carry the first recipient's domain, which nothing reads)
 * @param relay a fixed {@code host[:port]} (smart host or route domain), or null to look up MX for {@code domain}
 * @param fallbackRelay a smart host to use after direct delivery failed (IIS "attempt direct delivery
 *     before sending to smart host"), or null
 * @param shard which of the hop's {@code shards} this record belongs to, 0 to {@code shards - 1}
 * @param shards over how many Kafka keys (so partitions and deliverers) the hop is spread; records from before
 *     sharding carry none and mean 1
 */
public record NextHop(String domain, String relay, String fallbackRelay, int shard, int shards) {

    public NextHop {
        domain = domain == null ? null : domain.toLowerCase(Locale.ROOT);
        if (domain == null && relay == null) {
            throw new IllegalArgumentException("a next hop needs a domain (for MX) or a relay");
        }
        shards = Math.max(1, shards);
        if (shard < 0 || shard >= shards) {
            throw new IllegalArgumentException("shard " + shard + " is not in 0.." + (shards - 1));
        }
    }

    /** One shard: the hop as it was before it could be spread. */
    public NextHop(String domain, String relay, String fallbackRelay) {
        this(domain, relay, fallbackRelay, 0, 1);
    }

    public static NextHop direct(String domain) {
        return new NextHop(domain, null, null);
    }

    /** A fixed relay for recipients of any domain (smart host, route-domain host). */
    public static NextHop relay(String relay) {
        return new NextHop(null, relay, null);
    }

    /**
     * The same hop, on the shard the message belongs to among {@code shards}: a stable hash of the message id, so
     * every record of one message for this hop (and its retries) stays on one key.
     */
    public NextHop sharded(String messageId, int shards) {
        return new NextHop(domain, relay, fallbackRelay, shardOf(messageId, shards), shards);
    }

    /** Kafka's own murmur2: the same on every node and JVM, unlike a hash nobody specified. */
    public static int shardOf(String messageId, int shards) {
        if (shards <= 1) {
            return 0;
        }
        return Utils.toPositive(Utils.murmur2(messageId.getBytes(StandardCharsets.UTF_8))) % shards;
    }

    /**
     * The Kafka key of outbound and retry records: {@code [relay]} or the domain, plus {@code #shard} when the hop
     * has more than one shard. One deliverer owns a key at a time, so a shard's connections need no coordination;
     * a one-shard hop keeps the key it had before sharding, so records already queued stay with it.
     */
    public String key() {
        String hop = relay != null ? "[" + relay.toLowerCase(Locale.ROOT) + "]" : domain;
        return shards > 1 ? hop + "#" + shard : hop;
    }

    /**
     * This shard's part of the hop's connection limit: every shard may be delivered by a different deliverer, so
     * each gets {@code ceil(limit / shards)} (at least one) and all together exceed the limit only by rounding.
     */
    public int connectionsPerShard(int hopLimit) {
        return Math.max(1, (Math.max(1, hopLimit) + shards - 1) / shards);
    }

    /** How logs and errors name the hop: the relay, or the domain whose MX is used. */
    public String name() {
        return relay != null ? relay : domain;
    }
}
