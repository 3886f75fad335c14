package io.mailroot.core.control;

import io.mailroot.core.json.RecordJson;
import org.apache.kafka.clients.producer.ProducerRecord;

/** A {@link ControlAction} as a record of the compacted {@code control} topic: key {@link ControlAction#key()}, value JSON. */
public final class ControlCodec {

    private static final RecordJson<ControlAction> JSON = RecordJson.nonDefault(ControlAction.class, "control action");

    private ControlCodec() {
    }

    public static byte[] encode(ControlAction action) {
        return JSON.encode(action);
    }

    public static ControlAction decode(byte[] json) {
        return JSON.decode(json);
    }

    public static ProducerRecord<String, byte[]> toRecord(String topic, ControlAction action) {
        return new ProducerRecord<>(topic, action.key(), encode(action));
    }
}
