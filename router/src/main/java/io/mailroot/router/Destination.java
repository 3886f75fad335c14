package io.mailroot.router;

import io.mailroot.core.message.NextHop;
import io.mailroot.core.message.Outcome;

/** Where a routing rule sends a recipient. */
public sealed interface Destination {

    /** A local domain: the {@code local} topic and from there the Drop folder. */
    record Local() implements Destination {
    }

    /** Another host: the {@code outbound} topic, keyed by the next hop and the message's shard of it, so one deliverer owns a shard. */
    record Remote(NextHop hop) implements Destination {
    }

    /** Cannot be routed at all: straight to the {@code dsn} topic with this outcome. */
    record Undeliverable(Outcome outcome) implements Destination {
    }
}
