package io.mailroot.queue;

import io.mailroot.core.json.RecordJson;

/** A {@link QueuedMessage} as the value of a {@code queue} record: compact JSON, nulls left out. */
public final class QueueCodec {

    private static final RecordJson<QueuedMessage> JSON = RecordJson.nonNull(QueuedMessage.class, "queue record");

    private QueueCodec() {
    }

    public static byte[] encode(QueuedMessage message) {
        return JSON.encode(message);
    }

    public static QueuedMessage decode(byte[] json) {
        return JSON.decode(json);
    }
}
