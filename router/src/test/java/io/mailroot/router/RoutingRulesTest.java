package io.mailroot.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.NextHop;
import io.mailroot.core.message.Outcome;
import io.mailroot.core.message.Recipient;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RoutingRulesTest {

    @TempDir
    Path dir;

    private RoutingRules rules(String delivery) {
        MailrootConfig config = ConfigLoader.parse("fqdn: relay.test\nlocalDomains: [local.test]\ndelivery:\n"
                + "  retryIntervals: [1s]\n" + delivery, dir);
        return RoutingRules.from(config);
    }

    private static Envelope message(String... recipients) {
        return Envelope.received("M1", "alice@sender.test",
                Arrays.stream(recipients).map(Recipient::of).toList(), Instant.EPOCH);
    }

    private static List<String> addresses(List<Recipient> rs) {
        return rs.stream().map(Recipient::address).toList();
    }

    @Test
    void splitsLocalFromRemoteAndGroupsRemoteByDomain() {
        RoutingPlan plan = rules("").plan(message("bob@local.test", "c@remote.test", "d@other.test", "e@Remote.Test"));

        assertEquals(List.of("bob@local.test"), addresses(plan.local()));
        assertEquals(List.of(NextHop.direct("remote.test"), NextHop.direct("other.test")), List.copyOf(plan.remote().keySet()));
        assertEquals(List.of("c@remote.test", "e@Remote.Test"), addresses(plan.remote().get(NextHop.direct("remote.test"))));
        assertEquals(List.of("d@other.test"), addresses(plan.remote().get(NextHop.direct("other.test"))));
        assertTrue(plan.undeliverable().isEmpty());
    }

    @Test
    void routeDomainSendsToItsRelayAndWildcardsCoverSubdomains() {
        RoutingRules rules = rules("  routeDomains: {route.test: \"relay.route.test:2526\", \"*.wild.test\": \"wild-relay.test\"}\n");
        RoutingPlan plan = rules.plan(message("a@route.test", "b@deep.sub.wild.test", "c@wild.test", "d@elsewhere.test"));

        assertEquals(List.of(
                NextHop.relay("relay.route.test:2526"),
                NextHop.relay("wild-relay.test"),
                NextHop.direct("wild.test"),
                NextHop.direct("elsewhere.test")), List.copyOf(plan.remote().keySet()));
        assertEquals("[relay.route.test:2526]", plan.remote().keySet().iterator().next().key());
    }

    @Test
    void smartHostTakesEveryRemoteRecipientButRouteDomainsAndLocalComeFirst() {
        RoutingRules rules = rules("  smartHost: smart.test:2525\n  routeDomains: {route.test: relay.test}\n");
        RoutingPlan plan = rules.plan(message("a@far.test", "b@route.test", "c@local.test"));

        assertEquals(Set.of(NextHop.relay("smart.test:2525"), NextHop.relay("relay.test")), plan.remote().keySet());
        assertEquals(List.of("c@local.test"), addresses(plan.local()));
    }

    @Test
    void recipientsOfManyDomainsThroughOneRelayShareOneHop() {
        RoutingRules rules = rules("  smartHost: smart.test:2525\n"
                + "  routeDomains: {route.test: \"smart.test:2525\", other.test: relay.test}\n");
        RoutingPlan plan = rules.plan(message("a@far.test", "b@near.test", "c@route.test", "d@other.test", "e@far.test"));

        assertEquals(List.of(NextHop.relay("smart.test:2525"), NextHop.relay("relay.test")),
                List.copyOf(plan.remote().keySet()), "a route domain on the smart host joins the smart host's record");
        assertEquals(List.of("c@route.test", "a@far.test", "b@near.test", "e@far.test"),
                addresses(plan.remote().get(NextHop.relay("smart.test:2525"))));
    }

    @Test
    void directBeforeTheSmartHostStaysOneHopPerDomain() {
        RoutingRules rules = rules("  smartHost: smart.test\n  attemptDirectBeforeSmartHost: true\n");
        RoutingPlan plan = rules.plan(message("a@far.test", "b@near.test", "c@far.test"));

        assertEquals(List.of(new NextHop("far.test", null, "smart.test"), new NextHop("near.test", null, "smart.test")),
                List.copyOf(plan.remote().keySet()));
        assertEquals(List.of("a@far.test", "c@far.test"),
                addresses(plan.remote().get(new NextHop("far.test", null, "smart.test"))));
    }

    @Test
    void attemptDirectBeforeSmartHostMakesTheSmartHostTheFallback() {
        RoutingRules rules = rules("  smartHost: smart.test\n  attemptDirectBeforeSmartHost: true\n");
        NextHop hop = rules.plan(message("a@far.test")).remote().keySet().iterator().next();

        assertEquals(new NextHop("far.test", null, "smart.test"), hop);
        assertEquals("far.test", hop.key());
    }

    @Test
    void recipientWithoutDomainIsUndeliverableWithBadSyntax() {
        RoutingPlan plan = rules("").plan(message("nodomain", "a@far.test"));

        assertEquals(1, plan.undeliverable().size());
        Recipient bad = plan.undeliverable().get(0);
        assertEquals("nodomain", bad.address());
        assertEquals(Outcome.Action.FAILED, bad.outcome().action());
        assertEquals("5.1.3", bad.outcome().status());
        assertEquals(List.of(NextHop.direct("far.test")), List.copyOf(plan.remote().keySet()));
    }

    @Test
    void theSameRecipientTwiceIsRoutedOnce() {
        RoutingPlan plan = rules("").plan(message("a@far.test", "a@FAR.test", "b@local.test", "b@local.test"));

        assertEquals(List.of("a@far.test"), addresses(plan.remote().get(NextHop.direct("far.test"))));
        assertEquals(List.of("b@local.test"), addresses(plan.local()));
    }

    @Test
    void eachRuleSeesOnlyWhatEarlierRulesLeft() {
        RoutingRule claimsAll = (m, pending) -> pending.stream()
                .map(r -> new RoutingRule.Routed(r, new Destination.Local())).toList();
        RoutingRule mustSeeNothing = (m, pending) -> {
            throw new AssertionError("asked about " + pending);
        };
        RoutingPlan plan = new RoutingRules(List.of(claimsAll, mustSeeNothing)).plan(message("a@x.test"));

        assertEquals(List.of("a@x.test"), addresses(plan.local()));
        assertEquals(Map.of(), plan.remote());
    }

    @Test
    void aRecipientNoRuleClaimsIsAnError() {
        RoutingRules none = new RoutingRules(List.of(new LocalDomainRule(
                ConfigLoader.parse("fqdn: relay.test\nlocalDomains: [local.test]\n", dir))));

        assertThrows(IllegalStateException.class, () -> none.plan(message("a@far.test")));
    }
}
