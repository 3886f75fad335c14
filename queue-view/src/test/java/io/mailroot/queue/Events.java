package io.mailroot.queue;

import io.mailroot.core.event.MessageEvent;
import io.mailroot.core.event.MessageEvent.Type;
import java.time.Instant;
import java.util.List;

/** Events as the roles write them, for tests. */
final class Events {

    static final Instant T0 = Instant.parse("2026-12-03T10:00:00Z");

    private Events() {
    }

    static MessageEvent received(String id, String sender, long size, Instant at, String... rcpts) {
        return new MessageEvent(id, Type.RECEIVED, at, "node-a", "ingress", sender, List.of(rcpts), size,
                "192.0.2.1", null, null, null, 0, null, null, null);
    }

    static MessageEvent routed(String id, String hop, Instant at, String... rcpts) {
        return new MessageEvent(id, Type.ROUTED, at, "node-a", "router", null, List.of(rcpts), 0, null, hop, null,
                null, 0, null, null, null);
    }

    static MessageEvent deferred(String id, String hop, Instant at, String reply, int attempt, Instant due, String... rcpts) {
        return new MessageEvent(id, Type.DEFERRED, at, "node-a", "deliverer", null, List.of(rcpts), 0, null, hop,
                "mx.example.net [192.0.2.7]", reply, attempt, due, null, null);
    }

    static MessageEvent of(Type type, String id, Instant at, String... rcpts) {
        return new MessageEvent(id, type, at, "node-a", type.ordinal() >= Type.HELD.ordinal() ? "operator" : "deliverer",
                null, List.of(rcpts), 0, null, null, null, type == Type.FAILED ? "550 5.1.1 no such user" : null, 0, null,
                null, null);
    }
}
