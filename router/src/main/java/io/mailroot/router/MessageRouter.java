package io.mailroot.router;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.kafka.LocalRecord;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.NextHop;
import io.mailroot.core.message.Recipient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Turns one inbound message into the records it becomes: one for the local recipients, one per next hop (on the
 * message's shard of that hop), one for recipients that cannot be routed. The message bytes are shared by all of them and never changed.
 */
public final class MessageRouter {

    private final RoutingRules rules;
    private final Topics topics;
    private final String masqueradeDomain;
    private final Predicate<String> localDomain;
    private final HopShards shards;

    /** Every hop on one shard. @param localDomain whether a domain is one of ours: only senders in those are masqueraded */
    public MessageRouter(RoutingRules rules, Topics topics, String masqueradeDomain, Predicate<String> localDomain) {
        this(rules, topics, masqueradeDomain, localDomain, HopShards.none());
    }

    public MessageRouter(RoutingRules rules, Topics topics, String masqueradeDomain, Predicate<String> localDomain,
                         HopShards shards) {
        this.rules = rules;
        this.topics = topics;
        this.masqueradeDomain = masqueradeDomain;
        this.localDomain = localDomain;
        this.shards = shards;
    }

    public static MessageRouter from(MailrootConfig config, Topics topics) {
        return new MessageRouter(RoutingRules.from(config), topics, config.delivery().masqueradeDomain(), config::isLocal,
                HopShards.from(config));
    }

    public List<ProducerRecord<String, byte[]>> route(MailRecord mail) {
        Envelope envelope = mail.envelope();
        RoutingPlan plan = rules.plan(envelope);
        List<ProducerRecord<String, byte[]>> out = new ArrayList<>(plan.remote().size() + 2);
        if (!plan.local().isEmpty()) {
            out.add(LocalRecord.of(topics, envelope, plan.local(), mail.message()));
        }
        // Masquerading is for what the outside world sees; local mailboxes keep the real sender.
        Envelope outgoing = envelope.withSender(masquerade(envelope.sender()));
        for (Map.Entry<NextHop, List<Recipient>> group : plan.remote().entrySet()) {
            NextHop hop = shards.place(group.getKey(), envelope.id());
            Envelope e = outgoing.withNextHop(hop).withRecipients(group.getValue());
            out.add(EnvelopeCodec.toRecord(topics.outbound(), hop.key(), new MailRecord(e, mail.message())));
        }
        if (!plan.undeliverable().isEmpty()) {
            out.add(EnvelopeCodec.toRecord(topics.dsn(), envelope.id(),
                    new MailRecord(envelope.withRecipients(plan.undeliverable()), mail.message())));
        }
        return out;
    }

    /**
     * IIS masquerade domain: a sender in one of our local domains gets the masquerade domain instead. Any other
     * sender (mail relayed for another domain) keeps its address, or its delay and failure reports could not reach
     * it; the null sender stays null so reports never loop.
     */
    String masquerade(String sender) {
        int at = sender.lastIndexOf('@');
        if (masqueradeDomain == null || at < 0 || !localDomain.test(sender.substring(at + 1))) {
            return sender;
        }
        return sender.substring(0, at) + "@" + masqueradeDomain;
    }
}
