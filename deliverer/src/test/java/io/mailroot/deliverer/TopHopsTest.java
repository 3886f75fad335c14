package io.mailroot.deliverer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.NextHop;
import io.mailroot.core.message.Recipient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The hop tag stays at the busiest few hops plus "other", however many hops traffic meets. */
class TopHopsTest {

    @Test
    void tenThousandHopsMakeAtMostLimitPlusOneTags() {
        List<String> demoted = new ArrayList<>();
        TopHops top = new TopHops(20, 1_000_000, demoted::add);
        Set<String> tags = new HashSet<>();
        Random random = new Random(7);
        for (int i = 0; i < 200_000; i++) {
            // five busy hops carry half the mail, ten thousand others the rest
            String hop = random.nextBoolean() ? "busy" + random.nextInt(5) + ".example" : "d" + random.nextInt(10_000) + ".example";
            String tag = top.tag(hop);
            assertTrue(tag.equals(hop) || tag.equals(TopHops.OTHER), tag);
            if (!tag.equals(TopHops.OTHER)) {
                tags.add(tag);
            }
        }
        assertTrue(top.named().size() <= 20, top.named().toString());
        for (int i = 0; i < 5; i++) {
            assertTrue(top.named().contains("busy" + i + ".example"), top.named().toString());
        }
        // every tag ever handed out is named now or was passed to demoted (whose series the registry then drops)
        for (String tag : tags) {
            assertTrue(top.named().contains(tag) || demoted.contains(tag), tag);
        }
        assertTrue(tags.size() > 20, "hops changed tags: " + tags.size());
    }

    @Test
    void aHopMustDoubleTheQuietestNamedOneToTakeItsTag() {
        List<String> demoted = new ArrayList<>();
        TopHops top = new TopHops(2, 1_000_000, demoted::add);
        for (int i = 0; i < 10; i++) {
            top.tag("a");
            top.tag("b");
        }
        for (int i = 0; i < 19; i++) {
            assertEquals(TopHops.OTHER, top.tag("c"), "c at " + (i + 1));
        }
        assertEquals("c", top.tag("c"));
        assertEquals(List.of("a"), demoted);
        assertEquals(Set.of("b", "c"), top.named());
    }

    @Test
    void aDemotedHopsSeriesLeaveTheRegistry() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        DeliveryMetrics metrics = new DeliveryMetrics(registry);
        Envelope env = Envelope.received("id", "a@x.test", List.of(Recipient.of("r@y.test")), Instant.now());
        for (int i = 0; i < 500; i++) {
            NextHop hop = NextHop.direct("d" + i + ".example");
            for (int n = 0; n < (i % 3 == 0 ? 3 : 1); n++) {
                metrics.attempt(hop, env, List.of(new DeliveryResult(env.recipients().get(0),
                        DeliveryResult.Verdict.DELIVERED, "2.0.0", "250 ok", "mx")), 1_000_000);
            }
        }
        Set<String> hops = new HashSet<>();
        registry.find(DeliveryMetrics.RECIPIENTS).counters().forEach(c -> hops.add(c.getId().getTag("hop")));
        assertTrue(hops.size() <= DeliveryMetrics.HOP_TAGS + 1, hops.size() + " hop tags: " + hops);
        assertTrue(hops.contains(TopHops.OTHER), hops.toString());
    }

    @Test
    void theShardIsNotPartOfTheTag() {
        NextHop relay = NextHop.relay("smart.example:25").sharded("m1", 6);
        assertEquals("[smart.example:25]", DeliveryMetrics.hopName(relay));
        assertEquals("far.example", DeliveryMetrics.hopName(NextHop.direct("far.example")));
    }
}
